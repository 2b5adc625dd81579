"""``Idempotency-Key``: the same key and body replay the first result; another body is 409."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.db.models import IdempotencyRecord
from api.errors import ProblemError

__all__ = ["StoredResult", "find_replay", "remember", "request_fingerprint"]


@dataclass(frozen=True)
class StoredResult:
    """The first answer given to a key."""

    status_code: int
    body: Any


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """SHA-256 over what makes two requests 'the same'."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def find_replay(
    session: AsyncSession, tenant_id: uuid.UUID, key: str, fingerprint: str
) -> StoredResult | None:
    """The stored result for this key, None if new; 409 if the key was used for another request."""
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise ProblemError(
            409,
            f"Idempotency-Key {key!r} was already used with a different request; "
            "send a new key for a new batch",
        )
    return StoredResult(record.status_code, json.loads(record.body))


async def remember(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    key: str,
    fingerprint: str,
    status_code: int,
    body: Any,
) -> None:
    """Store the result in the same transaction as the write it describes."""
    session.add(
        IdempotencyRecord(
            tenant_id=tenant_id,
            key=key,
            request_hash=fingerprint,
            status_code=status_code,
            body=json.dumps(body, default=str),
        )
    )
    try:
        await session.flush()
    except IntegrityError:
        # Another request with the same key committed first; this one is rolled back.
        raise ProblemError(
            409, f"a concurrent request with Idempotency-Key {key!r} is in progress; retry it"
        ) from None
