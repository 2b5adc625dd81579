"""``mes serve`` and ``mes keys ...``, registered through the ``mes.commands`` entry points.

Every command that touches the database brings its schema up to date first
(Alembic ``upgrade head``), so they all work on an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from api.auth.principal import SCOPES

if TYPE_CHECKING:  # imported lazily: `mes --help` should not load SQLAlchemy
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["register_demo", "register_keys", "register_serve"]

T = TypeVar("T")


def _database_url(args: argparse.Namespace) -> str:
    from api.settings import Settings

    return getattr(args, "database_url", None) or Settings().database_url


def _run_in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from api.db.engine import create_engine, upgrade_schema

    upgrade_schema(url)

    async def main() -> T:
        engine = create_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(main())


# ----- mes serve ----------------------------------------------------------------------------


def register_serve(subparsers: Any) -> None:
    """Add ``mes serve``: run the service with uvicorn.

    Examples
    --------
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> register_serve(sub)
    >>> p.parse_args(["serve", "--port", "9000"]).port
    9000
    """
    parser = subparsers.add_parser(
        "serve",
        help="run the REST API (uvicorn)",
        description="Run the MES service. Settings come from MES_* environment variables "
        "(MES_DATABASE_URL: default SQLite file mes.sqlite3 in the working directory). "
        "The database schema is brought up to date first.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--database-url", help="overrides MES_DATABASE_URL")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from api.db.engine import upgrade_schema

    url = _database_url(args)
    upgrade_schema(url)
    return _run_uvicorn(args, url)


def _run_uvicorn(args: argparse.Namespace, url: str) -> int:
    """Run the app with uvicorn on an up-to-date database (``mes serve`` and ``mes demo``)."""
    import os

    import uvicorn

    if args.database_url:
        os.environ["MES_DATABASE_URL"] = url  # the workers read their settings from the env
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
    )
    return 0


# ----- mes keys -----------------------------------------------------------------------------


def register_keys(subparsers: Any) -> None:
    """Add ``mes keys create | list | revoke``.

    Examples
    --------
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> register_keys(sub)
    >>> p.parse_args(["keys", "create", "--tenant", "t", "--scopes", "admin"]).scopes
    'admin'
    """
    parser = subparsers.add_parser(
        "keys",
        help="create, list and revoke API keys",
        description="Manage the API keys of tenants. Keys are shown once, when created.",
    )
    parser.add_argument("--database-url", help="overrides MES_DATABASE_URL")
    keys = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    create = keys.add_parser(
        "create",
        help="create a key (prints it alone on one line)",
        description="Create an API key for a tenant (the tenant is created when new). "
        "The key is printed once on stdout; only its hash is stored.",
    )
    create.add_argument("--tenant", required=True, help="tenant name (a deanery, a trust)")
    create.add_argument(
        "--scopes", required=True, help=f"comma-separated scopes: {','.join(SCOPES)}"
    )
    create.set_defaults(handler=_keys_create)

    listing = keys.add_parser("list", help="list keys (prefix, tenant, scopes, state)")
    listing.add_argument("--tenant", help="only this tenant's keys")
    listing.set_defaults(handler=_keys_list)

    revoke = keys.add_parser("revoke", help="revoke a key by its prefix (see list) or the key")
    revoke.add_argument("key", help="the prefix shown by `mes keys list`, or the key itself")
    revoke.set_defaults(handler=_keys_revoke)


def _keys_create(args: argparse.Namespace) -> int:
    from api.auth.keys import create_key, parse_scopes

    try:
        scopes = parse_scopes(args.scopes)
    except ValueError as exc:
        print(f"mes keys create: {exc}", file=sys.stderr)
        return 2
    if not args.tenant.strip():
        print("mes keys create: the tenant name is empty", file=sys.stderr)
        return 2
    key = _run_in_session(_database_url(args), lambda s: create_key(s, args.tenant, scopes))
    print(key)
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    from api.auth.keys import list_keys

    keys = _run_in_session(_database_url(args), lambda s: list_keys(s, args.tenant))
    if not keys:
        print("no keys", file=sys.stderr)
        return 0
    print(f"{'PREFIX':<14}{'TENANT':<24}{'STATE':<9}{'CREATED':<22}SCOPES")
    for k in keys:
        state = "revoked" if k.revoked_at else "active"
        created = k.created_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{k.prefix:<14}{k.tenant:<24}{state:<9}{created:<22}{','.join(k.scopes)}")
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    from api.auth.keys import revoke_key

    found = _run_in_session(_database_url(args), lambda s: revoke_key(s, args.key))
    if not found:
        print(
            f"mes keys revoke: no key with prefix {args.key!r} (see mes keys list)", file=sys.stderr
        )
        return 1
    print(f"revoked {args.key}", file=sys.stderr)
    return 0


# ----- mes demo -----------------------------------------------------------------------------


def register_demo(subparsers: Any) -> None:
    """Add ``mes demo``: seed a demo tenant with two waves of synthetic data, then serve.

    Examples
    --------
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> register_demo(sub)
    >>> p.parse_args(["demo", "--no-serve"]).no_serve
    True
    """
    parser = subparsers.add_parser(
        "demo",
        help="seed a demo tenant, key, two survey waves and a share link, then serve",
        description="Seed (idempotently) a demo tenant 'demo' with an admin key, two waves "
        "of a few thousand synthetic MES responses across sites, specialties and staff groups "
        "(fixed seed), a synthetic norm table and a share link; print the key and the links; "
        "then run the service like `mes serve`. A new key is printed each run (earlier demo "
        "keys are revoked).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--database-url", help="overrides MES_DATABASE_URL")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    parser.add_argument(
        "--no-serve", action="store_true", help="seed and print the links, then exit"
    )
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from api.demo import describe, seed_demo
    from api.settings import Settings

    url = _database_url(args)
    settings = Settings(database_url=url)
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    base_url = f"http://{host}:{args.port}"
    seed = _run_in_session(url, lambda s: seed_demo(s, settings, base_url))
    print(describe(seed, base_url), flush=True)
    if args.no_serve:
        return 0
    return _run_uvicorn(args, url)
