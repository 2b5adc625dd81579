"""Create, find, list and revoke API keys; only a key's SHA-256 hash is stored.

A key reads ``mes_<prefix>_<secret>``: the prefix (public, stored in clear)
finds the row, and the SHA-256 of the whole key is compared in constant time
with the stored hash. Keys carry 256 bits of randomness, so a fast hash is
enough (no password stretching is needed for a secret nobody chose).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.principal import SCOPES, Principal
from api.db.models import ApiKey, Tenant
from api.db.raw import Driver, DriverStatement

__all__ = [
    "KeyInfo",
    "authenticate_key",
    "create_key",
    "hash_key",
    "key_prefix",
    "list_keys",
    "parse_duration",
    "parse_scopes",
    "revoke_key",
    "rotate_key",
]

_KEY_PREFIX = "mes_"
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key.

    Examples
    --------
    >>> len(hash_key("mes_abc_def"))
    64
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_prefix(key: str) -> str | None:
    """The public prefix of a key (what `mes keys list` shows), None for no key's shape.

    Examples
    --------
    >>> key_prefix("mes_0123456789ab_s3cret")
    '0123456789ab'
    >>> key_prefix("not-a-key") is None
    True
    """
    if not key.startswith(_KEY_PREFIX):
        return None
    return key[len(_KEY_PREFIX) :].split("_", 1)[0] or None


def _prefix_given(key_or_prefix: str) -> str:
    """The prefix of a whole key, or the text itself when it is a prefix (as listed)."""
    text = key_or_prefix.strip()
    return key_prefix(text) or text


def parse_scopes(text: str | Iterable[str]) -> list[str]:
    """Split and check a comma-separated scope list.

    Raises
    ------
    ValueError
        An unknown scope (the message lists the known ones) or no scope at all.

    Examples
    --------
    >>> parse_scopes("reports:read, surveys:write")
    ['reports:read', 'surveys:write']
    """
    parts = text.split(",") if isinstance(text, str) else list(text)
    scopes = sorted({p.strip() for p in parts if p.strip()})
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValueError(
            f"unknown scope(s) {', '.join(unknown)}; known scopes: {', '.join(SCOPES)}"
        )
    if not scopes:
        raise ValueError(f"give at least one scope; known scopes: {', '.join(SCOPES)}")
    return scopes


@dataclass(frozen=True)
class KeyInfo:
    """A stored key as listed (never the key itself)."""

    id: uuid.UUID
    tenant: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None


async def create_key(session: AsyncSession, tenant_name: str, scopes: Sequence[str]) -> str:
    """Create a key for a tenant (created when new) and return the key, shown once.

    Parameters
    ----------
    session : AsyncSession
        The caller commits.
    tenant_name : str
        Name of the tenant; created if it does not exist.
    scopes : sequence of str
        Checked with :func:`parse_scopes`.

    Returns
    -------
    str
        The new key. Only its hash is stored: it cannot be shown again.
    """
    scopes = parse_scopes(scopes)
    tenant_name = tenant_name.strip()
    if not tenant_name:
        raise ValueError("the tenant name is empty; give --tenant NAME")
    tenant = await session.scalar(select(Tenant).where(Tenant.name == tenant_name))
    if tenant is None:
        tenant = Tenant(name=tenant_name)
        session.add(tenant)
        await session.flush()
    prefix = secrets.token_hex(6)
    key = f"{_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    session.add(ApiKey(tenant_id=tenant.id, prefix=prefix, key_hash=hash_key(key), scopes=scopes))
    await session.flush()
    return key


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _revoked(revoked_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """True once ``revoked_at`` has passed (a rotated key's grace period ends then)."""
    return revoked_at is not None and _aware(revoked_at) <= (now or dt.datetime.now(dt.UTC))


_KEYS = ApiKey.__table__.c
_KEY_AND_TENANT = (
    select(_KEYS.id, _KEYS.tenant_id, _KEYS.key_hash, _KEYS.scopes, _KEYS.revoked_at, Tenant.name)
    .join(Tenant, Tenant.id == _KEYS.tenant_id)
    .where(_KEYS.prefix == bindparam("prefix"))
)
"""A key's row and its tenant's name, by prefix: every request's key lookup, so on table
columns rather than the ORM entity and built once (building and loading the ORM
statement cost about as much as running it)."""


_KEY_AND_TENANT_ON_DRIVER = DriverStatement(_KEY_AND_TENANT)


async def _key_and_tenant(db: AsyncSession | Driver, prefix: str) -> Any:
    """The key's row (with its tenant's ``name``) of a prefix, or None.

    On a borrowed driver (every request's key check) one statement in no transaction;
    elsewhere (``mes keys rotate``) in the caller's session and transaction.
    """
    if isinstance(db, Driver):
        rows = await _KEY_AND_TENANT_ON_DRIVER.rows(db, {"prefix": prefix})
        return rows[0] if rows else None
    return (await db.execute(_KEY_AND_TENANT, {"prefix": prefix})).first()


async def authenticate_key(db: AsyncSession | Driver, key: str) -> Principal | None:
    """The principal of a valid, unrevoked key; None otherwise.

    The hash comparison takes the same time whether or not the prefix exists.
    """
    prefix = key_prefix(key)
    row = await _key_and_tenant(db, prefix) if prefix else None
    matches = hmac.compare_digest(hash_key(key), row.key_hash if row else _DUMMY_HASH)
    if row is None or not matches or _revoked(row.revoked_at):
        return None
    return Principal(
        tenant_id=row.tenant_id,
        tenant_name=row.name,
        key_id=row.id,
        scopes=frozenset(row.scopes),
    )


async def list_keys(session: AsyncSession, tenant_name: str | None = None) -> list[KeyInfo]:
    """Stored keys (prefix, scopes, dates), optionally of one tenant."""
    query = select(ApiKey, Tenant.name).join(Tenant, Tenant.id == ApiKey.tenant_id)
    if tenant_name:
        query = query.where(Tenant.name == tenant_name)
    rows = (await session.execute(query.order_by(Tenant.name, ApiKey.created_at))).all()
    return [
        KeyInfo(k.id, name, k.prefix, list(k.scopes), k.created_at, k.revoked_at)
        for k, name in rows
    ]


async def revoke_key(session: AsyncSession, key_or_prefix: str) -> bool:
    """Revoke a key given by its prefix (as listed) or the whole key; False if unknown."""
    prefix = _prefix_given(key_or_prefix)
    api_key = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if api_key is None:
        return False
    now = dt.datetime.now(dt.UTC)
    if not _revoked(api_key.revoked_at, now):  # a key in its grace period stops now too
        api_key.revoked_at = now
    await session.flush()
    return True


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_GRACE = dt.timedelta(days=30)


def parse_duration(text: str) -> dt.timedelta:
    """``"90s"``, ``"15m"``, ``"1h"``, ``"2d"`` or ``"0"`` as a duration (at most 30 days).

    Raises
    ------
    ValueError
        Another shape, or more than 30 days (the message gives the accepted shapes).

    Examples
    --------
    >>> parse_duration("1h")
    datetime.timedelta(seconds=3600)
    >>> parse_duration("0")
    datetime.timedelta(0)
    """
    raw = text.strip().lower()
    number, unit = (raw[:-1], raw[-1]) if raw and raw[-1] in _UNITS else (raw, "s")
    if not number.isdigit():
        raise ValueError(
            f"{text!r} is not a duration; give a whole number with a unit s, m, h or d "
            "(e.g. 90s, 15m, 1h, 2d) or 0"
        )
    duration = dt.timedelta(seconds=int(number) * _UNITS[unit])
    if duration > MAX_GRACE:
        raise ValueError(f"{text!r} is longer than the longest grace period, 30d")
    return duration


async def rotate_key(
    session: AsyncSession, key_or_prefix: str, grace: dt.timedelta = dt.timedelta(0)
) -> tuple[str, KeyInfo]:
    """Replace a key with a new one of the same tenant and scopes.

    Parameters
    ----------
    session : AsyncSession
        The caller commits (both changes land together or not at all).
    key_or_prefix : str
        The old key's prefix (as listed) or the whole key.
    grace : datetime.timedelta
        How long the old key keeps working; zero (the default) stops it at once.

    Returns
    -------
    tuple of (str, KeyInfo)
        The new key (shown once) and the old key as it now stands (``revoked_at``
        is when it stops working).

    Raises
    ------
    LookupError
        No key has that prefix, or the key is already revoked (the message says which).
    """
    prefix = _prefix_given(key_or_prefix)
    row = await _key_and_tenant(session, prefix)
    if row is None:
        raise LookupError(f"no key with prefix {prefix!r} (see mes keys list)")
    tenant_name = row.name
    old = await session.get_one(ApiKey, row.id)  # the entity: its revocation is changed below
    now = dt.datetime.now(dt.UTC)
    if _revoked(old.revoked_at, now):
        raise LookupError(
            f"key {prefix} is revoked; create a new one with "
            f"mes keys create --tenant {tenant_name!r} --scopes {','.join(old.scopes)}"
        )
    new_key = await create_key(session, tenant_name, list(old.scopes))
    stops = now + grace
    if old.revoked_at is None or _aware(old.revoked_at) > stops:
        old.revoked_at = stops
    await session.flush()
    info = KeyInfo(
        old.id, tenant_name, old.prefix, list(old.scopes), old.created_at, old.revoked_at
    )
    return new_key, info
