"""OOXML and OpenDocument packages: what the package says it is ([Content_Types].xml, the
package relationships, the ODF mimetype and manifest), which parts hold the sheets and shared
strings, and the refusals that follow (other Office documents, Apple Numbers, encryption,
external XML schemas). The parts the checks read are inflated through the zip guard."""

from __future__ import annotations

import functools
import html
import io
import posixpath
import re
import struct
import zipfile
from typing import BinaryIO

from .limits import DEFAULT_LIMITS, ReaderLimits
from .model import NOTE_MACRO, NOTE_XLM, RESEND, Refused, Sniffed, Unreadable, unreadable
from .sheetscan import check_shared_strings, scan_ods_content, scan_sheet_xml, scan_xlsb_sheet
from .zipguard import XML_SUFFIXES, open_zip

__all__ = ["sniff_zip", "unzip"]

# Workbook main-part content types of [Content_Types].xml.
_MAIN_TYPES: dict[bytes, str] = {
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xlsx",
    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsm",
    b"application/vnd.ms-excel.template.macroEnabled.main+xml": "xlsm",
    b"application/vnd.ms-excel.addin.macroEnabled.main+xml": "xlsm",
    b"application/vnd.ms-excel.sheet.binary.macroEnabled.main": "xlsb",
}
# Main-document content types of other Office files (an embedded .pptx or .docx inside a
# workbook declares its own type too, but never as a main part: only these decide).
_OTHER_OFFICE_TYPES: dict[bytes, str] = {
    b"wordprocessingml.document.main": "Word文档",
    b"wordprocessingml.template.main": "Word文档",
    b"ms-word.document.macroEnabled.main": "Word文档",
    b"presentationml.presentation.main": "PowerPoint演示文稿",
    b"presentationml.slideshow.main": "PowerPoint演示文稿",
    b"presentationml.template.main": "PowerPoint演示文稿",
    b"ms-powerpoint.presentation.macroEnabled.main": "PowerPoint演示文稿",
}
_ODS_MIMETYPES = (
    b"application/vnd.oasis.opendocument.spreadsheet",
    b"application/vnd.oasis.opendocument.spreadsheet-template",
)

ATTR_RE = re.compile(rb"""([\w:.\-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_OVERRIDE_RE = re.compile(rb"<(?:[\w.\-]+:)?Override\b([^>]*)>")
_ODF_ENCRYPTED = re.compile(rb"<(?:[\w.\-]+:)?encryption-data\b")
_DEFAULT_RE = re.compile(rb"<(?:[\w.\-]+:)?Default\b([^>]*)>")
_OFFICE_DOCUMENT_RE = re.compile(rb"/officeDocument[\"']")
_REL_RE = re.compile(rb"<(?:[\w.\-]+:)?Relationship\b([^>]*)>")
_SHEET_RE = re.compile(rb"<(?:[\w.\-]+:)?sheet\b([^>]*)>")
_SCHEMA_LOCATION_RE = re.compile(rb"""schemaLocation\s*=\s*["']([^"']*)["']""")
_SCHEMA_ID_RE = re.compile(rb"""<(?:[\w.\-]+:)?Schema\b[^>]*\bID\s*=\s*["']([^"']*)["']""")


def unzip(
    data: bytes, limits: ReaderLimits = DEFAULT_LIMITS
) -> list[tuple[zipfile.ZipInfo, bytes | None]] | Unreadable:
    """Every entry of a zip archive (an attachment, not a workbook package), inflated under the
    same guards as a workbook's parts; an Unreadable (zip_bomb, encrypted, corrupt …) instead
    when the archive trips one. XML entries are listed but not inflated (None): the prolog
    guard would refuse them, and a package's manifest is recognised by its name."""
    fp = io.BytesIO(data)
    try:
        infos, reader = open_zip(fp, limits)
        return [
            (i, None if i.filename.lower().endswith(XML_SUFFIXES) else reader.read(i, keep=True))
            for i in infos
        ]
    except Refused as r:
        return unreadable("", r.code, r.message)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error):
        return unreadable("", "corrupt")
    except MemoryError:
        return unreadable("", "too_large")


def sniff_zip(fp: BinaryIO, path: str, limits: ReaderLimits, ext: str) -> Sniffed | Unreadable:
    infos, reader = open_zip(fp, limits)
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
        manifest = lower.get("meta-inf/manifest.xml")
        if manifest and _ODF_ENCRYPTED.search(small(manifest)):
            raise Refused("encrypted")  # password-protected: content.xml is ciphertext
        if any(n.lower().startswith("basic/") for n in by_name):
            notes.append(NOTE_MACRO)
    else:
        ctypes = small(lower.get("[content_types].xml", "[Content_Types].xml"))
        fmt, main = _main_part(ctypes, by_name, small)
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
    kept = reader.inflate_needed(infos, wanted)

    sniffed = Sniffed(path=path, format=fmt, notes=notes)
    if fmt == "ods":
        sniffed.sheet_scans = scan_ods_content(kept.get("content.xml", b""))
    for part in xlsb_parts:  # keyed by part: names live in the binary workbook part
        sniffed.sheet_scans[part] = scan_xlsb_sheet(kept.get(part, b""))
    if sheet_parts:
        check_shared_strings(
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


def _main_part(ctypes: bytes, by_name: dict[str, zipfile.ZipInfo], small) -> tuple[str, str]:
    """Format and workbook part name from [Content_Types].xml: an Override for the main part,
    or (as Excel writes .xlsb) a Default for its extension with the part named by the package
    relationship; falling back on part names."""
    for m in _OVERRIDE_RE.finditer(ctypes):
        attrs = attrs_of(m.group(1))
        ctype = attrs.get(b"ContentType", b"").strip()
        if ctype in _MAIN_TYPES:
            return _MAIN_TYPES[ctype], attrs.get(b"PartName", b"").decode(
                "utf-8", "replace"
            ).lstrip("/")
    for m in _DEFAULT_RE.finditer(ctypes):
        attrs = attrs_of(m.group(1))
        ctype = attrs.get(b"ContentType", b"").strip()
        ext = attrs.get(b"Extension", b"").decode("utf-8", "replace").lower()
        if ctype in _MAIN_TYPES:
            main = _package_main(small, by_name)
            if main.lower().endswith("." + ext):
                return _MAIN_TYPES[ctype], main
    for m in (*_OVERRIDE_RE.finditer(ctypes), *_DEFAULT_RE.finditer(ctypes)):
        ctype = attrs_of(m.group(1)).get(b"ContentType", b"")
        for key, kind in _OTHER_OFFICE_TYPES.items():
            if key in ctype:
                raise Refused(
                    "not_spreadsheet", f"文件实际为{kind}，不是Excel表格，{RESEND}（xlsx或xls）"
                )
    if "xl/workbook.xml" in by_name:
        return "xlsx", "xl/workbook.xml"
    if "xl/workbook.bin" in by_name:
        return "xlsb", "xl/workbook.bin"
    if _is_numbers(by_name):
        raise Refused("not_spreadsheet", NUMBERS_MESSAGE)
    raise Refused(
        "not_spreadsheet",
        "文件为压缩包而不是Excel表格，请直接报送Excel格式的报表（xlsx或xls），不要压缩",
    )


NUMBERS_MESSAGE = (
    "文件实际为Apple Numbers表格（.numbers），不是Excel表格，"
    "请在Numbers中选择“文件 › 导出为 › Excel”另存为xlsx后重新报送"
)


def _is_numbers(by_name: dict[str, zipfile.ZipInfo]) -> bool:
    """An Apple Numbers document (zip of IWA protobuf parts, or the older Index.zip layout)."""
    names = set(by_name)
    return (
        "Index/Document.iwa" in names
        or "Index.zip" in names
        or ("Metadata/Properties.plist" in names and any(n.endswith(".iwa") for n in names))
    )


def _package_main(small, by_name: dict[str, zipfile.ZipInfo]) -> str:
    """The officeDocument target of _rels/.rels ("" when there is none)."""
    rels = next((n for n in by_name if n.lower() == "_rels/.rels"), None)
    if rels is None:
        return ""
    for m in _REL_RE.finditer(small(rels)):
        a = attrs_of(m.group(1))
        if _OFFICE_DOCUMENT_RE.search(b'"' + a.get(b"Type", b"") + b'"'):
            target = html.unescape(a.get(b"Target", b"").decode("utf-8", "replace"))
            return posixpath.normpath(target.lstrip("/"))
    return ""


def attrs_of(raw: bytes) -> dict[bytes, bytes]:
    return {
        m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
        for m in ATTR_RE.finditer(raw)
    }


def _sheet_parts(
    main: str, small, by_name: dict[str, zipfile.ZipInfo]
) -> tuple[dict[str, str], str]:
    """Map sheet name -> worksheet part, and find the shared-strings part, from the workbook rels."""
    base = posixpath.dirname(main)
    rels_name = posixpath.join(base, "_rels", posixpath.basename(main) + ".rels")
    rels = small(rels_name) if rels_name in by_name else b""
    workbook = small(main) if main in by_name else b""
    sheets, sst = _sheet_parts_of(main, rels, workbook)
    return {name: part for name, part in sheets if part in by_name}, sst


@functools.lru_cache(maxsize=256)
def _sheet_parts_of(
    main: str, rels: bytes, workbook: bytes
) -> tuple[tuple[tuple[str, str], ...], str]:
    """(sheet name, worksheet part) pairs and the shared-strings part of a workbook part and
    its relationships. Memoised on their bytes: every copy of a template has the same ones."""
    base = posixpath.dirname(main)
    targets: dict[bytes, tuple[bytes, str]] = {}
    sst = ""
    for m in _REL_RE.finditer(rels):
        a = attrs_of(m.group(1))
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
    sheets: list[tuple[str, str]] = []
    for m in _SHEET_RE.finditer(workbook):
        a = attrs_of(m.group(1))
        rid = next((v for k, v in a.items() if k.split(b":")[-1] == b"id" and b":" in k), None)
        name = html.unescape(a.get(b"name", b"").decode("utf-8", "replace"))
        rtype, part = targets.get(rid or b"", (b"", ""))
        if rtype.endswith(b"/worksheet"):
            sheets.append((name, part))
    return tuple(sheets), sst


def _worksheet_targets(main: str, small, by_name: dict[str, zipfile.ZipInfo]) -> list[str]:
    """Worksheet parts named by the workbook part's relationships."""
    base = posixpath.dirname(main)
    rels_name = posixpath.join(base, "_rels", posixpath.basename(main) + ".rels")
    parts = []
    for m in _REL_RE.finditer(small(rels_name) if rels_name in by_name else b""):
        a = attrs_of(m.group(1))
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
