"""The one guard for opening a submitted path: only regular files are read.

A FIFO blocks whoever opens it for reading until a writer appears, /dev/zero never ends, a
socket cannot be opened, and a folder named 「季报.xlsx」 (or an Apple Numbers package, which is
a folder) is not a workbook. Each of these must get its verdict at once, before any worker,
timeout or hash: `kind_of` names what the path is from one stat call, and `open_regular`
opens without blocking (O_NONBLOCK) and re-checks the opened descriptor, so a path swapped
between the check and the open cannot make a reader wait.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

__all__ = ["NotRegular", "WORKBOOK_SUFFIXES", "kind_of", "open_regular", "refusal"]

# Names a submitter gives a spreadsheet (a folder named so is still not one).
WORKBOOK_SUFFIXES = frozenset(
    {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlt", ".xlsb", ".et", ".ett", ".ods",
     ".fods", ".numbers", ".csv", ".wps"}
)  # fmt: skip


class NotRegular(OSError):  # noqa: N818 - a verdict, not a bug
    """The path is not a regular file; `kind` says what it is, in Chinese."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(f"{path}: {kind}")
        self.kind = kind


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "文件夹"
    if stat.S_ISFIFO(mode):
        return "命名管道"
    if stat.S_ISSOCK(mode):
        return "套接字"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "设备文件"
    return "特殊文件"


def kind_of(path: str | os.PathLike[str], *, follow: bool = True) -> str | None:
    """None for a regular file, else what the path is (「文件夹」, 「命名管道」, 「设备文件」,
    「套接字」, 「链接」 when `follow` is False). Never opens the path, so never blocks."""
    st = os.stat(path) if follow else os.lstat(path)
    if not follow and stat.S_ISLNK(st.st_mode):
        return "链接"
    return _kind(st.st_mode)


def refusal(path: str | os.PathLike[str], kind: str) -> str:
    """The Chinese reason given for a path that is not a regular file."""
    name = os.path.basename(os.fspath(path).rstrip("/"))
    if kind == "文件夹" and name.lower().endswith(".numbers"):
        return "文件是Apple Numbers文件包（文件夹格式），不是Excel表格，请在Numbers中导出为Excel（xlsx）后重新报送"
    if kind == "文件夹":
        return "这是一个文件夹，不是Excel文件，请报送文件夹中的Excel报表（xlsx或xls）"
    return f"这不是普通文件（{kind}），无法作为报表读取，请报送Excel格式的报表（xlsx或xls）"


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading without ever blocking; `NotRegular` otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        kind = _kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise NotRegular(os.fspath(path), kind)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
