"""What python-calamine does not report from a BIFF (.xls / .et) workbook stream: cells holding an
Excel error value (#DIV/0!, #REF! …), so that the grid shows them as Excel does.

Hand-written because no maintained reader exposes both: calamine turns error cells into blanks
(which would read as "left empty"), and xlrd, which keeps them, would parse the whole file a
second time. The walk reads only record headers and the few error-bearing records.
"""

from __future__ import annotations

import struct

__all__ = ["BIFF_ERROR_CODES", "error_cells"]

# BErr codes of BOOLERR and FORMULA results ([MS-XLS] 2.5.10).
BIFF_ERROR_CODES = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
    0x2B: "#GETTING_DATA",
}
_BOUNDSHEET, _BOF, _EOF, _BOOLERR, _FORMULA = 0x0085, 0x0809, 0x000A, 0x0205, 0x0006
_BOFS = (0x0809, 0x0409, 0x0209, 0x0009)


def error_cells(stream: bytes) -> dict[str, dict[tuple[int, int], str]]:
    """{sheet name: {(row, col): "#DIV/0!"}} for every worksheet of a BIFF5/BIFF8 workbook
    stream; sheets without error cells are left out. Malformed streams yield what was read."""
    sheets = _boundsheets(stream)
    out: dict[str, dict[tuple[int, int], str]] = {}
    for name, offset in sheets:
        found = _sheet_errors(stream, offset)
        if found:
            out[name] = found
    return out


def _boundsheets(stream: bytes) -> list[tuple[str, int]]:
    """(sheet name, substream offset) from the workbook globals' BOUNDSHEET records."""
    pos, n = 0, len(stream)
    biff8 = False
    sheets: list[tuple[str, int]] = []
    while pos + 4 <= n:
        rtype, rlen = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4 : pos + 4 + rlen]
        if rtype in _BOFS and pos == 0 and len(body) >= 2:
            biff8 = struct.unpack_from("<H", body)[0] == 0x0600
        elif rtype == _BOUNDSHEET and len(body) >= 8:
            offset = struct.unpack_from("<I", body)[0]
            sheet_type = body[5]
            if sheet_type == 0:  # worksheet (not a chart, macro or VB module)
                sheets.append((_sheet_name(body[6:], biff8), offset))
        elif rtype == _EOF:
            break
        pos += 4 + rlen
    return sheets


def _sheet_name(raw: bytes, biff8: bool) -> str:
    if not raw:
        return ""
    cch = raw[0]
    if not biff8:
        return raw[1 : 1 + cch].decode("cp1252", "replace")
    high = len(raw) > 1 and raw[1] & 0x01
    chars = raw[2 : 2 + cch * (2 if high else 1)]
    return chars.decode("utf-16-le" if high else "latin-1", "replace")


def _sheet_errors(stream: bytes, offset: int) -> dict[tuple[int, int], str]:
    pos, n = offset, len(stream)
    found: dict[tuple[int, int], str] = {}
    first = True
    while pos + 4 <= n:
        rtype, rlen = struct.unpack_from("<HH", stream, pos)
        if first:
            if rtype not in _BOFS:
                return found
            first = False
        elif rtype == _EOF:
            break
        body = pos + 4
        if rtype == _BOOLERR and rlen >= 8 and stream[body + 7] == 1:
            row, col = struct.unpack_from("<HH", stream, body)
            found[(row, col)] = BIFF_ERROR_CODES.get(stream[body + 6], "#VALUE!")
        elif rtype == _FORMULA and rlen >= 14:
            result = stream[body + 6 : body + 14]
            if result[6:8] == b"\xff\xff" and result[0] == 0x02:
                row, col = struct.unpack_from("<HH", stream, body)
                found[(row, col)] = BIFF_ERROR_CODES.get(result[2], "#VALUE!")
        pos = body + rlen
    return found
