"""Which parts of a message are returns. Each part ends as a workbook to receive, a verdict for
the sender (too large, a zip that cannot be opened, a nested archive), or another file that is
simply listed (a scanned letter, a photo); inline logos of signatures are ignored.

Content decides over the extension, as at the front door: a workbook named 表一.pdf is a
workbook (given its true extension), while 表一.xlsx that is really a PDF goes to the front door,
which says what it is. Attached .zip archives are opened with the reader's own guards
(`pipelines.reader.sniff.unzip`: entry count, real inflated bytes, ratio, encryption).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pipelines.mail.mime import Part, decode_bytes
from pipelines.reader.model import MESSAGES, Unreadable
from pipelines.reader.sniff import Sniffed, sniff, unzip

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".et", ".ett", ".ods", ".xlt", ".xltx",
                     ".xltm"}  # fmt: skip
ZIP_SUFFIXES = {".zip"}
OTHER_ARCHIVES = {".rar", ".7z", ".gz", ".tgz", ".bz2", ".xz", ".tar"}
_ARCHIVE_MAGIC = (b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_FORMAT_SUFFIX = {"xlsx": ".xlsx", "xlsm": ".xlsm", "xls": ".xls", "et": ".et", "xlsb": ".xlsb",
                  "ods": ".ods"}  # fmt: skip
MiB = 1 << 20


@dataclass(frozen=True, slots=True)
class Workbook:
    """A file to receive as a return."""

    name: str  # as the sender named it, or a made-up one (附件2.xlsx); a zip member's own name
    data: bytes
    note: str | None = None  # e.g. the extension was wrong
    shown: str | None = None  # how the reply names it when not by `name`: 压缩包.zip/表一.xlsx


@dataclass(frozen=True, slots=True)
class Verdict:
    """A part that was not received, and why (Chinese, for the reply)."""

    name: str
    message: str


@dataclass
class Sorted:
    workbooks: list[Workbook] = field(default_factory=list)
    refused: list[Verdict] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # files listed in the reply, not returns


def megabytes(n: int) -> str:
    """「0.25」「1」「12.5」: sizes as the reply states them."""
    return f"{n / MiB:.2f}".rstrip("0").rstrip(".")


def _suffix(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def _is_package(members: list[tuple[zipfile.ZipInfo, bytes | None]]) -> bool:
    """An Office / OpenDocument file (it carries its own manifest), not an archive of files."""
    names = {i.filename.lower() for i, _ in members}
    return "[content_types].xml" in names or "mimetype" in names


def sniff_bytes(data: bytes, name: str) -> Sniffed | Unreadable:
    """The front door's sniffing of `data` (it reads from a path, so through a private
    temporary file)."""
    fd, tmp = tempfile.mkstemp(prefix="jibao-mail-", suffix=_suffix(name) or ".bin")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return sniff(tmp)
    finally:
        os.unlink(tmp)


def member_name(info: zipfile.ZipInfo) -> str:
    """An entry's name: Windows' own zip (and WinRAR's default) writes GBK without the UTF-8
    flag, which `zipfile` reads as CP437."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError):
            name = decode_bytes(name.encode("cp437"))
    return name


def _default_name(n: int, data: bytes) -> str:
    got = sniff_bytes(data, "")
    fmt = got.format if isinstance(got, Sniffed) else None
    return f"附件{n}{_FORMAT_SUFFIX.get(fmt or '', '')}"


def classify(parts: list[Part], *, max_attachment_bytes: int, max_members: int = 50) -> Sorted:
    """Sort a message's parts (see the module docstring)."""
    out = Sorted()
    for n, part in enumerate(parts, 1):
        if part.inline and not part.name:
            continue  # a logo or pasted picture in the body
        name = part.name or _default_name(n, part.data)
        if len(part.data) > max_attachment_bytes:
            out.refused.append(
                Verdict(
                    name,
                    f"附件大小 {megabytes(len(part.data))} MB，超过 {megabytes(max_attachment_bytes)} MB 的上限，"
                    "未处理；请删除无关工作表、图片后另存为 xlsx 重新发送",
                )
            )
            continue
        if not part.data:
            out.refused.append(Verdict(name, "附件内容为空，请重新添加附件后发送"))
            continue
        if _suffix(name) in ZIP_SUFFIXES or (
            part.data.startswith(_ZIP_MAGIC) and _suffix(name) not in WORKBOOK_SUFFIXES
        ):
            _open_archive(name, part.data, out, max_attachment_bytes, max_members)
            continue
        _one_file(name, part.data, out, archive_ok=True)
    return out


def _one_file(name: str, data: bytes, out: Sorted, *, archive_ok: bool) -> None:
    suffix = _suffix(name)
    if suffix in OTHER_ARCHIVES or data.startswith(_ARCHIVE_MAGIC):
        out.refused.append(
            Verdict(name, "暂不支持 rar、7z 等压缩格式，请直接附上 Excel 报表，或使用 zip 格式压缩")
        )
        return
    if not archive_ok and (suffix in ZIP_SUFFIXES or _is_archive(data)):
        out.refused.append(Verdict(name, "压缩包内又含压缩包，未处理；请直接附上 Excel 报表"))
        return
    if suffix in WORKBOOK_SUFFIXES:
        out.workbooks.append(Workbook(name, data))
        return
    got = sniff_bytes(data, name)
    if isinstance(got, Sniffed):  # a workbook under another extension
        true = _FORMAT_SUFFIX.get(got.format, ".xlsx")
        renamed = f"{PurePosixPath(name).stem or '报表'}{true}"
        note = f"附件「{name}」实为 Excel 表格（{got.format}），已按「{renamed}」处理"
        out.workbooks.append(Workbook(renamed, data, note))
        return
    out.others.append(name)


def _is_archive(data: bytes) -> bool:
    if not data.startswith(_ZIP_MAGIC):
        return False
    members = unzip(data)
    return isinstance(members, Unreadable) or not _is_package(members)


def _open_archive(name: str, data: bytes, out: Sorted, max_bytes: int, max_members: int) -> None:
    """A .zip (or zip content under another name): each file in it sorted like an attachment;
    an Office file that only looks like a zip goes on as one file."""
    members = unzip(data)
    if isinstance(members, Unreadable):
        message = {
            "encrypted": "压缩包设有密码，无法打开；请取消密码后重新发送，或直接附上 Excel 报表",
            "zip_bomb": "压缩包解压后异常膨胀（疑似压缩炸弹），已拒收；请直接附上 Excel 报表",
        }.get(members.code, f"压缩包无法打开（{MESSAGES.get(members.code, members.message)}）")
        out.refused.append(Verdict(name, message))
        return
    if _is_package(members):
        _one_file(name, data, out, archive_ok=False)
        return
    files = [(member_name(i), c) for i, c in members if c is not None]
    files = [(m, c) for m, c in files if not _hidden(m)]
    if not files:
        out.refused.append(Verdict(name, "压缩包中没有可处理的文件，请附上填好的 Excel 报表"))
        return
    if len(files) > max_members:
        out.refused.append(
            Verdict(name, f"压缩包内文件过多（{len(files)} 个），请只附上本单位的季报表")
        )
        return
    for member, content in files:
        base = PurePosixPath(member).name or member
        if len(content) > max_bytes:
            out.refused.append(
                Verdict(
                    f"{name}/{member}",
                    f"文件大小 {megabytes(len(content))} MB，超过 {megabytes(max_bytes)} MB 的上限，未处理",
                )
            )
            continue
        inner = Sorted()
        _one_file(base, content, inner, archive_ok=False)
        out.workbooks += [
            Workbook(w.name, w.data, w.note, f"{name}/{member}") for w in inner.workbooks
        ]
        out.refused += [Verdict(f"{name}/{v.name}", v.message) for v in inner.refused]
        out.others += [f"{name}/{o}" for o in inner.others]


def _hidden(member: str) -> bool:
    """macOS resource forks and Office lock files that ride along in zips."""
    parts = Path(member).parts
    return any(p.startswith(("__MACOSX", "._", "~$", ".DS_Store")) for p in parts)
