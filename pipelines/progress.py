"""Progress lines a person watches: into Dagster's event log, and to the terminal when the CLI
runs the job in-process (`jibao run` / `jibao demo` attach a stdout handler to `jibao.progress`;
under `dagster dev` that logger has no handler and only the event log shows them)."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("jibao.progress")


def say(context, message: str) -> None:
    """Log `message` to the run (when there is one) and to the CLI's progress stream."""
    if context is not None:
        context.log.info(message)
    log.info(message)


def to_stdout() -> None:
    """Show progress lines on stdout, once per process."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
