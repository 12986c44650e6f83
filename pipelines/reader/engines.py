"""Turn a sniffed file into grids: python-calamine first, openpyxl / xlrd where it fails.

Every engine returns the same shape (``SheetGrid``: dense, A1-anchored, '' as None,
capped to ``max_rows`` x ``max_cols``) so callers never learn which one ran.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO

from .limits import DEFAULT_LIMITS, ReaderLimits
from .model import SheetGrid, Unreadable, WorkbookGrid, unreadable
from .sniff import SheetScan, Sniffed

__all__ = ["engine_order", "read_calamine", "read_openpyxl", "read_sniffed", "read_xlrd"]

NOTE_FALLBACK = "文件结构不规范，主读取程序无法读取，已改用备用读取程序（{engine}）读取，建议用Excel或WPS另存为xlsx"

Engine = Callable[[Sniffed, ReaderLimits], tuple[list[SheetGrid], list[str]]]


def engine_order(sn: Sniffed) -> tuple[str, ...]:
    """Engines to try, best first, for the sniffed format."""
    if sn.old_biff:
        return ("xlrd",)
    if sn.format in ("xls", "et"):
        return ("calamine", "xlrd")
    if sn.format in ("xlsx", "xlsm"):
        return ("calamine", "openpyxl")
    return ("calamine",)


def read_sniffed(sn: Sniffed, limits: ReaderLimits = DEFAULT_LIMITS) -> WorkbookGrid | Unreadable:
    """Parse a sniffed file with the first engine that succeeds; engine failures become verdicts."""
    for name, scan in sn.sheet_scans.items():
        if scan.max_row * scan.max_col > limits.max_sheet_cells:
            return unreadable(
                sn.path,
                "too_many_cells",
                f"工作表「{name}」数据范围过大（约{scan.max_row}行×{scan.max_col}列，可能有远离表格的零散单元格），"
                "请删除多余行列后另存为xlsx重新报送",
            )
    password_error = _calamine_password_error()
    failed = False
    for engine in engine_order(sn):
        try:
            sheets, notes = ENGINES[engine](sn, limits)
        except (KeyboardInterrupt, SystemExit):
            raise
        except MemoryError:
            return unreadable(
                sn.path,
                "too_large",
                "文件内容过多，超出读取内存上限，请删除无关工作表后另存为xlsx重新报送",
            )
        except BaseException as e:  # pyo3 PanicException derives from BaseException
            if password_error is not None and isinstance(e, password_error):
                return unreadable(sn.path, "encrypted")
            failed = True
            continue
        if failed:
            notes.append(NOTE_FALLBACK.format(engine=engine))
        return WorkbookGrid(
            path=sn.path, format=sn.format, sheets=sheets, notes=[*sn.notes, *notes]
        )
    return unreadable(sn.path, "corrupt")


def _calamine_password_error() -> type[BaseException] | None:
    try:
        from python_calamine import PasswordError
    except ImportError:  # pragma: no cover
        return None
    return PasswordError


# ---------------------------------------------------------------- grid shaping


def _normalize(value: object) -> object:
    """Map the engines' empty-cell markers to None and midnight datetimes to dates (as calamine does)."""
    if value.__class__ is str:
        return value if value else None
    if (
        value.__class__ is dt.datetime
        and value.hour == value.minute == value.second == value.microsecond == 0
    ):  # type: ignore[attr-defined]
        return value.date()  # type: ignore[attr-defined]
    return value


def _grid(
    rows: Iterable[Sequence[object]], r0: int, c0: int, limits: ReaderLimits, convert: bool
) -> list[list[object]]:
    """Dense grid anchored at A1 from rows starting at (r0, c0); '' -> None; trailing blanks trimmed.

    Hot path for big sheets: per-cell work is a C-level ``map`` of ``dict.get``.
    """
    room = limits.max_cols - c0
    if room <= 0 or r0 >= limits.max_rows:
        return []
    if convert:
        body = [[_normalize(v) for v in row[:room]] for row in rows]
    else:
        blank = {"": None}.get
        body = [
            list(map(blank, row, row))
            if len(row) <= room
            else list(map(blank, row[:room], row[:room]))
            for row in rows
        ]
    while body and not any(v is not None for v in body[-1]):
        body.pop()
    if not body:
        return []
    width = max(len(row) for row in body)
    for row in body:
        if len(row) < width:
            row.extend([None] * (width - len(row)))
    while width and all(row[width - 1] is None for row in body):
        width -= 1
        for row in body:
            del row[width:]
    if c0:
        pad = [None] * c0
        body = [pad + row for row in body]
    full = c0 + width
    return [[None] * full for _ in range(r0)] + body if r0 else body


def _clip_merged(
    merged: list[tuple[int, int, int, int]], limits: ReaderLimits
) -> list[tuple[int, int, int, int]]:
    """Merged ranges inside the caps (ends clipped), sorted so every engine reports the same list."""
    mr, mc = limits.max_rows, limits.max_cols
    if merged and (max(m[2] for m in merged) >= mr or max(m[3] for m in merged) >= mc):
        merged = [
            (a, b, min(c, mr - 1), min(d, mc - 1)) for a, b, c, d in merged if a < mr and b < mc
        ]
    merged.sort()
    return merged


def _formulas(
    scan: SheetScan | None, cells: list[list[object]], limits: ReaderLimits
) -> frozenset[tuple[int, int]]:
    """Formula cells without a cached value, inside the caps.

    Their grid value is None, and the grid is grown to include them (they are used
    cells, just without a value), so ``cells[r][c]`` is always addressable.
    """
    if scan is None or not scan.formulas_without_value:
        return frozenset()
    kept = frozenset(
        (r, c)
        for r, c in scan.formulas_without_value
        if r < limits.max_rows and c < limits.max_cols
    )
    if not kept:
        return kept
    width = max(max(c for _, c in kept) + 1, len(cells[0]) if cells else 0)
    for row in cells:
        row.extend([None] * (width - len(row)))
    cells.extend([None] * width for _ in range(max(r for r, _ in kept) + 1 - len(cells)))
    for r, c in kept:
        cells[r][c] = None
    return kept


def _errors(scan: SheetScan | None, cells: list[list[object]], limits: ReaderLimits) -> None:
    """Put Excel error values back where an engine left a blank: the grid shows what Excel shows
    (「#DIV/0!」), so the cell is reported as a broken formula, not as left empty."""
    if scan is None or not scan.errors:
        return
    kept = {
        (r, c): v
        for (r, c), v in scan.errors.items()
        if r < limits.max_rows and c < limits.max_cols
    }
    if not kept:
        return
    width = max(max(c for _, c in kept) + 1, len(cells[0]) if cells else 0)
    for row in cells:
        if len(row) < width:
            row.extend([None] * (width - len(row)))
    cells.extend([None] * width for _ in range(max(r for r, _ in kept) + 1 - len(cells)))
    for (r, c), literal in kept.items():
        if cells[r][c] is None:
            cells[r][c] = literal


def _truncation_note(name: str, limits: ReaderLimits) -> str:
    return f"工作表「{name}」超过{limits.max_rows}行或{limits.max_cols}列，仅读取前{limits.max_rows}行、前{limits.max_cols}列"


# ---------------------------------------------------------------- engines


def _source(sn: Sniffed) -> BinaryIO:
    """The bytes to parse: decrypted content if any, else the file itself."""
    return io.BytesIO(sn.data) if sn.data is not None else open(sn.path, "rb")  # noqa: SIM115


def read_calamine(
    sn: Sniffed, limits: ReaderLimits = DEFAULT_LIMITS
) -> tuple[list[SheetGrid], list[str]]:
    """python-calamine: fast Rust reader for xlsx/xlsm/xlsb/xls/et/ods."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    skip = (SheetTypeEnum.ChartSheet, SheetTypeEnum.Vba)
    sheets: list[SheetGrid] = []
    notes: list[str] = []
    # from_filelike sniffs the content; from_path would trust a possibly wrong extension
    with _source(sn) as src, CalamineWorkbook.from_filelike(src) as wb:
        for idx, meta in enumerate(wb.sheets_metadata):
            if meta.typ in skip:
                continue
            sheet = wb.get_sheet_by_index(idx)
            start = sheet.start
            cells: list[list[object]] = []
            if start is not None:
                r0, c0 = start
                r1, c1 = sheet.end or start
                if r1 >= limits.max_rows or c1 >= limits.max_cols:
                    notes.append(_truncation_note(sheet.name, limits))
                nrows = limits.max_rows - r0
                if nrows > 0 and c0 < limits.max_cols:
                    cells = _grid(sheet.to_python(nrows=nrows), r0, c0, limits, convert=False)
            merged = _clip_merged(
                [(a, b, c, d) for (a, b), (c, d) in sheet.merged_cell_ranges or ()], limits
            )
            scan = sn.sheet_scans.get(sheet.name)
            fwv = _formulas(scan, cells, limits)
            _errors(scan, cells, limits)
            sheets.append(
                SheetGrid(
                    name=sheet.name,
                    cells=cells,
                    merged=merged,
                    formulas_without_value=fwv,
                    state=_CALAMINE_STATES.get(str(meta.visible), "visible"),
                )
            )
    return sheets, notes


# python-calamine's SheetVisibleEnum, by name (the enum has no stable values across versions)
_CALAMINE_STATES = {
    "SheetVisibleEnum.Visible": "visible",
    "SheetVisibleEnum.Hidden": "hidden",
    "SheetVisibleEnum.VeryHidden": "veryHidden",
}


def read_openpyxl(
    sn: Sniffed, limits: ReaderLimits = DEFAULT_LIMITS
) -> tuple[list[SheetGrid], list[str]]:
    """openpyxl fallback for xlsx/xlsm (full mode: merged cells need it; cached values only)."""
    import openpyxl

    with _source(sn) as src:  # a file object: openpyxl refuses unfamiliar extensions
        wb = openpyxl.load_workbook(
            src, read_only=False, data_only=True, keep_links=False, keep_vba=False
        )
    sheets: list[SheetGrid] = []
    notes: list[str] = []
    try:
        for ws in wb.worksheets:
            max_row, max_col = ws.max_row, ws.max_column
            if max_row > limits.max_rows or max_col > limits.max_cols:
                notes.append(_truncation_note(ws.title, limits))
            rows = (
                [c.value for c in row]  # an error cell's value is its literal (「#DIV/0!」)
                for row in ws.iter_rows(
                    min_row=1,
                    max_row=min(max_row, limits.max_rows),
                    max_col=min(max_col, limits.max_cols),
                )
            )
            cells = _grid(rows, 0, 0, limits, convert=True)
            merged = _clip_merged(
                [
                    (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
                    for m in ws.merged_cells.ranges
                ],
                limits,
            )
            fwv = _formulas(sn.sheet_scans.get(ws.title), cells, limits)
            state = ws.sheet_state if ws.sheet_state in ("hidden", "veryHidden") else "visible"
            sheets.append(
                SheetGrid(
                    name=ws.title,
                    cells=cells,
                    merged=merged,
                    formulas_without_value=fwv,
                    state=state,
                )
            )
    finally:
        wb.close()
    return sheets, notes


def read_xlrd(
    sn: Sniffed, limits: ReaderLimits = DEFAULT_LIMITS
) -> tuple[list[SheetGrid], list[str]]:
    """xlrd fallback for BIFF (xls/et), and the only reader of bare BIFF2-4 files."""
    import xlrd

    with open(os.devnull, "w") as devnull:
        kwargs = {"logfile": devnull, "verbosity": 0, "on_demand": True}
        if sn.data is not None:
            kwargs["file_contents"] = sn.data
        else:
            kwargs["filename"] = sn.path
        try:
            book = xlrd.open_workbook(formatting_info=True, **kwargs)
        except (NotImplementedError, xlrd.XLRDError):
            book = xlrd.open_workbook(formatting_info=False, **kwargs)
        try:
            return _xlrd_sheets(book, limits)
        finally:
            book.release_resources()


def _xlrd_sheets(book, limits: ReaderLimits) -> tuple[list[SheetGrid], list[str]]:
    import xlrd

    sheets: list[SheetGrid] = []
    notes: list[str] = []
    datemode = book.datemode
    for idx in range(book.nsheets):
        sh = book.sheet_by_index(idx)
        if sh.nrows > limits.max_rows or sh.ncols > limits.max_cols:
            notes.append(_truncation_note(sh.name, limits))
        nrows, ncols = min(sh.nrows, limits.max_rows), min(sh.ncols, limits.max_cols)
        rows = []
        for r in range(nrows):
            types = sh.row_types(r, 0, ncols)
            values = sh.row_values(r, 0, ncols)
            row: list[object] = []
            for t, v in zip(types, values, strict=False):
                if t == xlrd.XL_CELL_TEXT:
                    row.append(v or None)
                elif t == xlrd.XL_CELL_NUMBER:
                    row.append(v)
                elif t == xlrd.XL_CELL_DATE:
                    row.append(_xlrd_date(v, datemode))
                elif t == xlrd.XL_CELL_BOOLEAN:
                    row.append(bool(v))
                elif t == xlrd.XL_CELL_ERROR:
                    row.append(xlrd.error_text_from_code.get(v, "#VALUE!"))
                else:  # empty, blank
                    row.append(None)
            rows.append(row)
        cells = _grid(rows, 0, 0, limits, convert=False)
        merged = _clip_merged(
            [(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in sh.merged_cells], limits
        )
        state = {1: "hidden", 2: "veryHidden"}.get(sh.visibility, "visible")
        sheets.append(
            SheetGrid(
                name=sh.name,
                cells=cells,
                merged=merged,
                formulas_without_value=frozenset(),
                state=state,
            )
        )
        book.unload_sheet(idx)
    return sheets, notes


def _xlrd_date(value: float, datemode: int) -> object:
    """Excel serial to date/time/datetime the way python-calamine presents them."""
    import xlrd

    try:
        if 0 <= value < 1:
            return xlrd.xldate.xldate_as_datetime(value, datemode).time()
        return _normalize(xlrd.xldate.xldate_as_datetime(value, datemode))
    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
        return value


ENGINES: dict[str, Engine] = {
    "calamine": read_calamine,
    "openpyxl": read_openpyxl,
    "xlrd": read_xlrd,
}
