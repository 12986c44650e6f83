"""Writing files so that a crash never leaves a torn one.

Every output the office or a submitter opens (report, consolidated return, letters, annotated
workbooks, templates, staging files, journals' snapshots) is written to a temporary file with a
unique name in the same folder, flushed and fsync'd, then renamed over the target with
`os.replace` (atomic on one file system), and the folder is fsync'd so the rename survives a
power cut. Two writers of the same file never share a temporary name; the last rename wins and
the file is always whole.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "fsync_dir", "locked"]

TMP_PREFIX = ".~jibao-"  # hidden and editor-lock-like: the drop-folder scan skips such names


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename or a new file in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a fresh temporary path beside `target`; when the block ends without an exception the
    file written there is fsync'd and renamed over `target`, otherwise it is removed and `target`
    is untouched. For writers that want a path (openpyxl's `save`, a library's `write_*`)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=TMP_PREFIX, suffix=f"-{target.name[-40:]}.tmp"
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, mode)
        _fsync_file(tmp_path)
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise
    fsync_dir(target.parent)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `target` atomically; returns `target` as a Path."""
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `target` atomically; returns `target` as a Path."""
    return atomic_write_bytes(target, text.encode(encoding))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `<path>.lock` beside `path` (created with its folder): one
    writer at a time for an append-only file; the kernel drops the lock if the holder dies."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
