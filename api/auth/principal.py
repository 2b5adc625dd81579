"""Who is calling: the tenant and scopes of an authenticated API key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

__all__ = ["ADMIN", "SCOPES", "Principal"]

ADMIN = "admin"
SCOPES = ("surveys:write", "responses:write", "responses:read", "reports:read", ADMIN)
"""Every scope a key can hold; ``admin`` grants all the others."""


@dataclass(frozen=True)
class Principal:
    """The caller of a request.

    Attributes
    ----------
    tenant_id : uuid.UUID
    tenant_name : str
    key_id : uuid.UUID
    scopes : frozenset of str
    """

    tenant_id: uuid.UUID
    tenant_name: str
    key_id: uuid.UUID
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        """True when the key holds ``scope`` (or ``admin``).

        Examples
        --------
        >>> import uuid
        >>> p = Principal(uuid.uuid4(), "t", uuid.uuid4(), frozenset({"admin"}))
        >>> p.has("reports:read")
        True
        """
        return scope in self.scopes or ADMIN in self.scopes
