"""The front door's entry in a reader worker process.

`validate_paths` hands `examine_file` to the reader pool, which imports this module in its fork
server before any worker starts (pipelines.reader.pool preloads the module of the task it is
given). Imported there, it parses the configuration the checks read — forms, rules, submitters,
calendar — and loads the fuzzy matcher once, so that every worker forked from the server starts
warm instead of spending its first file on YAML.
"""

from __future__ import annotations

import contextlib
import sys

from pipelines import config
from pipelines.forms import load_forms
from pipelines.reader.model import Unreadable, WorkbookGrid
from pipelines.registry import load_registry
from pipelines.validate import Packed, examine

__all__ = ["examine_file", "warm"]


def warm() -> None:
    """Parse every configuration file the per-file checks read, and import what they import."""
    import rapidfuzz.process  # noqa: F401  (suggestions for an unknown 填报单位)

    from pipelines.rules.coerce import coerce

    load_forms()
    load_registry()
    for name in ("rules.yaml", "calendar.yaml", "submitters.yaml"):
        config.load(name)
    coerce("0")  # its blank tokens


def examine_file(
    path: str, verdict: WorkbookGrid | Unreadable, forced: str | None = None
) -> list[Packed]:
    """`validate.examine` as the worker's task (see the module docstring)."""
    return examine(path, verdict, forced)


def _in_fork_server() -> bool:
    """Whether this import runs in multiprocessing's fork server (its preload), not in the
    process that validates: only there does warming pay (the validating process loads what it
    needs as it goes, and a one-file `jibao validate` waits for every millisecond of it)."""
    frame = sys._getframe()
    while frame is not None:
        code = frame.f_code
        if code.co_name == "main" and code.co_filename.endswith("multiprocessing/forkserver.py"):
            return True
        frame = frame.f_back
    return False


# A configuration error is not this module's to report: it resurfaces, in Chinese, where the
# configuration is used (and a fork server must not die of it).
if _in_fork_server():
    with contextlib.suppress(Exception):
        warm()
