"""``mes serve`` and ``mes keys ...``, registered through the ``mes.commands`` entry points.

Every command that touches the database brings its schema up to date first
(Alembic ``upgrade head``), so they all work on an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
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


def _worker_count(text: str) -> int:
    """``--workers`` value: a whole number of at least 1.

    Examples
    --------
    >>> _worker_count("4")
    4
    """
    try:
        workers = int(text)
    except ValueError:
        workers = 0
    if workers < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of worker processes; give a whole number >= 1"
        )
    return workers


def register_serve(subparsers: Any) -> None:
    """Add ``mes serve``: run the service with uvicorn.

    Examples
    --------
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> register_serve(sub)
    >>> p.parse_args(["serve", "--port", "9000"]).port
    9000
    >>> p.parse_args(["serve", "--workers", "2"]).workers
    2
    """
    parser = subparsers.add_parser(
        "serve",
        help="run the REST API (uvicorn)",
        description="Run the MES service. Settings come from MES_* environment variables "
        "(MES_DATABASE_URL: default SQLite file mes.sqlite3 in the working directory; "
        "MES_REDIS_URL: a Redis that the workers share the rate-limit counts in). "
        "The database schema is brought up to date first.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers",
        type=_worker_count,
        default=1,
        help="worker processes (default 1); each runs the app (api.app:create_app) with the "
        "same MES_* settings. Use PostgreSQL for more than one, and MES_REDIS_URL to share "
        "the rate limit between them",
    )
    parser.add_argument("--database-url", help="overrides MES_DATABASE_URL")
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    parser.set_defaults(handler=_serve)


def _shown(name: str, value: Any) -> str:
    """A setting's value for an error message, without secrets or URL passwords.

    Examples
    --------
    >>> _shown("MES_REDIS_URL", "redis://:pw@cache:6379")
    "'redis://:***@cache:6379'"
    >>> _shown("MES_SECRET_KEY", "s3cret")
    "'***'"
    """
    from api.auth.rate_limit import redacted_url

    if "SECRET" in name:
        return repr("***")
    if isinstance(value, str) and "URL" in name:
        try:
            return repr(redacted_url(value))
        except ValueError:
            return repr("***")
    return repr(value)


def _serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from api.db.engine import upgrade_schema
    from api.settings import Settings

    try:  # every worker reads the same settings: refuse bad ones here, once, readably
        url = _database_url(args)
        settings = Settings(database_url=url)
    except ValidationError as exc:
        for error in exc.errors():
            name = "MES_" + "_".join(str(part) for part in error["loc"]).upper()
            print(
                f"mes serve: {name}={_shown(name, error.get('input'))}: {error['msg']} "
                "(see docs/operations.md and api/settings.py)",
                file=sys.stderr,
            )
        return 2
    if args.workers > 1:
        if settings.is_sqlite:
            print(
                f"mes serve: warning: {args.workers} workers on SQLite wait on its single "
                "write lock; set MES_DATABASE_URL=postgresql+asyncpg://... for several workers",
                file=sys.stderr,
            )
        if settings.rate_limit_per_minute > 0 and not settings.redis_url:
            print(
                f"mes serve: warning: without MES_REDIS_URL each of the {args.workers} workers "
                f"counts the rate limit on its own (a key may make up to {args.workers} x "
                f"{settings.rate_limit_per_minute} requests per minute); set "
                "MES_REDIS_URL=redis://host:6379/0 to share one count",
                file=sys.stderr,
            )
    upgrade_schema(url)
    return _run_uvicorn(args, url)


def _run_uvicorn(args: argparse.Namespace, url: str) -> int:
    """Run the app with uvicorn on an up-to-date database (``mes serve`` and ``mes demo``)."""
    import os

    import uvicorn

    taken = _address_in_use(args.host, args.port)
    if taken:
        # uvicorn would log the bind error, shut down and exit 0: say it plainly, as a failure.
        print(
            f"mes {args.command}: {args.host}:{args.port} is already in use ({taken}): is "
            "another `mes serve` or `mes demo` running? Stop it, or pass --port with a free "
            "port.",
            file=sys.stderr,
        )
        return 2
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


def _address_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, or None when it can (checked just before
    the server binds it)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None  # let uvicorn report an unknown host in its own words
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


# ----- mes keys -----------------------------------------------------------------------------


def register_keys(subparsers: Any) -> None:
    """Add ``mes keys create | list | revoke | rotate``.

    Examples
    --------
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> register_keys(sub)
    >>> p.parse_args(["keys", "create", "--tenant", "t", "--scopes", "admin"]).scopes
    'admin'
    >>> p.parse_args(["keys", "rotate", "0123456789ab", "--grace", "1h"]).grace
    '1h'
    """
    parser = subparsers.add_parser(
        "keys",
        help="create, list, revoke and rotate API keys",
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

    rotate = keys.add_parser(
        "rotate",
        help="replace a key with a new one (prints the new key alone on one line)",
        description="Create a new key with the old key's tenant and scopes and print it once "
        "on stdout; the old key stops working at once, or after --grace. Both changes are one "
        "transaction.",
    )
    rotate.add_argument("key", help="the old key's prefix (see `mes keys list`) or the key")
    rotate.add_argument(
        "--grace",
        default="0",
        help="how long the old key keeps working, so that clients can switch: 90s, 15m, 1h, "
        "2d (at most 30d); default 0, it stops at once",
    )
    rotate.set_defaults(handler=_keys_rotate)


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
    now = dt.datetime.now(dt.UTC)
    for k in keys:
        state = "active"
        if k.revoked_at is not None:
            ends = k.revoked_at if k.revoked_at.tzinfo else k.revoked_at.replace(tzinfo=dt.UTC)
            state = "revoked" if ends <= now else "grace"
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


def _keys_rotate(args: argparse.Namespace) -> int:
    from api.auth.keys import parse_duration, rotate_key

    try:
        grace = parse_duration(args.grace)
    except ValueError as exc:
        print(f"mes keys rotate: --grace {exc}", file=sys.stderr)
        return 2
    try:
        key, old = _run_in_session(_database_url(args), lambda s: rotate_key(s, args.key, grace))
    except LookupError as exc:
        print(f"mes keys rotate: {exc.args[0]}", file=sys.stderr)
        return 1
    when = "now" if not grace else f"at {old.revoked_at:%Y-%m-%d %H:%M:%S} UTC"
    print(
        f"rotated {old.prefix} (tenant {old.tenant}, scopes {','.join(old.scopes)}): "
        f"the old key stops working {when}",
        file=sys.stderr,
    )
    print(key)
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
