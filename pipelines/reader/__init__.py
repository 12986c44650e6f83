"""Reader layer: sniff and safely read any workbook a submitter can send.

``read_many`` is the production entry (worker processes with memory and time
limits); ``read_workbook`` does the same checks in-process, for tests and benchmarks.
Every file ends in a verdict: a ``WorkbookGrid`` or an ``Unreadable`` with a stable
code and a Chinese message telling the submitter what to do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

from .limits import DEFAULT_LIMITS, ReaderLimits
from .model import MESSAGES, SheetGrid, Unreadable, WorkbookGrid, unreadable
from .pool import ReaderPool, Then, module_of, owned_pools, shared_pool, shutdown_shared_pools

__all__ = [
    "DEFAULT_LIMITS",
    "MESSAGES",
    "ReaderLimits",
    "ReaderPool",
    "SheetGrid",
    "Unreadable",
    "WorkbookGrid",
    "read_many",
    "owned_pools",
    "read_workbook",
    "shutdown_shared_pools",
]

P = TypeVar("P", str, os.PathLike)


def read_workbook(
    path: str | os.PathLike[str], limits: ReaderLimits = DEFAULT_LIMITS
) -> WorkbookGrid | Unreadable:
    """Sniff, check limits and parse ``path`` in this process; returns a verdict, never raises for a bad file.

    No memory/time isolation here: production code should use ``read_many``.
    """
    from .engines import read_sniffed
    from .sniff import sniff

    spath = os.fspath(path)
    try:
        sniffed = sniff(spath, limits)
        if isinstance(sniffed, Unreadable):
            return sniffed
        return read_sniffed(sniffed, limits)
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        return unreadable(spath, "too_large")
    except BaseException:
        return unreadable(spath, "corrupt")


def read_many(
    paths: Iterable[P],
    *,
    workers: int | None = None,
    limits: ReaderLimits = DEFAULT_LIMITS,
    pool: ReaderPool | None = None,
    then: Then | None = None,
) -> Iterator[tuple[P, object]]:
    """Read files in worker processes; yields ``(path, verdict)`` for every path, in input order.

    With ``then`` (a picklable top-level function of ``(path, verdict)``), each worker also runs
    it on its verdict and yields its result instead: whatever is done with the grid then runs
    under the same memory/time limits, and only that result crosses the pipe. A worker that
    times out or dies still yields an ``Unreadable``.

    Uses ``pool`` if given, else a shared pool kept for the life of the process
    (started once: worker start-up is what would dominate small files).
    ``workers=0`` reads in-process, without isolation (debugging only).
    Workers are started with the "forkserver" method, so a script calling this must
    guard its entry point with ``if __name__ == "__main__":`` (workers import ``__main__``).
    """
    if workers == 0 and pool is None:
        for path in paths:
            verdict = read_workbook(path, limits)
            yield path, verdict if then is None else then(os.fspath(path), verdict)
        return
    if pool is None:
        preload = [m for m in (module_of(then),) if m and m != "__main__"]
        pool = shared_pool(workers, limits, preload)
    yield from pool.map(paths, then=then)
