"""Annotated copies of a submitter's workbook: problem cells filled and commented.

The archived original is never written to; the copy goes to the outbox beside the letter. Legacy
.xls (and other formats openpyxl cannot open) are rebuilt as an .xlsx holding the read values, so
the submitter still sees where each problem is; the letter says the copy is values only. Copies are
always .xlsx: macros of .xlsm returns are dropped rather than mailed around.

A copy the office mails back must not act when it is opened: every formula becomes the value the
submitter's spreadsheet last computed (openpyxl's `data_only`), external and DDE links, hyperlinks,
conditional formats and data validations that hold formulas are dropped, defined names that are
not plain ranges are dropped, and text that would read as a formula (= + - @ |) is quote-prefixed.
Text that openpyxl cannot store (control characters) is kept as visible escapes (`sanitize`).

Speed: openpyxl spends ~90 % of a load re-formatting the borders of every merged range
(`MergedCellRange.format`, once per range per workbook). The copy keeps the submitter's own
formatting, so the merges are bound as plain ranges instead (`_lean_merges`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import openpyxl.reader.excel as _excel_reader
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet._reader import WorksheetReader
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidationList
from openpyxl.worksheet.worksheet import Worksheet

from pipelines import config
from pipelines.fsio import atomic_path
from pipelines.sanitize import display, excel_text, ooxml_text
from pipelines.sanitize import safe_filename as safe_filename

log = logging.getLogger(__name__)

ERROR_COLOR = "FFFF8080"  # red: must be corrected
WARNING_COLOR = "FFFFFF00"  # yellow: to confirm
FILLS = {
    "error": PatternFill(fill_type="solid", fgColor=ERROR_COLOR, bgColor=ERROR_COLOR),
    "warning": PatternFill(fill_type="solid", fgColor=WARNING_COLOR, bgColor=WARNING_COLOR),
}
SEVERITY_LABEL = {"error": "错误", "warning": "提示"}
LIST_SHEET = "问题清单"
LIST_HEAD = ("表", "工作表", "单元格", "类别", "问题说明")
LIST_WIDTHS = (6, 12, 7, 6, 42)  # A4 portrait one page wide at 100 % (7 pt a character)
LIST_LINE_PT = 15.0  # one wrapped line of 11 pt text
OPENPYXL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}


@dataclass(frozen=True, slots=True)
class CellNote:
    """One problem to mark: where (sheet, A1 cell; either may be unknown) and what."""

    severity: Literal["error", "warning"]
    message: str
    sheet: str | None = None
    cell: str | None = None
    form_name: str = ""


@dataclass(frozen=True, slots=True)
class AnnotatedCopy:
    path: Path
    values_only: bool  # rebuilt from read values (legacy .xls): formats and formulas are gone
    marked: int  # cells filled and commented


def put_text(cell: Cell, value: object) -> None:
    """Write text that came from outside (unit names, file names, messages) so that no spreadsheet
    ever evaluates it and openpyxl can always store it: a string cell, control characters shown as
    visible escapes, and a quote prefix when it looks like a formula or a DDE call (= + - @ |),
    which also keeps it text if someone edits and re-saves the sheet."""
    text, prefixed = excel_text(value)
    cell._value = text  # excel_text removed everything openpyxl's check_string refuses
    cell.data_type = "s"
    if prefixed:
        cell.quotePrefix = True


# ---------------------------------------------------------------- opening a copy


class _LeanReader(WorksheetReader):
    """Binds merged ranges as plain ranges: no MergedCell objects, no border re-formatting.
    The copy keeps the borders the submitter's file already has, which is what it should show."""

    def bind_merged_cells(self) -> None:
        merged = self.parser.merged_cells
        if merged:
            self.ws.merged_cells = MultiCellRange([CellRange(m.ref) for m in merged.mergeCell])


_LEAN = threading.Lock()


@contextlib.contextmanager
def _lean_merges() -> Iterator[None]:
    """openpyxl's ExcelReader names its WorksheetReader as a module global and offers no hook, so
    the lean reader is swapped in for the duration of one load (under a lock)."""
    with _LEAN:
        saved = _excel_reader.WorksheetReader
        _excel_reader.WorksheetReader = _LeanReader
        try:
            yield
        finally:
            _excel_reader.WorksheetReader = saved


def _open_copy(source: Path) -> tuple[Workbook, bool]:
    if source.suffix.lower() in OPENPYXL_SUFFIXES:
        with _lean_merges():
            wb = load_workbook(source, keep_vba=False, keep_links=False, data_only=True)
        _disarm(wb)
        return wb, False
    from python_calamine import CalamineWorkbook

    src = CalamineWorkbook.from_path(str(source))
    wb = Workbook()
    wb.remove(wb.active)
    for name in src.sheet_names:
        ws = wb.create_sheet(title=excel_text(name)[0][:31] or "Sheet")
        for r, row in enumerate(src.get_sheet_by_name(name).to_python(skip_empty_area=False), 1):
            for c, value in enumerate(row, 1):
                if value == "" or value is None:
                    continue
                if isinstance(value, str):
                    put_text(ws.cell(r, c), value)
                else:
                    ws.cell(r, c, value)
    return wb, True


def _plain_range(name) -> bool:
    """A defined name that only points at cells of this workbook (print areas and titles, named
    ranges); anything else (a function, an external or DDE reference) could act."""
    text = str(name.attr_text or "")
    return name.type == "RANGE" and "[" not in text and "|" not in text and "(" not in text


def _literal(formula: str | None) -> bool:
    """A data-validation bound that is a constant: a number or a quoted list."""
    if formula is None:
        return True
    text = formula.strip()
    if text.startswith('"') and text.endswith('"') and "|" not in text:
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def _disarm(wb: Workbook) -> None:
    """Nothing in the copy may act when opened: see the module docstring."""
    for key in [k for k, n in wb.defined_names.items() if not _plain_range(n)]:
        del wb.defined_names[key]
    for ws in wb.worksheets:
        for key in [k for k, n in ws.defined_names.items() if not _plain_range(n)]:
            del ws.defined_names[key]
        ws._hyperlinks = []
        ws.conditional_formatting = ConditionalFormattingList()
        kept = [
            dv
            for dv in ws.data_validations.dataValidation
            if _literal(dv.formula1) and _literal(dv.formula2)
        ]
        ws.data_validations = DataValidationList(dataValidation=kept)
        for cell in ws._cells.values():
            value = cell._value
            if isinstance(value, str):
                text, prefixed = ooxml_text(value)
                if text != value:
                    cell._value = text
                if prefixed:
                    cell.quotePrefix = True
            if cell.data_type == "f":  # data_only leaves no formula; be sure of it
                cell._value, cell.data_type = None, "n"
            cell._hyperlink = None
        ws.title = ooxml_text(ws.title)[0][:31] or ws.title


# ---------------------------------------------------------------- marking


def _sheet(wb: Workbook, name: str | None) -> Worksheet | None:
    if name and name in wb.sheetnames:
        return wb[name]
    if name:
        want = display(name).strip().casefold()
        for ws in wb.worksheets:  # the reader may report a stripped or re-cased name
            if ws.title.strip().casefold() in (name.strip().casefold(), want):
                return ws
    return wb.worksheets[0] if len(wb.worksheets) == 1 else None


def _anchor(ws: Worksheet, ref: str) -> Cell | None:
    """The writable cell for an A1 reference (or a range's first cell); a cell inside a merged
    range is represented by the range's top-left cell."""
    try:
        c0, r0, _, _ = range_boundaries(ref.replace("$", "").strip())
    except (ValueError, TypeError):
        return None
    if c0 is None or r0 is None:
        return None
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= r0 <= merged.max_row and merged.min_col <= c0 <= merged.max_col:
            r0, c0 = merged.min_row, merged.min_col
            break
    return ws.cell(r0, c0)


def _mark(ws: Worksheet, ref: str, notes: Sequence[CellNote]) -> bool:
    cell = _anchor(ws, ref)
    if cell is None:
        return False
    severity = "error" if any(n.severity == "error" for n in notes) else "warning"
    cell.fill = FILLS[severity]
    text = "\n".join(f"【{SEVERITY_LABEL[n.severity]}】{display(n.message)}" for n in notes)
    if cell.comment is not None and cell.comment.text:
        text = f"{ooxml_text(cell.comment.text)[0]}\n{text}"
    comment = Comment(text, display(config.load("office.yaml")["short_name"]))
    comment.width = 360
    comment.height = min(400, 60 + 18 * (text.count("\n") + 1 + len(text) // 28))
    cell.comment = comment
    return True


def _list_sheet(wb: Workbook, notes: Iterable[CellNote]) -> None:
    """「问题清单」: every note, printable on A4 portrait one page wide, header row repeated."""
    title = LIST_SHEET
    n = 1
    while title in wb.sheetnames:
        title, n = f"{LIST_SHEET}{n}", n + 1
    ws = wb.create_sheet(title)
    wrap = Alignment(wrap_text=True, vertical="top")
    for col, head in enumerate(LIST_HEAD, 1):
        cell = ws.cell(1, col)
        put_text(cell, head)
        cell.font = Font(bold=True)
        cell.alignment = wrap
    for r, note in enumerate(notes, 2):
        parts = (
            note.form_name,
            note.sheet or "",
            note.cell or "",
            SEVERITY_LABEL[note.severity],
            note.message,
        )
        for col, value in enumerate(parts, 1):
            cell = ws.cell(r, col)
            put_text(cell, value)
            cell.alignment = wrap
        ws.cell(r, 4).fill = FILLS[note.severity]
        # Row heights for the wrapped text (spreadsheets do not grow rows of a written file):
        # a CJK character takes two width units.
        lines = max(
            -(-len(display(value)) * 2 // (width - 1))
            for value, width in zip(parts, LIST_WIDTHS, strict=True)
        )
        ws.row_dimensions[r].height = max(1, lines) * LIST_LINE_PT + 4
    for i, width in enumerate(LIST_WIDTHS):
        ws.column_dimensions["ABCDE"[i]].width = width
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.print_title_rows = "1:1"
    ws.freeze_panes = "A2"


def annotate(source: Path, notes: Sequence[CellNote], out_path: Path) -> AnnotatedCopy | None:
    """Write `out_path` (.xlsx): a copy of `source` with every note's cell filled red (error) or
    yellow (warning) and commented, plus a 「问题清单」 sheet listing all notes (those without a
    cell too). None when the source cannot be opened (it is then only described in the letter)."""
    try:
        wb, values_only = _open_copy(source)
    except Exception as exc:  # a hostile or damaged archive file must not stop the run
        log.warning("cannot annotate %s: %s", source, exc)
        return None
    by_cell: dict[tuple[str, str], list[CellNote]] = defaultdict(list)
    for note in notes:
        ws = _sheet(wb, note.sheet)
        if ws is not None and note.cell:
            by_cell[(ws.title, note.cell)].append(note)
    marked = sum(_mark(wb[sheet], ref, group) for (sheet, ref), group in by_cell.items())
    _list_sheet(wb, notes)
    out_path = out_path.with_suffix(".xlsx")
    try:
        with atomic_path(out_path) as tmp:
            wb.save(tmp)
    except Exception as exc:  # whatever openpyxl cannot write of a hostile file: no copy
        log.warning("cannot write the annotated copy of %s: %s", source, exc)
        return None
    return AnnotatedCopy(out_path, values_only, marked)
