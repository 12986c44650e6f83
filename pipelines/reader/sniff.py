"""Tell what a submitted file really is, from its bytes, and refuse hostile ones early.

Nothing here hands the file to a spreadsheet parser: zip packages are inspected and
inflated by hand under hard caps (entry count, actual inflated bytes, ratio),
XML parts are checked for DTDs, OLE files for encryption, so that the parsers in
``engines`` only ever see files that passed these checks.
"""

from __future__ import annotations

import bz2
import codecs
import errno
import functools
import html
import io
import lzma
import os
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO

import olefile

from . import biff
from .biff import BIFF_ERROR_CODES
from .files import NotRegular, kind_of, open_regular, refusal
from .limits import DEFAULT_LIMITS, ReaderLimits
from .model import RESEND, Unreadable, unreadable

__all__ = ["SheetScan", "Sniffed", "scan_sheet_xml", "sniff", "unzip"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
DEFAULT_PASSWORD = "VelvetSweatshop"  # Excel's built-in password: opens without prompting

NOTE_MACRO = "工作簿含宏（已忽略，未执行）"
NOTE_XLM = "工作簿含Excel 4.0宏表（已忽略，未执行）"
NOTE_DEFAULT_PASSWORD = "文件以Excel默认密码加密（打开时无需输入密码），已自动解密读取"
NOTE_OLD_BIFF = "文件为旧版Excel格式（Excel 2.x–4.x），建议另存为xlsx"
NOTE_WPS = "文件由WPS表格创建"

# Workbook main-part content types of [Content_Types].xml.
_MAIN_TYPES: dict[bytes, str] = {
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xlsx",
    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsm",
    b"application/vnd.ms-excel.template.macroEnabled.main+xml": "xlsm",
    b"application/vnd.ms-excel.addin.macroEnabled.main+xml": "xlsm",
    b"application/vnd.ms-excel.sheet.binary.macroEnabled.main": "xlsb",
}
_OTHER_OFFICE_TYPES: dict[bytes, str] = {
    b"wordprocessingml": "Word文档",
    b"presentationml": "PowerPoint演示文稿",
}
_ODS_MIMETYPES = (
    b"application/vnd.oasis.opendocument.spreadsheet",
    b"application/vnd.oasis.opendocument.spreadsheet-template",
)

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_DTD_RE = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ATTR_RE = re.compile(rb"""([\w:.\-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_OVERRIDE_RE = re.compile(rb"<(?:[\w.\-]+:)?Override\b([^>]*)>")
_REL_RE = re.compile(rb"<(?:[\w.\-]+:)?Relationship\b([^>]*)>")
_SHEET_RE = re.compile(rb"<(?:[\w.\-]+:)?sheet\b([^>]*)>")
_ROOT_RE = re.compile(rb"<([A-Za-z_][\w.\-]*:)?worksheet[\s>]")
_SCHEMA_LOCATION_RE = re.compile(rb"""schemaLocation\s*=\s*["']([^"']*)["']""")
_SCHEMA_ID_RE = re.compile(rb"""<(?:[\w.\-]+:)?Schema\b[^>]*\bID\s*=\s*["']([^"']*)["']""")


class Refused(Exception):  # noqa: N818 - a verdict, not an error
    """Raised inside sniffing to stop at the first reason to refuse the file."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class SheetScan:
    """What the raw sheet XML says, gathered before any parser allocates the grid."""

    max_row: int  # 1-based upper bound of the rows of cells that hold something
    max_col: int  # 1-based upper bound of the columns
    formulas_without_value: frozenset[tuple[int, int]]
    # cells holding an Excel error value → its literal ("#DIV/0!"): engines that turn them into
    # blanks (calamine) get them back from here
    errors: dict[tuple[int, int], str] = field(default_factory=dict)


@dataclass(slots=True)
class Sniffed:
    """A file that passed sniffing: its true format and what the engines need."""

    path: str
    format: str
    notes: list[str] = field(default_factory=list)
    data: bytes | None = None  # decrypted content, read instead of the file on disk
    old_biff: bool = False  # BIFF2-4 stream without OLE container: only xlrd reads it
    sheet_scans: dict[str, SheetScan] = field(default_factory=dict)  # by sheet name


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
                return _sniff_zip(fp, spath, limits, ext=_ext(spath))
            if head.startswith(OLE_MAGIC):
                return _sniff_ole(fp, spath, limits)
            if _is_old_biff(head):
                return Sniffed(path=spath, format="xls", notes=[NOTE_OLD_BIFF], old_biff=True)
            return _not_spreadsheet(spath, head)
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


def _ext(path: str) -> str:
    return os.path.splitext(path)[1].lower()


# ---------------------------------------------------------------- not a spreadsheet


def _not_spreadsheet(path: str, head: bytes) -> Unreadable:
    """Name what the file seems to be, so the submitter knows what went wrong."""
    if not head.strip(b" \t\r\n\x00"):
        return unreadable(
            path, "empty", "文件内容为空，请重新导出Excel格式的报表（xlsx或xls）后报送"
        )
    probe = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if probe.startswith(b"%pdf"):
        kind = "PDF文件"
    elif b"urn:schemas-microsoft-com:office:spreadsheet" in probe:
        kind = "Excel 2003 XML格式"
    elif (
        probe.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head"))
        or b"<html" in probe
    ):
        kind = "网页（HTML）格式，常见于系统导出的“假xls”"
    elif probe.startswith(b"{\\rtf"):
        kind = "RTF文档"
    elif probe.startswith((b"\x89png", b"\xff\xd8\xff", b"gif8", b"bm")):
        kind = "图片"
    elif probe.startswith((b"rar!", b"7z\xbc\xaf", b"\x1f\x8b")):
        kind = "压缩包"
    elif _looks_like_text(head):
        kind = "文本或CSV格式"
    else:
        return unreadable(path, "not_spreadsheet")
    return unreadable(
        path, "not_spreadsheet", f"文件实际为{kind}，不是Excel表格，{RESEND}（xlsx或xls）"
    )


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            head.decode(enc)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _is_old_biff(head: bytes) -> bool:
    """A bare BIFF2-4 worksheet/workbook stream starts with a BOF record (no OLE wrapper)."""
    if len(head) < 8:
        return False
    rtype, rlen = struct.unpack("<HH", head[:4])
    return rtype in (0x0009, 0x0209, 0x0409) and 4 <= rlen <= 16


# ---------------------------------------------------------------- OLE2 (xls, et, encrypted OOXML)


def _sniff_ole(fp: BinaryIO, path: str, limits: ReaderLimits) -> Sniffed | Unreadable:
    fp.seek(0)
    try:
        ole = olefile.OleFileIO(fp)
    except Exception:
        return unreadable(path, "corrupt")
    try:
        streams = {"/".join(s).lower() for s in ole.listdir(streams=True, storages=True)}
        top = {s.split("/", 1)[0] for s in streams}
        if "encryptioninfo" in top and "encryptedpackage" in top:
            return _sniff_encrypted_ooxml(fp, path, limits)
        book = "workbook" if "workbook" in top else "book" if "book" in top else None
        if book is None:
            if "worddocument" in top:
                kind = "Word文档"
            elif "powerpoint document" in top:
                kind = "PowerPoint演示文稿"
            else:
                return unreadable(path, "not_spreadsheet")
            return unreadable(
                path, "not_spreadsheet", f"文件实际为{kind}，不是Excel表格，{RESEND}（xlsx或xls）"
            )
        notes: list[str] = []
        if top & {"_vba_project_cur", "_vba_project", "macros"}:
            notes.append(NOTE_MACRO)
        wps = "etextdata" in top or _ole_app_is_wps(ole)
        ext = _ext(path)
        if ext in (".et", ".ett"):
            fmt = "et"
        elif ext in (".xls", ".xlt", ".xla"):
            fmt = "xls"
        else:
            fmt = "et" if wps else "xls"
        if wps and fmt == "et":
            notes.append(NOTE_WPS)
        stream = ole.openstream(book).read(min(ole.get_size(book), limits.max_file_bytes))
    finally:
        ole.close()
    if _biff_has_filepass(stream):
        data = _decrypt_default(fp)
        if data is None:
            raise Refused("encrypted")
        notes.append(NOTE_DEFAULT_PASSWORD)
        return Sniffed(path=path, format=fmt, notes=notes, data=data)
    scans = {
        name: SheetScan(0, 0, frozenset(), errors)
        for name, errors in biff.error_cells(stream).items()
    }
    return Sniffed(path=path, format=fmt, notes=notes, sheet_scans=scans)


def _ole_app_is_wps(ole: olefile.OleFileIO) -> bool:
    try:
        app = ole.get_metadata().creating_application or b""
    except Exception:
        return False
    return b"wps" in app.lower() if isinstance(app, bytes) else "wps" in str(app).lower()


def _biff_has_filepass(stream: bytes) -> bool:
    """Walk the workbook-globals records up to the first sheet: FILEPASS (0x2F) means encrypted.

    Done by hand because msoffcrypto-tool only knows BIFF8 (not BIFF5 "Book" streams);
    msoffcrypto is still used to try Excel's default password on BIFF8.
    """
    pos, n = 0, len(stream)
    while pos + 4 <= n:
        rtype, rlen = struct.unpack_from("<HH", stream, pos)
        if rtype == 0x002F:
            return True
        if rtype in (0x0085, 0x000A) and pos > 0:  # BOUNDSHEET / EOF: FILEPASS comes before
            return False
        pos += 4 + rlen
    return False


def _decrypt_default(fp: BinaryIO) -> bytes | None:
    """Decrypt with Excel's default password; None when a real password is needed."""
    import msoffcrypto

    fp.seek(0)
    try:
        office = msoffcrypto.OfficeFile(fp)
        if not office.is_encrypted():
            return None
        office.load_key(password=DEFAULT_PASSWORD)
        out = io.BytesIO()
        office.decrypt(out)
    except Exception:
        return None
    return out.getvalue()


def _sniff_encrypted_ooxml(fp: BinaryIO, path: str, limits: ReaderLimits) -> Sniffed | Unreadable:
    data = _decrypt_default(fp)
    if data is None or not data.startswith(ZIP_MAGICS):
        raise Refused("encrypted")
    got = _sniff_zip(io.BytesIO(data), path, limits, ext=_ext(path))
    if isinstance(got, Sniffed):
        got.data = data
        got.notes.append(NOTE_DEFAULT_PASSWORD)
    return got


# ---------------------------------------------------------------- zip (OOXML, ODS)


def _open_zip(fp: BinaryIO, limits: ReaderLimits) -> tuple[list[zipfile.ZipInfo], _Inflater]:
    """The entries of a zip (directories left out) after the checks every zip gets: central
    directory size, entry count, declared sizes and ratios, encryption; and the bounded inflater
    that reads them."""
    _check_eocd(fp, limits)
    fp.seek(0)
    zf = zipfile.ZipFile(fp)
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(zf.infolist()) > limits.max_zip_entries:
        raise Refused("zip_bomb")
    declared = 0
    for info in infos:
        declared += info.file_size
        if info.file_size > limits.max_part_inflated or declared > limits.max_total_inflated:
            raise Refused("zip_bomb")
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise Refused("zip_bomb")
        if info.flag_bits & 0x1:
            raise Refused("encrypted")
    return infos, _Inflater(fp, limits)


def unzip(
    data: bytes, limits: ReaderLimits = DEFAULT_LIMITS
) -> list[tuple[zipfile.ZipInfo, bytes | None]] | Unreadable:
    """Every entry of a zip archive (an attachment, not a workbook package), inflated under the
    same guards as a workbook's parts; an Unreadable (zip_bomb, encrypted, corrupt …) instead
    when the archive trips one. XML entries are listed but not inflated (None): the prolog
    guard would refuse them, and a package's manifest is recognised by its name."""
    fp = io.BytesIO(data)
    try:
        infos, reader = _open_zip(fp, limits)
        return [
            (i, None if i.filename.lower().endswith(_XML_SUFFIXES) else reader.read(i, keep=True))
            for i in infos
        ]
    except Refused as r:
        return unreadable("", r.code, r.message)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error):
        return unreadable("", "corrupt")
    except MemoryError:
        return unreadable("", "too_large")


def _sniff_zip(fp: BinaryIO, path: str, limits: ReaderLimits, ext: str) -> Sniffed | Unreadable:
    infos, reader = _open_zip(fp, limits)
    by_name = {i.filename: i for i in infos}
    lower = {name.lower(): name for name in by_name}

    def small(name: str) -> bytes:
        info = by_name.get(name)
        return reader.read(info, keep=True) if info else b""

    notes: list[str] = []
    fmt: str
    main = ""
    if "mimetype" in by_name:
        mime = small("mimetype").strip()
        if mime not in _ODS_MIMETYPES:
            raise Refused(
                "not_spreadsheet",
                f"文件实际为OpenDocument文本或演示文稿，不是Excel表格，{RESEND}（xlsx或xls）",
            )
        fmt = "ods"
        if any(n.lower().startswith("basic/") for n in by_name):
            notes.append(NOTE_MACRO)
    else:
        ctypes = small(lower.get("[content_types].xml", "[Content_Types].xml"))
        fmt, main = _main_part(ctypes, by_name)
        root_rels = lower.get("_rels/.rels")
        if root_rels and not re.search(rb"/officeDocument[\"']", small(root_rels)):
            raise Refused("corrupt")  # package relationships present but unusable: a broken package
        if any(n.endswith("vbaproject.bin") for n in lower):
            notes.append(NOTE_MACRO)
        if any(n.startswith("xl/macrosheets/") for n in lower):
            notes.append(NOTE_XLM)
        xml_maps = [n for n in lower if n.startswith("xl/xmlmaps") and n.endswith(".xml")]
        for name in xml_maps:
            if _external_schema(small(lower[name])):
                raise Refused("xml_entities")

    sheet_parts: dict[str, str] = {}
    sst_part = ""
    if fmt in ("xlsx", "xlsm"):
        sheet_parts, sst_part = _sheet_parts(main, small, by_name)
    wanted = set(sheet_parts.values())
    if sst_part:
        wanted.add(sst_part)
    if fmt == "ods":
        wanted.add("content.xml")
    xlsb_parts = _worksheet_targets(main, small, by_name) if fmt == "xlsb" else []
    wanted.update(xlsb_parts)
    kept = reader.inflate_all(infos, wanted)

    sniffed = Sniffed(path=path, format=fmt, notes=notes)
    if fmt == "ods":
        sniffed.sheet_scans = scan_ods_content(kept.get("content.xml", b""))
    for part in xlsb_parts:  # keyed by part: names live in the binary workbook part
        sniffed.sheet_scans[part] = scan_xlsb_sheet(kept.get(part, b""))
    if sheet_parts:
        _check_shared_strings(
            kept.get(sst_part, b""), [kept.get(p, b"") for p in sheet_parts.values()], limits
        )
        for sheet_name, part in sheet_parts.items():
            xml = kept.get(part)
            if xml is not None:
                sniffed.sheet_scans[sheet_name] = scan_sheet_xml(xml, limits)
    return sniffed


def _external_schema(xml_maps: bytes) -> bool:
    """XML maps embed XSDs; a schemaLocation that is not another embedded schema's ID points outside (XXE)."""
    ids = set(_SCHEMA_ID_RE.findall(xml_maps))
    return any(loc not in ids for loc in _SCHEMA_LOCATION_RE.findall(xml_maps))


def _check_eocd(fp: BinaryIO, limits: ReaderLimits) -> None:
    """Refuse a huge central directory before zipfile parses it into Python objects."""
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    fp.seek(max(0, size - (1 << 16) - 22))
    tail = fp.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise Refused("corrupt")
    entries, cd_size = struct.unpack_from("<HI", tail, at + 10)
    if entries != 0xFFFF and entries > limits.max_zip_entries:
        raise Refused("zip_bomb")
    if cd_size != 0xFFFFFFFF and cd_size > limits.max_zip_entries * 1024:
        raise Refused("zip_bomb")


def _main_part(ctypes: bytes, by_name: dict[str, zipfile.ZipInfo]) -> tuple[str, str]:
    """Format and workbook part name from [Content_Types].xml (falling back on part names)."""
    for m in _OVERRIDE_RE.finditer(ctypes):
        attrs = _attrs(m.group(1))
        ctype = attrs.get(b"ContentType", b"").strip()
        if ctype in _MAIN_TYPES:
            return _MAIN_TYPES[ctype], attrs.get(b"PartName", b"").decode(
                "utf-8", "replace"
            ).lstrip("/")
    for key, kind in _OTHER_OFFICE_TYPES.items():
        if key in ctypes:
            raise Refused(
                "not_spreadsheet", f"文件实际为{kind}，不是Excel表格，{RESEND}（xlsx或xls）"
            )
    if "xl/workbook.xml" in by_name:
        return "xlsx", "xl/workbook.xml"
    if "xl/workbook.bin" in by_name:
        return "xlsb", "xl/workbook.bin"
    raise Refused(
        "not_spreadsheet",
        "文件为压缩包而不是Excel表格，请直接报送Excel格式的报表（xlsx或xls），不要压缩",
    )


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {
        m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _ATTR_RE.finditer(raw)
    }


def _sheet_parts(
    main: str, small, by_name: dict[str, zipfile.ZipInfo]
) -> tuple[dict[str, str], str]:
    """Map sheet name -> worksheet part, and find the shared-strings part, from the workbook rels."""
    base = posixpath.dirname(main)
    rels_name = posixpath.join(base, "_rels", posixpath.basename(main) + ".rels")
    targets: dict[bytes, tuple[bytes, str]] = {}
    sst = ""
    for m in _REL_RE.finditer(small(rels_name) if rels_name in by_name else b""):
        a = _attrs(m.group(1))
        target = html.unescape(a.get(b"Target", b"").decode("utf-8", "replace"))
        part = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(base, target))
        )
        rtype = a.get(b"Type", b"")
        targets[a.get(b"Id", b"")] = (rtype, part)
        if rtype.endswith(b"/sharedStrings"):
            sst = part
    sheets: dict[str, str] = {}
    for m in _SHEET_RE.finditer(small(main) if main in by_name else b""):
        a = _attrs(m.group(1))
        rid = next((v for k, v in a.items() if k.split(b":")[-1] == b"id" and b":" in k), None)
        name = html.unescape(a.get(b"name", b"").decode("utf-8", "replace"))
        rtype, part = targets.get(rid or b"", (b"", ""))
        if rtype.endswith(b"/worksheet") and part in by_name:
            sheets[name] = part
    return sheets, sst


def _worksheet_targets(main: str, small, by_name: dict[str, zipfile.ZipInfo]) -> list[str]:
    """Worksheet parts named by the workbook part's relationships."""
    base = posixpath.dirname(main)
    rels_name = posixpath.join(base, "_rels", posixpath.basename(main) + ".rels")
    parts = []
    for m in _REL_RE.finditer(small(rels_name) if rels_name in by_name else b""):
        a = _attrs(m.group(1))
        if not a.get(b"Type", b"").endswith(b"/worksheet"):
            continue
        target = html.unescape(a.get(b"Target", b"").decode("utf-8", "replace"))
        part = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(base, target))
        )
        if part in by_name:
            parts.append(part)
    return parts


def _entry_key(info: zipfile.ZipInfo) -> tuple[int, int, int, str]:
    return info.header_offset, info.compress_type, info.compress_size, info.filename


class _Inflater:
    """Inflate zip entries from their raw local data, counting the bytes actually produced.

    Declared sizes in a zip can lie; the cap is on real output, so a lying header
    cannot make any later parser inflate more than the limits allow.
    """

    def __init__(self, fp: BinaryIO, limits: ReaderLimits) -> None:
        self.fp = fp
        self.limits = limits
        self.total = 0
        self.seen: set[int] = set()  # local header offsets already counted
        # Parts read early (content types, relationships, workbook), so the full pass does not
        # inflate them again; keyed by everything that decides the outcome of inflating.
        self.done: dict[tuple[int, int, int, str], bytes] = {}

    def read(self, info: zipfile.ZipInfo, keep: bool) -> bytes:
        data = self._inflate(info, keep) or b""
        if keep:
            self.done[_entry_key(info)] = data
        return data

    def inflate_all(self, infos: list[zipfile.ZipInfo], wanted: set[str]) -> dict[str, bytes]:
        kept: dict[str, bytes] = {}
        for info in infos:
            keep = info.filename in wanted
            data = self.done.get(_entry_key(info))
            if data is None:
                data = self._inflate(info, keep)
            if keep and data is not None:
                kept[info.filename] = data
        return kept

    def _inflate(self, info: zipfile.ZipInfo, keep: bool) -> bytes | None:
        limits = self.limits
        count_it = info.header_offset not in self.seen  # duplicate names still count
        self.seen.add(info.header_offset)
        cap = min(
            limits.max_part_inflated, limits.max_total_inflated - (self.total if count_it else 0)
        )
        fp = self.fp
        fp.seek(info.header_offset)
        local = fp.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise Refused("corrupt")
        name_len, extra_len = struct.unpack_from("<HH", local, 26)
        fp.seek(info.header_offset + 30 + name_len + extra_len)
        method = info.compress_type
        if method == zipfile.ZIP_STORED:
            decomp = None
        elif method == zipfile.ZIP_DEFLATED:
            decomp = zlib.decompressobj(-15)
        elif method == zipfile.ZIP_BZIP2:
            decomp = bz2.BZ2Decompressor()
        elif method == zipfile.ZIP_LZMA:
            decomp = _LzmaZip()
        else:
            raise Refused("corrupt")
        is_zlib = method == zipfile.ZIP_DEFLATED
        check_xml = info.filename.lower().endswith(_XML_SUFFIXES)
        remaining = info.compress_size
        produced = 0
        parts: list[bytes] = []
        head = b""
        while remaining > 0:
            chunk = fp.read(min(remaining, 1 << 18))
            if not chunk:
                raise Refused("corrupt")
            remaining -= len(chunk)
            while chunk:
                if decomp is None:
                    out, chunk = chunk, b""
                elif is_zlib:
                    out = decomp.decompress(chunk, cap - produced + 1)
                    chunk = decomp.unconsumed_tail
                else:
                    out = decomp.decompress(chunk, cap - produced + 1)
                    chunk = b""
                produced += len(out)
                if produced > cap:
                    raise Refused("zip_bomb")
                if check_xml and len(head) < limits.prolog_scan_bytes:
                    head += out[: limits.prolog_scan_bytes - len(head)]
                if keep:
                    parts.append(out)
                if not out and (decomp is None or not chunk):
                    break
            if decomp is not None and getattr(decomp, "eof", False):
                break
        if decomp is not None and not is_zlib:
            # bz2/lzma may still hold output after the input is consumed
            while not decomp.eof and not getattr(decomp, "needs_input", True):
                out = decomp.decompress(b"", cap - produced + 1)
                produced += len(out)
                if produced > cap:
                    raise Refused("zip_bomb")
                if keep:
                    parts.append(out)
        if produced > limits.ratio_floor_bytes and produced > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise Refused("zip_bomb")
        if count_it:
            self.total += produced
        if check_xml and _xml_prolog_unsafe(
            head, full=produced > len(head) or len(head) >= limits.prolog_scan_bytes
        ):
            raise Refused("xml_entities")
        return b"".join(parts) if keep else None


class _LzmaZip:
    """LZMA as stored in zip (4-byte header + LZMA1 properties), bounded like the others."""

    def __init__(self) -> None:
        self._head = b""
        self._d: lzma.LZMADecompressor | None = None
        self.eof = False
        self.needs_input = True

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._d is None:
            self._head += data
            if len(self._head) < 4:
                return b""
            psize = struct.unpack_from("<H", self._head, 2)[0]
            if len(self._head) < 4 + psize:
                return b""
            props = lzma._decode_filter_properties(lzma.FILTER_LZMA1, self._head[4 : 4 + psize])  # type: ignore[attr-defined]
            self._d = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[props])
            data = self._head[4 + psize :]
        out = self._d.decompress(data, max_length)
        self.eof = self._d.eof
        self.needs_input = self._d.needs_input
        return out


def _xml_prolog_unsafe(head: bytes, full: bool) -> bool:
    """True when an XML part declares a DTD/entities, or hides its root past the scan window."""
    if head.startswith(codecs.BOM_UTF8):
        text = head[3:].decode("utf-8", "replace")
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head[: len(head) // 2 * 2].decode("utf-16", "replace")
    elif head.startswith(b"<\x00"):
        text = head[: len(head) // 2 * 2].decode("utf-16-le", "replace")
    elif head.startswith(b"\x00<"):
        text = head[: len(head) // 2 * 2].decode("utf-16-be", "replace")
    else:
        text = head.decode("latin-1")
    if _DTD_RE.search(text):
        return True
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if text.startswith("<?", i):
            j = text.find("?>", i)
        elif text.startswith("<!--", i):
            j = text.find("-->", i)
        else:
            return text.startswith("<!", i)  # any other declaration before the root
        if j < 0:
            return full  # prolog runs past the scanned window
        i = j + 2
    return full and n > 0


# ---------------------------------------------------------------- sheet XML scans


def _check_shared_strings(sst: bytes, sheets: list[bytes], limits: ReaderLimits) -> None:
    """Refuse workbooks whose cells would copy huge shared strings over and over.

    Parsers copy the shared string into every cell that references it, so a 1 MB
    string used by 10,000 cells becomes 10 GB. Cheap upper bounds first, the exact
    sum only when they fail.
    """
    budget = limits.max_shared_string_expansion
    if not sst or len(sst) <= 1024:
        return
    sheet_bytes = sum(len(s) for s in sheets)
    if (sheet_bytes // 16) * len(sst) <= budget:
        return
    pieces = re.split(rb"<(?:[\w.\-]+:)?si\b", sst)[1:]
    longest = max((len(p) for p in pieces), default=0)
    n_refs = sum(s.count(b't="s"') + s.count(b"t='s'") for s in sheets)
    if n_refs * longest <= budget:
        return
    lengths = [len(p) for p in pieces]
    ref_re = re.compile(
        rb"""<(?:[\w.\-]+:)?c\b[^>]*\bt=["']s["'][^>]*>\s*<(?:[\w.\-]+:)?v>\s*(\d+)\s*<"""
    )
    total = 0
    for s in sheets:
        for m in ref_re.finditer(s):
            idx = int(m.group(1))
            if idx < len(lengths):
                total += lengths[idx]
                if total > budget:
                    raise Refused("zip_bomb")


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _ref(raw: bytes) -> tuple[int, int] | None:
    m = re.fullmatch(rb"\$?([A-Z]{1,3})\$?([0-9]{1,7})", raw)
    if not m:
        return None
    return int(m.group(2)) - 1, _col_number(m.group(1)) - 1


def scan_sheet_xml(xml: bytes, limits: ReaderLimits = DEFAULT_LIMITS) -> SheetScan:
    """Bounding box of value cells and formula cells without a cached value, from raw sheet XML.

    Engines allocate the full bounding box of a sheet, so this runs before them. The
    common case (every cell written with ``r`` first, as Excel, WPS and openpyxl do)
    is answered with a few C-speed searches; only big or odd sheets get the exact,
    per-cell regex pass.
    """
    if xml.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"<\x00", b"\x00<")):
        enc = (
            "utf-16"
            if xml[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
            else ("utf-16-le" if xml[:1] == b"<" else "utf-16-be")
        )
        xml = xml.decode(enc, "replace").encode("utf-8")
    root = _ROOT_RE.search(xml, 0, 1 << 16)
    pfx = root.group(1) if root and root.group(1) else b""
    max_row, max_col = _bbox(xml, pfx, limits)
    return SheetScan(
        max_row=max_row,
        max_col=max_col,
        formulas_without_value=_formulas_without_value(xml, re.escape(pfx)),
        errors=_error_cells(xml, pfx),
    )


_ERROR_TYPE = re.compile(rb"""\st\s*=\s*["']e["']""")


def _error_cells(xml: bytes, pfx: bytes) -> dict[tuple[int, int], str]:
    """Cells of type ``t="e"`` (an Excel error value) → the literal Excel shows (「#DIV/0!」).

    Answered by one C-speed membership test on sheets without any (nearly all of them)."""
    if b't="e"' not in xml and b"t='e'" not in xml and not _ERROR_TYPE.search(xml):
        return {}
    cell_start = b"<" + pfx + b"c"
    value = re.compile(rb"<" + re.escape(pfx) + rb"v>([^<]*)</" + re.escape(pfx) + rb"v>")
    end_tag = b"</" + pfx + b"c>"
    found: dict[tuple[int, int], str] = {}
    for m in _ERROR_TYPE.finditer(xml):
        start = xml.rfind(cell_start, 0, m.start())
        if start < 0 or b">" in xml[start : m.start()]:
            continue  # the attribute belongs to some other tag
        tag_end = xml.find(b">", m.end())
        if tag_end < 0 or xml[tag_end - 1 : tag_end] == b"/":
            continue  # self-closing: no value
        close = xml.find(end_tag, tag_end)
        got = value.search(xml, tag_end, close if close >= 0 else len(xml))
        ref = re.search(rb"""\sr\s*=\s*["']([^"']*)["']""", xml[start:tag_end])
        pos = _ref(ref.group(1)) if ref else None
        if got and pos is not None:
            literal = html.unescape(got.group(1).decode("utf-8", "replace")).strip()
            if literal:
                found[pos] = literal
    return found


_ANY_TAG = re.compile(
    rb"""<(?:[\w.\-]+:)?(row|c)((?:\s(?:[^>"'/]|/(?!>)|"[^"]*"|'[^']*')*)?)(/?)>"""
)
_R_ATTR = re.compile(rb"""\sr\s*=\s*["']\$?([A-Za-z]*)\$?([0-9]*)["']""")


@functools.lru_cache(maxsize=16)
def _cell_patterns(pfx: bytes) -> dict[str, re.Pattern[bytes]]:
    """Literal-prefixed patterns for cells written as ``<{pfx}c r="..."``, compiled once per prefix."""
    cell = re.escape(b"<" + pfx + b'c r="')
    p = re.escape(pfx)
    return {
        "odd": re.compile(rb"<" + p + rb'c(?:[>\t\n\r]| (?!r="))'),
        "other": re.compile(rb"<c[\s>]" if pfx else rb":c[\s>]"),
        "any": re.compile(cell),
        "wide2": re.compile(cell + rb"[A-Za-z]{2}"),
        "wide3": re.compile(cell + rb"[A-Za-z]{3}"),
        "tall5": re.compile(cell + rb"[A-Za-z]+[0-9]{5}"),
        "tall6": re.compile(cell + rb"[A-Za-z]+[0-9]{6}"),
        "rows": re.compile(cell + rb'[A-Za-z]+([0-9]+)"'),
        "cols": re.compile(cell + rb"([A-Za-z]+)"),
        "valued": re.compile(
            cell + rb"""([A-Za-z]+)([0-9]+)"(?:[^>"'/]|/(?!>)|"[^"]*"|'[^']*')*(?<!/)>"""
        ),
    }


def _other_prefixes(xml: bytes, pfx: bytes) -> bool:
    """True if some ``:c`` tag uses another prefix than the sheet's own (C-speed counts)."""
    if any(b":c" + w in xml for w in (b"\t", b"\n", b"\r")):
        return True
    ours = (
        xml.count(b"<" + pfx + b"c ")
        + xml.count(b"<" + pfx + b"c>")
        + xml.count(b"</" + pfx + b"c>")
    )
    return xml.count(b":c ") + xml.count(b":c>") != ours


def _bbox(xml: bytes, pfx: bytes, limits: ReaderLimits) -> tuple[int, int]:
    """Upper bound of the (rows, cols) extent an engine will allocate for this sheet.

    Over-estimates are safe (they only trigger exact passes); under-estimates are not,
    so anything unusual (other prefixes, ``r`` not first, no ``r``) takes the exact
    tag walk. The usual case costs a handful of literal-prefixed searches.
    """
    pat = _cell_patterns(pfx)
    if pat["odd"].search(xml) or pat["other"].search(xml) or (pfx and _other_prefixes(xml, pfx)):
        return _bbox_walk(xml)
    if not pat["any"].search(xml):
        return 0, 0
    rows: int | None = 9_999
    if pat["tall5"].search(xml):
        rows = None if pat["tall6"].search(xml) else 99_999
    cols: int | None = 26
    if pat["wide2"].search(xml):
        cols = None if pat["wide3"].search(xml) else 702
    if rows is not None and cols is not None and rows * cols <= limits.max_sheet_cells:
        return rows, cols
    if rows is None or cols is None or cols > 26:
        letters = {c.upper() for c in set(pat["cols"].findall(xml))}
        cols = _col_number(max(letters, key=lambda c: (len(c), c))) if letters else 0
    if rows is None or rows * cols > limits.max_sheet_cells:
        rows = max(map(int, pat["rows"].findall(xml)), default=0)
    if rows * cols > limits.max_sheet_cells:
        # self-closing cells hold no value and engines skip them: count only the others
        refs = pat["valued"].findall(xml)
        rows = max((int(r) for _, r in refs), default=0)
        cols = max((_col_number(c.upper()) for c in {c for c, _ in refs}), default=0)
    return rows, cols


def _bbox_walk(xml: bytes) -> tuple[int, int]:
    """Exact walk over row/cell tags (any prefix, any attribute order, ``r`` optional).

    Mirrors the engines: a row or cell without a usable ``r`` follows the previous one.
    """
    max_row = max_col = 0
    row = col = 0
    for m in _ANY_TAG.finditer(xml):
        ref = _R_ATTR.search(m.group(2))
        if m.group(1) == b"row":
            row = int(ref.group(2)) if ref and ref.group(2) and not ref.group(1) else row + 1
            col = 0
            continue
        if ref and ref.group(1) and ref.group(2):
            row, col = int(ref.group(2)), _col_number(ref.group(1).upper())
        else:
            col += 1
        if not m.group(3):  # self-closing cells hold no value
            max_row = max(max_row, row)
            max_col = max(max_col, col)
    return max_row, max_col


def scan_xlsb_sheet(data: bytes) -> SheetScan:
    """Extent of value cells in a BIFF12 sheet part (row headers + cell records)."""
    pos, n = 0, len(data)
    row = max_row = max_col = 0
    errors: dict[tuple[int, int], str] = {}
    while pos < n:
        b = data[pos]
        rtype = b & 0x7F
        pos += 1
        if b & 0x80 and pos < n:
            rtype |= (data[pos] & 0x7F) << 7
            pos += 1
        size = shift = 0
        for _ in range(4):
            if pos >= n:
                break
            b = data[pos]
            pos += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if size >= 4:
            value = int.from_bytes(data[pos : pos + 4], "little")
            if rtype == 0:  # BrtRowHdr: row index
                row = value
            elif 2 <= rtype <= 11 or rtype == 62:  # value/formula cells (not blanks): column
                max_row = max(max_row, row + 1)
                max_col = max(max_col, value + 1)
                if rtype in (3, 11) and size >= 9:  # BrtCellError / BrtFmlaError
                    errors[(row, value)] = BIFF_ERROR_CODES.get(data[pos + 8], "#VALUE!")
        pos += size
    return SheetScan(max_row, max_col, frozenset(), errors)


_ODS_TAG = re.compile(
    rb"""<(/?)(?:[\w.\-]+:)?(table-row|table-cell|covered-table-cell|table)(?=[\s/>])"""
    rb"""((?:[^>"'/]|/(?!>)|"[^"]*"|'[^']*')*)(/?)>"""
)
_ODS_REPEAT = re.compile(rb"""number-(rows|columns)-repeated\s*=\s*["'](\d+)["']""")
_ODS_NAME = re.compile(rb"""\bname\s*=\s*["']([^"']*)["']""")
_ODS_VALUE = re.compile(rb"""value-type\s*=|\bvalue\s*=|formula\s*=""")
_ODS_ERROR = re.compile(rb"""value-type\s*=\s*["']error["']""")
_ODS_TEXT = re.compile(rb"""<(?:[\w.\-]+:)?p\b[^>]*>([^<]*)<""")


def scan_ods_content(xml: bytes) -> dict[str, SheetScan]:
    """Expanded extent of each ODS table, before an engine expands ``number-*-repeated``.

    A few bytes of ``number-columns-repeated`` on a non-empty cell inside a repeated
    row describe billions of cells; engines would allocate them all.
    """
    scans: dict[str, SheetScan] = {}
    errors: dict[tuple[int, int], str] = {}
    name = ""
    max_row = max_col = row = col = 0
    row_repeat = 1
    row_used = False
    for m in _ODS_TAG.finditer(xml):
        closing, tag, attrs, selfclose = m.group(1), m.group(2), m.group(3), m.group(4)
        if tag == b"table":
            if closing:
                scans[name] = SheetScan(max_row, max_col, frozenset(), errors)
            elif not selfclose:
                nm = _ODS_NAME.search(attrs)
                name = html.unescape(nm.group(1).decode("utf-8", "replace")) if nm else ""
                max_row = max_col = row = 0
                errors = {}
            continue
        rep = _ODS_REPEAT.search(attrs)
        count = int(rep.group(2)) if rep else 1
        if tag == b"table-row":
            if closing or selfclose:
                row += row_repeat
                if row_used:
                    max_row = row
                row_used = False
                continue
            row_repeat, col, row_used = count, 0, False
            continue
        if closing:
            continue
        if not selfclose and _ODS_ERROR.search(attrs):
            text = _ODS_TEXT.search(xml, m.end(), m.end() + 4096)
            literal = html.unescape(text.group(1).decode("utf-8", "replace")) if text else ""
            for dr in range(min(row_repeat, 64)):  # error cells repeated down: a few suffice
                for dc in range(min(count, 64)):
                    errors[(row + dr, col + dc)] = literal.strip() or "#VALUE!"
        col += count
        if not selfclose or _ODS_VALUE.search(attrs):
            row_used = True
            max_col = max(max_col, col)
    return scans


def _formulas_without_value(xml: bytes, pfx: bytes) -> frozenset[tuple[int, int]]:
    """Cells with ``<f>`` but no ``<v>`` (or an empty ``<v>`` on a non-string cell).

    In a cell the schema orders f before v, so a formula directly followed by the
    cell's end tag has no cached value. ``t="str"`` with ``<v></v>`` is a cached
    empty string, not a missing value.
    """
    if not re.search(rb"<" + pfx + rb"f[\s>/]", xml):
        return frozenset()
    no_v = re.compile(rb"(?:</" + pfx + rb"f>|<" + pfx + rb"f\b[^>]*/>)\s*</" + pfx + rb"c>")
    empty_v = re.compile(rb"<" + pfx + rb"v\s*/>|<" + pfx + rb"v>\s*</" + pfx + rb"v>")
    cell_start = b"<" + pfx.replace(b"\\", b"") + b"c"
    found: set[tuple[int, int]] = set()
    for regex, needs_formula in ((no_v, False), (empty_v, True)):
        for m in regex.finditer(xml):
            start = xml.rfind(cell_start, 0, m.start())
            while start >= 0 and xml[start + len(cell_start) : start + len(cell_start) + 1] not in (
                b" ",
                b">",
                b"\t",
                b"\n",
                b"\r",
            ):
                start = xml.rfind(cell_start, 0, start)
            if start < 0:
                continue
            tag_end = xml.find(b">", start)
            tag = xml[start:tag_end]
            if needs_formula:
                body = xml[tag_end : m.start()]
                if not re.search(rb"<" + pfx + rb"f[\s>/]", body) or re.search(
                    rb"""\st\s*=\s*["']str["']""", tag
                ):
                    continue
            ref = re.search(rb"""\sr\s*=\s*["']([^"']*)["']""", tag)
            pos = _ref(ref.group(1)) if ref else None
            if pos is not None:
                found.add(pos)
    return frozenset(found)
