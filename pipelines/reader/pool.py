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
import multiprocessing.util
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from concurrent.futures import CancelledError, Future
from typing import TypeVar

import pebble

from pipelines.config import ConfigError

from .limits import DEFAULT_LIMITS, ReaderLimits
from .model import Unreadable, WorkbookGrid, unreadable

__all__ = ["ReaderPool", "module_of", "owned_pools", "shared_pool", "shutdown_shared_pools"]

P = TypeVar("P", str, os.PathLike)
Result = WorkbookGrid | Unreadable
# Work done in the worker on each verdict: a picklable top-level function (or partial of one)
# of (path, verdict); its result is what the caller receives instead of the verdict.
Then = Callable[[str, Result], object]

_WORKER_LIMITS: ReaderLimits = DEFAULT_LIMITS
_PRELOAD = ["pipelines.reader.engines", "python_calamine"]


def module_of(fn: object) -> str | None:
    """The module a task function (or a ``functools.partial`` of one) lives in."""
    return getattr(getattr(fn, "func", fn), "__module__", None)


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


def _work(path: str, fault: str | None, then: Then | None = None) -> object:
    """Task body: read, then (if given) run ``then(path, verdict)`` here too, so work on the grid
    shares the worker's limits and its result, not the grid, crosses the pipe.
    ``fault`` is a test-only hook that simulates a misbehaving parser."""
    if fault == "crash":
        os.abort()
    elif fault == "hang":
        time.sleep(1e6)
    elif fault == "oom":
        _hog = bytearray(_WORKER_LIMITS.worker_memory_bytes)  # noqa: F841
    from . import read_workbook

    verdict = read_workbook(path, _WORKER_LIMITS)
    return verdict if then is None else then(path, verdict)


def _work_many(paths: list[str], faults: list[str | None], then: Then | None) -> list[object]:
    """Several files in one task: one IPC round trip instead of one per file."""
    return [_work(p, f, then) for p, f in zip(paths, faults, strict=True)]


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
    except ConfigError as exc:  # the office's configuration, not the file: say so, stop
        outer.set_exception(exc)
        return
    except BaseException:
        result = unreadable(path, "crashed")
    outer.set_result(result)


def _batch_result(inner: Future) -> list[object] | None:
    try:
        return inner.result()
    except BaseException:  # timeout, dead worker, cancelled: the caller retries file by file
        return None


def _chunks(items: Iterable[P], size: int) -> Iterator[list[P]]:
    chunk: list[P] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class ReaderPool:
    """Context manager around ``pebble.ProcessPool`` running ``read_workbook`` per file.

    ``read(path)`` returns a ``concurrent.futures.Future`` whose result is always a
    ``WorkbookGrid`` or ``Unreadable`` (timeouts and dead workers included);
    ``map(paths)`` yields ``(path, result)`` in input order. With ``then``, the worker also
    runs ``then(path, verdict)`` and the result is its return value, or an ``Unreadable``
    when the worker timed out or died.
    ``fault_injection`` (path -> "crash" | "hang" | "oom") exists for tests only.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        limits: ReaderLimits = DEFAULT_LIMITS,
        context: str = "forkserver",
        max_tasks: int = 1000,
        fault_injection: Mapping[str, str] | None = None,
        preload: Iterable[str] = (),
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.limits = limits
        self.context = context
        self.max_tasks = max_tasks
        self.fault_injection = {os.fspath(k): v for k, v in (fault_injection or {}).items()}
        self.preload = [*_PRELOAD, *(m for m in preload if m not in _PRELOAD)]
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
            # Modules imported once in the fork server, so a new or recycled worker starts with
            # them; only effective before the server first starts (once per process).
            ctx.set_forkserver_preload(self.preload)
        self._pool = pebble.ProcessPool(
            max_workers=self.workers,
            max_tasks=self.max_tasks,
            initializer=_init_worker,
            initargs=(self.limits,),
            context=ctx,
        )

    def read(self, path: str | os.PathLike[str], then: Then | None = None) -> Future:
        """Schedule one file; the future resolves to a verdict (or ``then``'s result), never to
        an exception."""
        if self._pool is None:
            self.start()
        assert self._pool is not None
        spath = os.fspath(path)
        outer: Future = Future()
        try:
            inner = self._pool.schedule(
                _work,
                args=(spath, self.fault_injection.get(spath), then),
                timeout=self.limits.timeout_s,
            )
        except RuntimeError:  # pool closed or broken: still a verdict
            outer.set_result(unreadable(spath, "crashed"))
            return outer
        inner.add_done_callback(lambda f: _settle(spath, f, outer))
        return outer

    def map(
        self,
        paths: Iterable[P],
        *,
        window: int | None = None,
        then: Then | None = None,
        batch: int | None = None,
    ) -> Iterator[tuple[P, object]]:
        """Yield ``(path, verdict)`` in input order, keeping at most ``window`` tasks in flight.

        A task reads ``batch`` files (default: up to 8 when a list is long enough to keep every
        worker busy, else 1): per-task IPC is what small files cost. If a batch fails as a
        whole (timeout, crash, memory), each of its files is read again alone, so only the
        culprit gets the timeout or crash verdict.
        """
        window = window or self.workers * 4
        if batch is None:
            size = len(paths) if isinstance(paths, Sized) else 0
            batch = max(1, min(8, size // (self.workers * 8)))
        pending: deque[tuple[list[P], Future]] = deque()
        for chunk in _chunks(paths, batch):
            pending.append((chunk, self._read_chunk(chunk, then)))
            if len(pending) >= window:
                yield from self._results(*pending.popleft(), then)
        while pending:
            yield from self._results(*pending.popleft(), then)

    def _read_chunk(self, chunk: list[P], then: Then | None) -> Future:
        """A future of the list of results of `chunk`, or of None if the task failed."""
        if len(chunk) == 1:
            one = self.read(chunk[0], then)
            out: Future = Future()
            one.add_done_callback(lambda f: out.set_result([f.result()]))
            return out
        if self._pool is None:
            self.start()
        assert self._pool is not None
        spaths = [os.fspath(p) for p in chunk]
        out = Future()
        try:
            inner = self._pool.schedule(
                _work_many,
                args=(spaths, [self.fault_injection.get(p) for p in spaths], then),
                timeout=self.limits.timeout_s,
            )
        except RuntimeError:  # pool closed or broken: read alone, each gets a verdict
            out.set_result(None)
            return out
        inner.add_done_callback(lambda f: out.set_result(_batch_result(f)))
        return out

    def _results(
        self, chunk: list[P], fut: Future, then: Then | None
    ) -> Iterator[tuple[P, object]]:
        got = fut.result()
        if got is None:  # the batch failed as a whole: every file alone, in parallel
            alone = [self.read(p, then) for p in chunk]
            got = [f.result() for f in alone]
        yield from zip(chunk, got, strict=True)

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


def shared_pool(
    workers: int | None, limits: ReaderLimits, preload: Iterable[str] = ()
) -> ReaderPool:
    """A process-wide pool per (workers, limits), so repeated ``read_many`` calls skip start-up."""
    n = max(1, workers or os.cpu_count() or 1)
    with _shared_lock:
        pool = _shared.get((n, limits))
        if pool is None:
            pool = ReaderPool(n, limits=limits, preload=preload)
            pool.start()
            _shared[(n, limits)] = pool
        return pool


def shutdown_shared_pools() -> None:
    """Stop the shared pools (also run at interpreter exit, and at a multiprocessing child's
    exit: see below)."""
    with _shared_lock:
        pools = list(_shared.values())
        _shared.clear()
    for pool in pools:
        pool.stop()


@contextlib.contextmanager
def owned_pools() -> Iterator[None]:
    """Shared pools started inside the block are shut down when it ends.

    A Dagster step wraps its reading in this, so the step that started the workers also stops
    them: a step runs in a multiprocessing child of the run worker, and such a child neither
    runs atexit handlers nor lets its non-daemon children go — `multiprocessing.util.
    _exit_function` joins the idle pebble workers for ever (the hang after `returns`). Pools
    that existed before the block (a caller's) are left running."""
    with _shared_lock:
        before = set(_shared)
    ok = False
    try:
        yield
        ok = True
    finally:
        with _shared_lock:
            mine = [_shared.pop(k) for k in list(_shared) if k not in before]
        for pool in mine:
            pool.close() if ok else pool.stop()


# At exit, in the main process (atexit) and in a multiprocessing child (a Finalize with an exit
# priority runs in `_exit_function` *before* it joins the children): stop what is still running.
atexit.register(shutdown_shared_pools)
multiprocessing.util.Finalize(None, shutdown_shared_pools, exitpriority=100)
