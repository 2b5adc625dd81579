"""Export the service's OpenAPI document as YAML.

Regenerate the committed ``openapi.yaml`` with::

    python -m api.openapi > openapi.yaml
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

__all__ = ["REGENERATE", "openapi_document", "openapi_yaml"]

REGENERATE = "python -m api.openapi > openapi.yaml"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of :func:`api.app.create_app` as a plain dict.

    No database is touched: the app is built on an in-memory SQLite URL.
    """
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    return app.openapi_schema.to_schema()


def openapi_yaml() -> str:
    """The document as YAML, in a stable order (what ``openapi.yaml`` holds).

    Examples
    --------
    >>> openapi_yaml().startswith("openapi: 3.1.0")
    True
    """
    doc = openapi_document()
    ordered = {"openapi": doc.pop("openapi")}
    ordered.update(doc)
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)


def main() -> int:
    """Print the YAML document on stdout."""
    sys.stdout.write(openapi_yaml())
    return 0


if __name__ == "__main__":
    sys.exit(main())
