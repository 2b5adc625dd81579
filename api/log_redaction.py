"""What never reaches a log: keys, Authorization values, share tokens, respondent ids,
answers and attribute values, at any level.

Secrets have a recognisable shape: API keys (``mes_<prefix>_<secret>``), the value of an
Authorization header, share-link tokens (``/shared/<token>``) and respondent ids in paths
(``/responses/<respondent>``). :func:`redact` blanks them in every log record of the process
(installed by :func:`install_log_redaction`). Answers and attribute values have no shape, so
they are kept out at the source instead: SQL parameters are hidden by the engine
(``hide_parameters=True``) and exception messages, which can quote request data (a database
error quotes the row it refused), are left out of logged tracebacks (:func:`safe_traceback`).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from typing import Any

__all__ = ["install_log_redaction", "redact", "safe_traceback"]

_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # ('authorization', 'Bearer ...') or {"authorization": "..."} in a repr; b'...' too.
    (re.compile(r"(?i)(authorization['\"]?\s*[:=,]\s*b?['\"])[^'\"]*"), r"\1[redacted]"),
    (re.compile(r"(?i)(authorization\s*[:=]\s*)[^'\"\r\n]+"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(bearer|basic)(\s+|%20|\+)[^\s'\",;&]+"), r"\1\2[redacted]"),
    (re.compile(r"\b(mes_[0-9a-f]{6,32})_[A-Za-z0-9_\-]+"), r"\1_[redacted]"),
    (re.compile(r"(/shared/)[^\s?#'\"]+"), r"\1[redacted]"),
    # A password in a URL (a database or Redis URL in a connection error).
    # (left alone when already masked, as api/auth/rate_limit.py masks Redis URLs: ``:***@``)
    (re.compile(r"(\w://[^/\s:@'\"]*:)(?!\*+@)[^@\s/'\"]+@"), r"\1[redacted]@"),
    (re.compile(r"(/responses/)(?!\[redacted\])[^\s?#'\"]+"), r"\1[redacted]"),
)

_SAFE_MESSAGE_TYPES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    ImportError,
    TypeError,
    AttributeError,
    NameError,
    NotImplementedError,
    RecursionError,
    MemoryError,
)
"""Exceptions whose message is about the machine or the code (a refused connection, a
missing module, an unhashable type), not request data: their message is kept in logged
tracebacks (redacted like any log text)."""


def redact(text: str) -> str:
    """Blank keys, Authorization values, share tokens and respondent ids in ``text``.

    Examples
    --------
    >>> redact('GET /shared/eyJhYmMi.sig HTTP/1.1')
    'GET /shared/[redacted] HTTP/1.1'
    >>> redact("Authorization: Bearer mes_0123456789ab_SECRETsecret")
    'Authorization: [redacted]'
    >>> redact("key mes_0123456789ab_SECRETsecret")
    'key mes_0123456789ab_[redacted]'
    >>> redact("postgresql+asyncpg://mes:hunter2@db:5432/mes")
    'postgresql+asyncpg://mes:[redacted]@db:5432/mes'
    >>> redact("redis://:***@cache:6379/0")
    'redis://:***@cache:6379/0'
    >>> redact("DELETE /v1/surveys/1/responses/r%2F7 HTTP/1.1")
    'DELETE /v1/surveys/1/responses/[redacted] HTTP/1.1'
    """
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _describe(exc: BaseException) -> str:
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if isinstance(exc, _SAFE_MESSAGE_TYPES):
        return f"{name}: {redact(str(exc))}"
    statement = getattr(exc, "statement", None)  # sqlalchemy.exc.StatementError
    if isinstance(statement, str):
        orig = getattr(exc, "orig", None)
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        cause = "" if orig is None else f" from {type(orig).__module__}.{type(orig).__name__}"
        return (
            f"{name}{cause}{f' (SQLSTATE {code})' if code else ''} "
            f"(message withheld; it may quote row values) [SQL: {statement[:2000]}]"
        )
    return f"{name} (message withheld: it may quote request data)"


def safe_traceback(exc: BaseException) -> str:
    """A traceback with every frame but without exception messages (which can quote
    answers, attribute values or respondent ids); the chain of causes included.

    Examples
    --------
    >>> respondent = "r-secret"
    >>> try:
    ...     raise ValueError(f"answer 4 of respondent {respondent}")
    ... except ValueError as exc:
    ...     text = safe_traceback(exc)
    >>> "r-secret" in text, "ValueError" in text
    (False, True)
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{_describe(current)}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "\n\nwhich was raised while handling (or directly caused by):\n\n".join(reversed(parts))


_installed = False


def _safe_argument(value: Any) -> Any:
    """A log argument as is, or its redacted text when that differs (a scope, a path)."""
    if value is None or isinstance(value, int | float):
        return value
    text = redact(value) if isinstance(value, str) else redact(str(value))
    if isinstance(value, str) or text != str(value):
        return text
    return value


def install_log_redaction() -> None:
    """Make every log record of this process safe to write.

    A record factory (it wraps the current one) blanks secrets with
    :func:`redact` in the message and in each of its arguments, and replaces an
    attached exception by :func:`safe_traceback`; so it covers uvicorn's access, error and
    ``trace`` (ASGI message) logs, Litestar's and SQLAlchemy's loggers alike,
    whatever handlers or levels are configured. Installing twice is harmless.
    """
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        # Arguments are redacted one by one, not merged into the message: formatters such
        # as uvicorn's access formatter read them (client address, path, status).
        record.msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
        if isinstance(record.args, Mapping):
            record.args = {k: _safe_argument(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_safe_argument(a) for a in record.args)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = safe_traceback(record.exc_info[1])
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(factory)
