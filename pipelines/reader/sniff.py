"""Tell what a submitted file really is, from its bytes, and refuse hostile ones early.

Nothing here hands the file to a spreadsheet parser. This module opens the file (regular files
only, see ``files``) and sends it to the room that knows its kind:

- ``package``: zip packages (xlsx, xlsm, xlsb, ods), inflated through ``zipguard``'s caps;
- ``ole``: OLE2 containers (xls, et, encrypted OOXML);
- ``biff``: bare BIFF2-4 streams and BIFF records;
- ``identify``: anything else, named (PDF, HTML, CSV …);
- ``sheetscan``: the raw sheet scans the engines rely on.

so that the parsers in ``engines`` only ever see files that passed these checks.
"""

from __future__ import annotations

import errno
import os
import struct
import zipfile

from .biff import is_old_biff
from .files import NotRegular, extension, kind_of, open_regular, refusal
from .identify import not_spreadsheet
from .limits import DEFAULT_LIMITS, ReaderLimits
from .model import NOTE_OLD_BIFF, Refused, SheetScan, Sniffed, Unreadable, unreadable
from .ole import OLE_MAGIC, sniff_ole
from .package import sniff_zip, unzip
from .sheetscan import scan_sheet_xml, scan_xlsb_sheet
from .zipguard import ZIP_MAGICS

__all__ = ["SheetScan", "Sniffed", "scan_sheet_xml", "scan_xlsb_sheet", "sniff", "unzip"]


def sniff(
    path: str | os.PathLike[str], limits: ReaderLimits = DEFAULT_LIMITS
) -> Sniffed | Unreadable:
    """Classify ``path`` by content and apply the pre-parse limits; never raises for a bad file."""
    spath = os.fspath(path)
    try:
        with open_regular(spath) as fp:
            size = os.fstat(fp.fileno()).st_size
            if size == 0:
                return unreadable(spath, "empty")
            if size > limits.max_file_bytes:
                mb = limits.max_file_bytes // (1 << 20)
                return unreadable(
                    spath,
                    "too_large",
                    f"文件超过{mb}MB，请删除无关工作表、图片后另存为xlsx重新报送",
                )
            head = fp.read(4096)
            if head.startswith(ZIP_MAGICS):
                return sniff_zip(fp, spath, limits, ext=extension(spath))
            if head.startswith(OLE_MAGIC):
                return sniff_ole(fp, spath, limits)
            if is_old_biff(head):
                return Sniffed(path=spath, format="xls", notes=[NOTE_OLD_BIFF], old_biff=True)
            return not_spreadsheet(spath, head)
    except Refused as r:
        return unreadable(spath, r.code, r.message)
    except NotRegular as e:
        return unreadable(spath, "not_a_file", refusal(spath, e.kind))
    except OSError as e:
        kind = _kind_quietly(spath)
        if kind is not None:  # a socket cannot even be opened
            return unreadable(spath, "not_a_file", refusal(spath, kind))
        why = _OS_REASONS.get(e.errno or 0, "系统无法打开")
        return unreadable(spath, "corrupt", f"无法打开文件（{why}），请重新报送Excel格式的报表")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error):
        return unreadable(spath, "corrupt")
    except MemoryError:
        return unreadable(spath, "too_large")


_OS_REASONS = {
    errno.EACCES: "没有读取权限",
    errno.EPERM: "没有读取权限",
    errno.ENOENT: "文件不存在或已被移走",
    errno.ELOOP: "链接循环",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EIO: "磁盘读取错误",
}


def _kind_quietly(path: str) -> str | None:
    try:
        return kind_of(path)
    except OSError:
        return None
