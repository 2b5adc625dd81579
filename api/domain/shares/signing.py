"""Share-link tokens: the share id and expiry, signed with HMAC-SHA256.

A token is ``<payload>.<signature>``: the payload is the base64url of the
share's 16-byte id and its expiry (seconds since the epoch, 8 bytes big-endian);
the signature is the base64url HMAC-SHA256 of the payload under the service's
signing key. Signatures are compared in constant time.

The key is ``MES_SECRET_KEY`` when set; otherwise one is generated on first
use and stored in the ``service_secret`` table, so that restarts (and every
worker process) keep links valid.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.db.models import ServiceSecret
from api.settings import Settings

__all__ = ["SECRET_NAME", "SignedShare", "sign", "signing_key", "verify"]

SECRET_NAME = "share-link-signing-key"
_CONTEXT = b"mes-share-v1:"


@dataclass(frozen=True)
class SignedShare:
    """What a valid token names."""

    share_id: uuid.UUID
    expires_at: dt.datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, _CONTEXT + payload.encode("ascii"), hashlib.sha256).digest())


def sign(key: bytes, share_id: uuid.UUID, expires_at: dt.datetime) -> str:
    """The token of a share.

    Examples
    --------
    >>> import datetime as dt, uuid
    >>> when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    >>> token = sign(b"k", uuid.UUID(int=1), when)
    >>> verify(b"k", token) == SignedShare(uuid.UUID(int=1), when)
    True
    >>> verify(b"other key", token) is None
    True
    """
    seconds = int(expires_at.timestamp())
    payload = _b64(share_id.bytes + seconds.to_bytes(8, "big"))
    return f"{payload}.{_signature(key, payload)}"


def verify(key: bytes, token: str) -> SignedShare | None:
    """The share a token names, or None when it is malformed or its signature is wrong."""
    payload, dot, signature = token.partition(".")
    if not dot or len(token) > 200 or not token.isascii():
        return None
    expected = _signature(key, payload)
    if not hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode("ascii")):
        return None
    try:
        raw = _unb64(payload)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 24:
        return None
    seconds = int.from_bytes(raw[16:], "big")
    return SignedShare(uuid.UUID(bytes=raw[:16]), dt.datetime.fromtimestamp(seconds, dt.UTC))


async def signing_key(session: AsyncSession, settings: Settings) -> bytes:
    """``MES_SECRET_KEY``, else the generated key stored in the database (made on first use).

    ``session`` should be a session of its own: a newly generated key is committed
    at once, whatever becomes of the request that needed it.
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value().encode("utf-8")
    query = select(ServiceSecret.value).where(ServiceSecret.name == SECRET_NAME)
    value = await session.scalar(query)
    if value is None:
        candidate = secrets.token_urlsafe(48)
        session.add(ServiceSecret(name=SECRET_NAME, value=candidate))
        try:
            await session.commit()
            value = candidate
        except IntegrityError:  # another process made it first: use theirs
            await session.rollback()
            value = await session.scalar(query)
    if value is None:  # pragma: no cover - the row exists after either branch
        raise RuntimeError("the share-link signing key could not be stored")
    return value.encode("utf-8")
