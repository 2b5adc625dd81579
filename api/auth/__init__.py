"""API keys, the tenant they belong to, scopes and the per-key rate limit."""

from api.auth.principal import SCOPES, Principal

__all__ = ["SCOPES", "Principal"]
