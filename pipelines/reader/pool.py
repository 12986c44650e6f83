"""Parse files in reusable worker processes with memory and time limits.

Parsers are native code fed with hostile input: a Rust abort, a segfault or an
allocation storm must cost one verdict, not the pipeline. Workers are started
once (forkserver: the parent may run threads, so plain fork is unsafe) and reused,
so the per-file overhead is an IPC round trip.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import CancelledError, Future
from typing import TypeVar

import pebble

from .limits import DEFAULT_LIMITS, ReaderLimits
from .model import Unreadable, WorkbookGrid, unreadable

__all__ = ["ReaderPool", "shutdown_shared_pools"]

P = TypeVar("P", str, os.PathLike)
Result = WorkbookGrid | Unreadable

_WORKER_LIMITS: ReaderLimits = DEFAULT_LIMITS
_PRELOAD = ["pipelines.reader.engines", "python_calamine"]


def _init_worker(limits: ReaderLimits) -> None:
    """Worker start-up: cap address space, no core dumps, one-line Rust panics."""
    import resource

    global _WORKER_LIMITS
    _WORKER_LIMITS = limits
    os.environ["RUST_BACKTRACE"] = "0"
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = limits.worker_memory_bytes
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _work(path: str, fault: str | None) -> Result:
    """Task body; ``fault`` is a test-only hook that simulates a misbehaving parser."""
    if fault == "crash":
        os.abort()
    elif fault == "hang":
        time.sleep(1e6)
    elif fault == "oom":
        _hog = bytearray(_WORKER_LIMITS.worker_memory_bytes)  # noqa: F841
    from . import read_workbook

    return read_workbook(path, _WORKER_LIMITS)


def _settle(path: str, inner: Future, outer: Future) -> None:
    """Turn a worker's fate into a verdict; never let a bad file surface as an exception."""
    try:
        result = inner.result()
    except TimeoutError:
        result = unreadable(path, "timeout")
    except pebble.ProcessExpired:
        result = unreadable(path, "crashed")
    except CancelledError:
        result = unreadable(path, "crashed", "读取任务被取消，请重新报送")
    except MemoryError:
        result = unreadable(path, "too_large")
    except BaseException:
        result = unreadable(path, "crashed")
    outer.set_result(result)


class ReaderPool:
    """Context manager around ``pebble.ProcessPool`` running ``read_workbook`` per file.

    ``read(path)`` returns a ``concurrent.futures.Future`` whose result is always a
    ``WorkbookGrid`` or ``Unreadable`` (timeouts and dead workers included);
    ``map(paths)`` yields ``(path, result)`` in input order.
    ``fault_injection`` (path -> "crash" | "hang" | "oom") exists for tests only.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        limits: ReaderLimits = DEFAULT_LIMITS,
        context: str = "forkserver",
        max_tasks: int = 500,
        fault_injection: Mapping[str, str] | None = None,
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.limits = limits
        self.context = context
        self.max_tasks = max_tasks
        self.fault_injection = {os.fspath(k): v for k, v in (fault_injection or {}).items()}
        self._pool: pebble.ProcessPool | None = None

    def __enter__(self) -> ReaderPool:
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.stop()

    def start(self) -> None:
        if self._pool is not None:
            return
        ctx = multiprocessing.get_context(self.context)
        if self.context == "forkserver":
            ctx.set_forkserver_preload(_PRELOAD)  # only effective before the server first starts
        self._pool = pebble.ProcessPool(
            max_workers=self.workers,
            max_tasks=self.max_tasks,
            initializer=_init_worker,
            initargs=(self.limits,),
            context=ctx,
        )

    def read(self, path: str | os.PathLike[str]) -> Future[Result]:
        """Schedule one file; the future resolves to a verdict, never to an exception."""
        if self._pool is None:
            self.start()
        assert self._pool is not None
        spath = os.fspath(path)
        outer: Future[Result] = Future()
        try:
            inner = self._pool.schedule(
                _work, args=(spath, self.fault_injection.get(spath)), timeout=self.limits.timeout_s
            )
        except RuntimeError:  # pool closed or broken: still a verdict
            outer.set_result(unreadable(spath, "crashed"))
            return outer
        inner.add_done_callback(lambda f: _settle(spath, f, outer))
        return outer

    def map(self, paths: Iterable[P], *, window: int | None = None) -> Iterator[tuple[P, Result]]:
        """Yield ``(path, verdict)`` in input order, keeping at most ``window`` files in flight."""
        window = window or self.workers * 4
        pending: deque[tuple[P, Future[Result]]] = deque()
        for path in paths:
            pending.append((path, self.read(path)))
            if len(pending) >= window:
                head, fut = pending.popleft()
                yield head, fut.result()
        while pending:
            head, fut = pending.popleft()
            yield head, fut.result()

    def close(self) -> None:
        """Finish queued work and stop the workers."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def stop(self) -> None:
        """Stop the workers now, abandoning queued work."""
        if self._pool is not None:
            self._pool.stop()
            self._pool.join()
            self._pool = None


_shared: dict[tuple[int, ReaderLimits], ReaderPool] = {}
_shared_lock = threading.Lock()


def shared_pool(workers: int | None, limits: ReaderLimits) -> ReaderPool:
    """A process-wide pool per (workers, limits), so repeated ``read_many`` calls skip start-up."""
    n = max(1, workers or os.cpu_count() or 1)
    with _shared_lock:
        pool = _shared.get((n, limits))
        if pool is None:
            pool = ReaderPool(n, limits=limits)
            pool.start()
            _shared[(n, limits)] = pool
        return pool


@atexit.register
def shutdown_shared_pools() -> None:
    """Stop the shared pools (also run at interpreter exit)."""
    with _shared_lock:
        pools = list(_shared.values())
        _shared.clear()
    for pool in pools:
        pool.stop()
