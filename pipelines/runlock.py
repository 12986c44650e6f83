"""One pipeline run at a time per data root.

The warehouse is rebuilt as a copy and swapped in (warehouse.publish), and the outputs are
rewritten per quarter: two runs at once would each build from the same published file and the
later swap would silently drop the earlier run's work. `run_lock` is an advisory `flock` on
`data/run.lock`: the kernel drops it when the holding process dies (even by SIGKILL), so a crash
never leaves a stale lock. The file also says who holds it (pid, start time, what), for the
message the second caller gets.

    with run_lock(paths):               # `jibao run`: RunInProgress at once if busy (exit 75)
    with run_lock(paths, wait=True):    # Dagster's warehouse steps: wait for the holder

The lock is re-entrant within one process (the CLI holds it for the whole run, and the same
run's Dagster steps, executed in-process, take it again). Light module: no heavy imports, so
`pipelines.cli` can use it before deciding what else to load.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from pipelines import clock
from pipelines.paths import Paths

__all__ = ["EXIT_RUN_IN_PROGRESS", "RunInProgress", "holder", "lock_file", "run_lock"]

EXIT_RUN_IN_PROGRESS = 75  # EX_TEMPFAIL (sysexits.h): try again later


class RunInProgress(Exception):
    """Another process holds the run lock. The message is Chinese, for the office."""

    def __init__(self, lock: Path, held_by: dict | None) -> None:
        self.lock = lock
        self.held_by = held_by or {}
        who = self.held_by
        detail = (
            f"（{who.get('what', '运行')}，进程 {who.get('pid', '?')}，开始于 {who.get('since', '?')}）"
            if who
            else ""
        )
        super().__init__(
            f"另一个运行正在进行{detail}，请等它结束后再试（或加 --wait 排队等待）。锁文件：{lock}"
        )


def lock_file(paths: Paths) -> Path:
    """data/run.lock under the data root."""
    return paths.data / "run.lock"


def holder(paths: Paths) -> dict | None:
    """Who holds (or last held) the lock, as written in the lock file; None if unknown."""
    try:
        text = lock_file(paths).read_text(encoding="utf-8")
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None


# Locks this process holds: path -> (pid, depth, fd). The pid guards against a forked child
# believing it holds its parent's lock.
_held: dict[str, tuple[int, int, int]] = {}
_guard = threading.Lock()


def _what() -> str:
    argv = [os.path.basename(sys.argv[0] or "python"), *sys.argv[1:3]]
    return " ".join(argv)[:80]


@contextlib.contextmanager
def run_lock(paths: Paths, *, wait: bool = False, what: str | None = None) -> Iterator[Path]:
    """Hold the data root's run lock for the block. `wait=False` raises `RunInProgress` at once
    when another process holds it; `wait=True` blocks until it is free. Yields the lock file."""
    path = lock_file(paths)
    key = os.path.realpath(path)
    with _guard:
        mine = _held.get(key)
        if mine and mine[0] == os.getpid():
            _held[key] = (mine[0], mine[1] + 1, mine[2])
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _guard:
                pid, depth, fd = _held[key]
                _held[key] = (pid, depth - 1, fd)
        return

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise RunInProgress(path, holder(paths)) from None
            from pipelines.progress import log

            log.info(f"另一个运行正在进行，等待其结束（{path}）")
            fcntl.flock(fd, fcntl.LOCK_EX)
        info = {
            "pid": os.getpid(),
            "since": clock.now().isoformat(timespec="seconds"),
            "what": what or _what(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info, ensure_ascii=False).encode(), 0)
        with _guard:
            _held[key] = (os.getpid(), 1, fd)
        try:
            yield path
        finally:
            with _guard:
                _held.pop(key, None)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the flock
