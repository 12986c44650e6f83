"""OLE2 containers: legacy .xls and WPS .et workbooks (macros, WPS origin, BIFF encryption),
and OOXML packages encrypted inside one (Excel's 「用密码进行加密」). Excel's default password is
tried (such files open without a prompt); any other password is a refusal."""

from __future__ import annotations

import io
from typing import BinaryIO

import olefile

from . import biff
from .files import extension
from .limits import ReaderLimits
from .model import (
    NOTE_DEFAULT_PASSWORD,
    NOTE_MACRO,
    NOTE_WPS,
    RESEND,
    Refused,
    SheetScan,
    Sniffed,
    Unreadable,
    unreadable,
)
from .package import sniff_zip
from .zipguard import ZIP_MAGICS

__all__ = ["sniff_ole"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DEFAULT_PASSWORD = "VelvetSweatshop"  # Excel's built-in password: opens without prompting


def sniff_ole(fp: BinaryIO, path: str, limits: ReaderLimits) -> Sniffed | Unreadable:
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
        ext = extension(path)
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
    if biff.has_filepass(stream):
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
    got = sniff_zip(io.BytesIO(data), path, limits, ext=extension(path))
    if isinstance(got, Sniffed):
        got.data = data
        got.notes.append(NOTE_DEFAULT_PASSWORD)
    return got
