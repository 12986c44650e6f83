"""Scans of raw sheet parts before any parser allocates a grid: the extent engines will
allocate (sheet XML, xlsb records, ODS repeated rows and columns), formulas saved without a
result, Excel error values (which calamine turns into blanks), and the shared strings a
workbook would copy into its cells."""

from __future__ import annotations

import codecs
import functools
import html
import re

from .biff import BIFF_ERROR_CODES
from .limits import DEFAULT_LIMITS, ReaderLimits
from .model import Refused, SheetScan

__all__ = ["check_shared_strings", "scan_ods_content", "scan_sheet_xml", "scan_xlsb_sheet"]

_ROOT_RE = re.compile(rb"<([A-Za-z_][\w.\-]*:)?worksheet[\s>]")


def check_shared_strings(sst: bytes, sheets: list[bytes], limits: ReaderLimits) -> None:
    """Refuse workbooks whose cells would copy shared strings over and over into memory.

    Parsers copy the shared string into every cell that references it, so a 1 MB string used
    by 10,000 cells becomes 10 GB. Judged by size AND ratio, like the zip entries: the copies
    (the expansion) are refused when they would not fit the worker's memory at all
    (`max_shared_string_expansion`), or when they are large (`shared_string_floor`) and many
    times the shared strings themselves (`max_shared_string_ratio`) — the shape of a bomb. A
    genuine workbook with large shared strings (long remarks, a register of names) copies
    each string a few times: a low ratio, however large. Cheap upper bounds first, the exact
    sum only when they fail.
    """
    if not sst or len(sst) <= 1024:
        return
    budget = min(
        limits.max_shared_string_expansion,
        max(limits.shared_string_floor, limits.max_shared_string_ratio * len(sst)),
    )
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
    if b'"e"' not in xml and b"'e'" not in xml:  # C-speed: no attribute value "e" at all
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
