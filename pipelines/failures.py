"""What went wrong, in words for the office, with the exit code the CLI documents.

The CLI never shows a traceback. An exception raised in the CLI process, or one that ended a
step of a Dagster run (known only as a serialised error: class name, message, cause chain), is
turned into one Chinese sentence and an exit code:

    0   done                         75  busy: a run is in progress, or the warehouse file is
    1   problems found / run failed      held by another program (try again later)
    2   usage error (incl. an         74  disk full or a file too large to write
        unconfigured quarter)         78  configuration file missing or malformed
    130 interrupted (Ctrl-C)          69  `jibao serve`: the port is taken by another program
                                          (pipelines/console/cli.py)

Light module (no Dagster import): `pipelines.cli` uses it on every command.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from dataclasses import dataclass

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_IO = 74  # EX_IOERR
EXIT_BUSY = 75  # EX_TEMPFAIL
EXIT_CONFIG = 78  # EX_CONFIG
EXIT_INTERRUPTED = 130

_DISK_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_DISK_WORDS = ("no space left", "file too large", "disk quota", "磁盘空间")
_LOCK_WORDS = ("could not set lock", "conflicting lock", "resource temporarily unavailable")


@dataclass(frozen=True)
class Failure:
    code: int
    message: str  # Chinese, one or two lines, no traceback


@dataclass(frozen=True)
class _Error:
    """The common shape of a live exception and Dagster's SerializableErrorInfo."""

    cls_name: str
    message: str
    errno: int | None = None


def _chain_of_exception(exc: BaseException) -> Iterator[_Error]:
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        names = [c.__name__ for c in type(node).__mro__]
        yield _Error(",".join(names), str(node), getattr(node, "errno", None))
        node = node.__cause__ or node.__context__


def _chain_of_info(info) -> Iterator[_Error]:
    """Walk a dagster SerializableErrorInfo (cls_name, message, cause, context)."""
    node, depth = info, 0
    while node is not None and depth < 20:
        message = (node.message or "").strip()
        # SerializableErrorInfo.message is "ClassName: text"; keep the text
        head = f"{node.cls_name}: " if node.cls_name else ""
        text = message[len(head) :] if head and message.startswith(head) else message
        yield _Error(node.cls_name or "", text)
        node, depth = node.cause or node.context, depth + 1


def _disk(e: _Error) -> bool:
    low = e.message.lower()
    return e.errno in _DISK_ERRNOS or any(w in low for w in _DISK_WORDS) or "[errno 28]" in low


def _classify(chain: list[_Error]) -> Failure | None:
    for e in chain:
        names = e.cls_name.split(",")
        if "RunInProgress" in names:
            return Failure(EXIT_BUSY, e.message)
        if "ConfigError" in names or "MissingKey" in names:
            return Failure(EXIT_CONFIG, f"配置有误：{e.message}")
    for e in chain:
        if _disk(e):
            return Failure(
                EXIT_IO,
                "磁盘空间不足或文件超出大小限制，写入失败；已发布的数据仓库和此前的输出文件未受影响。"
                "请清理磁盘后重新运行。",
            )
    for e in chain:
        low = e.message.lower()
        if any(w in low for w in _LOCK_WORDS):
            return Failure(
                EXIT_BUSY,
                "数据仓库文件正被另一个程序占用（如 DBeaver、Excel 插件或另一个 jibao 进程以写方式打开），"
                f"请关闭该程序后重试。{_holder(e.message)}",
            )
    return None


def _holder(message: str) -> str:
    """「（占用进程 PID 1234）」 from DuckDB's lock message, when it names one."""
    found = re.search(r"PID (\d+)", message)
    return f"（占用进程 PID {found.group(1)}）" if found else ""


def _first_line(text: str, limit: int = 300) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line[:limit]


def from_exception(exc: BaseException) -> Failure:
    """The failure for an exception raised in this process."""
    chain = list(_chain_of_exception(exc))
    known = _classify(chain)
    if known:
        return known
    if isinstance(exc, PermissionError):
        return Failure(EXIT_IO, f"没有权限读写 {exc.filename}，请检查文件夹权限")
    if isinstance(exc, OSError) and exc.filename:
        return Failure(EXIT_IO, f"无法读写 {exc.filename}：{exc.strerror or exc}")
    return Failure(EXIT_PROBLEMS, f"内部错误（{type(exc).__name__}）：{_first_line(str(exc))}")


def from_error_info(info) -> Failure | None:
    """The failure for a step's serialised error, or None when it is not one we name."""
    return _classify(list(_chain_of_info(info)))


def root_message(info) -> str:
    """The innermost error's first line (what the user code said), without any stack."""
    chain = list(_chain_of_info(info))
    for e in reversed(chain):
        if e.message:
            return f"{e.cls_name.split(',')[0]}：{_first_line(e.message)}"
    return ""
