"""Start the reader's fork server early, before the caller's own imports.

A one-file `jibao validate` spends most of its time importing: the command itself, then the
fork server its worker is forked from (a fresh interpreter importing the engines and the front
door's checks). Started first, the server imports while the command does, on the other CPU.
Light by design (outside the reader package, whose import loads pebble): multiprocessing only.
The reader pool (pipelines.reader.pool) later finds the server running with the same modules
preloaded.
"""

from __future__ import annotations

import contextlib
import multiprocessing

__all__ = ["WORKER_PRELOAD", "start_fork_server"]

# What the reader pool preloads for the front door: its engines (pool._PRELOAD) and the
# module of its task (pipelines.front_worker, which warms the configuration there).
WORKER_PRELOAD = ["pipelines.reader.engines", "python_calamine", "pipelines.front_worker"]


def start_fork_server(preload: list[str] = WORKER_PRELOAD) -> None:
    """Launch multiprocessing's fork server now (idempotent; a failure only means it starts
    later, when the pool needs it)."""
    with contextlib.suppress(Exception):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(preload)
        from multiprocessing import forkserver

        forkserver.ensure_running()
