"""Keep the garbage collector's full collections off the request path.

A started worker holds about 300,000 objects that live as long as the process:
modules, the Litestar app, SQLAlchemy's tables and compiled statements, numpy,
pandas and scipy. CPython's collector traverses all of them in every full
(generation 2) collection, and a full collection comes due as objects survive
requests: while a batch of 1,000 respondents is validated, its rows outlive the
younger generations, and each full collection then pauses the worker for as
long as it takes to traverse them all (``docs/performance.md`` has the pauses
measured during batch ingest, with and without freezing).

Freezing (:func:`gc.freeze`) moves every object alive at the end of start-up
into a permanent generation that collections skip. Those objects are still
freed by reference counting when they go; only a reference cycle among them
would outlive its use, and start-up objects are meant to live until shutdown,
where :func:`unfreeze_heap` hands them back to the collector (an app started
and stopped many times in one process, as the tests do, then leaks nothing).
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["freeze_startup_heap", "unfreeze_heap"]


def freeze_startup_heap(app: Any = None) -> None:
    """Collect once, then exempt everything still alive from later collections.

    Runs as the app's last start-up hook, in each worker process.
    """
    gc.collect()
    gc.freeze()


def unfreeze_heap(app: Any = None) -> None:
    """Return the frozen objects to the collector (a shutdown hook)."""
    gc.unfreeze()
