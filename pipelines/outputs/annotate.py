"""Annotated copies of a submitter's workbook: problem cells filled and commented.

The archived original is never written to; the copy goes to the outbox beside the letter. Legacy
.xls (and other formats openpyxl cannot open) are rebuilt as an .xlsx holding the read values, so
the submitter still sees where each problem is; the letter says the copy is values only. Copies are
always .xlsx: macros of .xlsm returns are dropped rather than mailed around.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from pipelines import config
from pipelines.fsio import atomic_path

log = logging.getLogger(__name__)

ERROR_COLOR = "FFFF8080"  # red: must be corrected
WARNING_COLOR = "FFFFFF00"  # yellow: to confirm
FILLS = {
    "error": PatternFill(fill_type="solid", fgColor=ERROR_COLOR, bgColor=ERROR_COLOR),
    "warning": PatternFill(fill_type="solid", fgColor=WARNING_COLOR, bgColor=WARNING_COLOR),
}
SEVERITY_LABEL = {"error": "错误", "warning": "提示"}
LIST_SHEET = "问题清单"
OPENPYXL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


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
    ever evaluates it: always a string cell, and shown with a quote prefix when it looks like a
    formula (= + - @), which also keeps it text if someone edits and re-saves the sheet."""
    text = "" if value is None else str(value)
    cell.value = text
    cell.data_type = "s"
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True


def safe_filename(name: object, *, default: str = "未命名", max_len: int = 80) -> str:
    """A file or folder name from outside text: no path separators, control or reserved
    characters, no leading dots, bounded length."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = _UNSAFE_NAME.sub("_", text).strip(" ._")
    return text[:max_len].rstrip(" ._") or default


def _open_copy(source: Path) -> tuple[Workbook, bool]:
    if source.suffix.lower() in OPENPYXL_SUFFIXES:
        return load_workbook(source, keep_vba=False, keep_links=False), False
    from python_calamine import CalamineWorkbook

    src = CalamineWorkbook.from_path(str(source))
    wb = Workbook()
    wb.remove(wb.active)
    for name in src.sheet_names:
        ws = wb.create_sheet(title=name[:31])
        for r, row in enumerate(src.get_sheet_by_name(name).to_python(skip_empty_area=False), 1):
            for c, value in enumerate(row, 1):
                if value == "" or value is None:
                    continue
                if isinstance(value, str):
                    put_text(ws.cell(r, c), value)
                else:
                    ws.cell(r, c, value)
    return wb, True


def _sheet(wb: Workbook, name: str | None) -> Worksheet | None:
    if name and name in wb.sheetnames:
        return wb[name]
    if name:
        for ws in wb.worksheets:  # the reader may report a stripped or re-cased name
            if ws.title.strip().casefold() == name.strip().casefold():
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
    text = "\n".join(f"【{SEVERITY_LABEL[n.severity]}】{n.message}" for n in notes)
    if cell.comment is not None and cell.comment.text:
        text = f"{cell.comment.text}\n{text}"
    comment = Comment(text, config.load("office.yaml")["short_name"])
    comment.width = 360
    comment.height = min(400, 60 + 18 * (text.count("\n") + 1 + len(text) // 28))
    cell.comment = comment
    return True


def _list_sheet(wb: Workbook, notes: Iterable[CellNote]) -> None:
    title = LIST_SHEET
    n = 1
    while title in wb.sheetnames:
        title, n = f"{LIST_SHEET}{n}", n + 1
    ws = wb.create_sheet(title)
    ws.append(["表", "工作表", "单元格", "类别", "问题说明"])
    for c in ws[1]:
        c.font = Font(bold=True)
    for note in notes:
        ws.append([None] * 5)
        r = ws.max_row
        for col, value in enumerate(
            (
                note.form_name,
                note.sheet or "",
                note.cell or "",
                SEVERITY_LABEL[note.severity],
                note.message,
            ),
            1,
        ):
            put_text(ws.cell(r, col), value)
        ws.cell(r, 4).fill = FILLS[note.severity]
    for letter, width in zip("ABCDE", (8, 16, 10, 8, 90), strict=True):
        ws.column_dimensions[letter].width = width


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
    with atomic_path(out_path) as tmp:
        wb.save(tmp)
    return AnnotatedCopy(out_path, values_only, marked)
