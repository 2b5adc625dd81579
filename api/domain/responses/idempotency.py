"""``Idempotency-Key``: the same key and batch replay the first result; another batch is 409.

Two requests are "the same" when they would store the same rows in the same survey with the
same ``on_conflict``: JSON re-serialised (other key order, spacing, ``3.0`` for ``3``) or the
same data sent as CSV is the same request; the bytes are not compared.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.db.models import IdempotencyRecord
from api.errors import ProblemError

__all__ = ["RetryKey", "StoredResult", "batch_fingerprint", "find_replay", "remember"]


@dataclass(frozen=True)
class RetryKey:
    """A request's ``Idempotency-Key`` and the fingerprint of what it asks."""

    key: str
    fingerprint: str


@dataclass(frozen=True)
class StoredResult:
    """The first answer given to a key."""

    status_code: int
    body: Any


def batch_fingerprint(survey_id: uuid.UUID, replace: bool, rows: Iterable[Sequence[Any]]) -> str:
    """SHA-256 over what makes two submissions 'the same': the survey, ``on_conflict`` and
    each row's texts as stored (respondent, answers, attributes; packed answers follow
    from them), each part length-prefixed so that no two row lists collide by concatenation.
    """
    digest = hashlib.sha256(f"{survey_id}|{replace}|".encode())
    for row in rows:
        for part in row:
            if isinstance(part, str):
                encoded = part.encode()
                digest.update(len(encoded).to_bytes(8, "big"))
                digest.update(encoded)
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
