"""Name what a file that is no spreadsheet package really is, from its first bytes (PDF, HTML
posing as .xls, Excel 2003 XML, flat OpenDocument, RTF, pictures, archives, text or CSV), so the
submitter is told what went wrong instead of 「已损坏」."""

from __future__ import annotations

from .model import RESEND, Unreadable, unreadable

__all__ = ["not_spreadsheet"]


def not_spreadsheet(path: str, head: bytes) -> Unreadable:
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
    elif b"<office:document" in probe or b"urn:oasis:names:tc:opendocument" in probe:
        kind = (
            "OpenDocument平面XML表格（.fods）"
            if b"opendocument.spreadsheet" in probe
            else "OpenDocument平面XML文档"
        )
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
