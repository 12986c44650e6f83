"""Write one form in the official layout onto a worksheet (openpyxl, or xlwt for legacy .xls).

Blank templates, sample returns and the consolidated district return all go through here, so the
grid the office sends out is the grid it reads back. The layout itself (where every row, column
and merge sits) comes from `pipelines.forms.layout`; this module adds the text of the title,
header line and notes, the styling, print setup and protection.

`plan_form` turns a form plus values into a list of cells and merges; `write_form` (openpyxl)
and `write_form_xls` (xlwt) only render that plan, so the two formats cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import weakref
import zipfile
from collections.abc import Mapping
from copy import copy
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from pipelines.forms import ColumnSpec
from pipelines.forms.layout import Layout, layout
from pipelines.fsio import atomic_path
from pipelines.registry import Submitter

CellValue = float | int | str | None
Values = Mapping[tuple[str, str], CellValue]

FONT_NAME = "宋体"
TITLE_FONT_NAME = "黑体"
GREY = "D9D9D9"
BLANK_DATE = "    年  月  日"

# Column widths in Excel character units.
LABEL_WIDTH = 20.0
LEVEL_WIDTH = 7.0
VALUE_WIDTH = 7.5  # numbers of up to 7 digits; 表四 then prints on two A4 pages at ≥ 7 pt
LINE_HEIGHT = 14.0  # points per wrapped line of 10.5pt 宋体

# Printing: A4 landscape, as the office prints. A form too wide to read on one page (表一, 表二,
# 表四) is split across pages at its column groups, with the label column and the header rows
# repeated on every page, at one scale that keeps the smallest text at MIN_PRINT_PT or more.
PAGE_WIDTH_PT = 841.9 - 2 * 0.4 * 72  # A4 landscape less the 0.4 in side margins
PAGE_HEIGHT_PT = 595.3 - 2 * 0.6 * 72  # … less the 0.6 in top and bottom margins
BELOW_TABLE_PT = 48.0  # room kept under the notes for a line such as the consolidated return's
MIN_PRINT_PT = 7.0
SMALLEST_FONT_PT = 10.0  # header labels and notes (data cells are 10.5)


def column_points(width: float) -> float:
    """Printed width of a column of `width` characters, the widest of the office suites: Excel
    gives a character 7 px (5.25 pt) of Calibri, LibreOffice without Calibri or Carlito 7 pt of
    DejaVu Sans (measured). A scale chosen for 7 pt keeps the text legible in both."""
    return width * 7.0


@dataclass(frozen=True, slots=True)
class PrintPlan:
    """How a form prints: `scale` None means one page wide (fit to width); otherwise the scale in
    per cent and the 0-based sheet columns after which a page ends (origin not applied)."""

    scale: int | None = None
    breaks: tuple[int, ...] = ()

    @property
    def first_page_last_col(self) -> int | None:
        return self.breaks[0] if self.breaks else None


@dataclass(frozen=True, slots=True)
class PlanCell:
    row: int
    col: int
    value: CellValue
    style: str  # title | headline | header | label | level | input | other | notes | pad


@dataclass(frozen=True, slots=True)
class InputCell:
    """One value a submitter types: where it is and whether it is theirs to fill."""

    row_key: str
    column: ColumnSpec
    row: int  # 0-based, on the sheet (origin applied)
    col: int
    last_row: int  # == row unless merged over a type's level rows
    own: bool  # False: the other submitter type's row (greyed, locked in a template)

    @property
    def ref(self) -> str:
        """A1 range of the cell (the whole merge for type-scoped columns)."""
        first = f"{get_column_letter(self.col + 1)}{self.row + 1}"
        if self.last_row == self.row:
            return first
        return f"{first}:{get_column_letter(self.col + 1)}{self.last_row + 1}"


@dataclass(frozen=True)
class FormPlan:
    form_id: str
    cells: tuple[PlanCell, ...]
    merges: tuple[tuple[int, int, int, int], ...]  # 0-based inclusive, origin applied
    widths: tuple[float, ...]  # per column from the origin's column
    heights: dict[int, float]  # sheet row → points
    inputs: tuple[InputCell, ...]
    origin: tuple[int, int]
    header_rows: tuple[int, int]  # first and last table-header row on the sheet
    first_data_row: int
    last_col: int
    printing: PrintPlan = PrintPlan()

    def table_cells(self) -> list[tuple[int, int]]:
        """Every (row, col) from the table header down to the notes line, pad included: each is
        boxed, so merged areas and empty padding show their borders."""
        notes_row = max(c.row for c in self.cells if c.style == "notes")
        cols = range(self.origin[1], self.last_col + 1)
        return [(r, c) for r in range(self.header_rows[0], notes_row) for c in cols]


def sheet_name(form_id: str) -> str:
    """「表一」…「表四」: the sheet name of a form in an official workbook."""
    return layout(form_id).form.name


def format_date(day: dt.date | str | None) -> str:
    """The header line's date as people write it; blank in a template; text is kept as typed."""
    if day is None:
        return BLANK_DATE
    if isinstance(day, str):
        return day
    return f"{day.year}年{day.month}月{day.day}日"


def header_line(submitter_text: str, header: Mapping[str, Any] | None) -> list[str]:
    """The four parts of the header line under the title, in order."""
    header = header or {}
    return [
        f"填报单位（盖章）：{submitter_text}",
        f"填表人：{header.get('filled_by') or ''}",
        f"联系电话：{header.get('phone') or ''}",
        format_date(header.get("date")),
    ]


def _headline_cols(n_cols: int) -> list[int]:
    """Columns of the header line's four parts, spread along the table width."""
    return [0, max(1, round(n_cols * 0.35)), max(2, round(n_cols * 0.6)), max(3, n_cols - 3)]


@cache
def _own_rows(form_id: str, submitter_type: str | None) -> frozenset[str]:
    """Row keys (and type keys) a submitter fills; every row when no submitter is given."""
    form = layout(form_id).form
    rows = form.rows if submitter_type is None else form.rows_of_type(submitter_type)
    return frozenset({r.key for r in rows} | {r.type_key for r in rows})


@cache
def _base_inputs(form_id: str, submitter_type: str | None) -> tuple[InputCell, ...]:
    """Input cells at origin A1 (cached: the sample plans hundreds of sheets)."""
    lay = layout(form_id)
    own = _own_rows(form_id, submitter_type)
    columns = {c.id: c for c in lay.form.columns}
    out = []
    for row_key, col_id, r, c in lay.value_cells():
        column = columns[col_id]
        last = r
        if column.scope == "type":
            last = max(lay.row_of[x.key] for x in lay.form.rows if x.group == row_key)
        out.append(InputCell(row_key, column, r, c, last, row_key in own))
    return tuple(out)


def _inputs(
    form_id: str, submitter_type: str | None, origin: tuple[int, int]
) -> tuple[InputCell, ...]:
    base = _base_inputs(form_id, submitter_type)
    if origin == (0, 0):
        return base
    r0, c0 = origin
    return tuple(
        InputCell(i.row_key, i.column, i.row + r0, i.col + c0, i.last_row + r0, i.own) for i in base
    )


def _label_cells(lay: Layout, own: set[str]) -> list[PlanCell]:
    """Row labels: column A (表二: the type label once per group) and 表二's 层级 columns."""
    form = lay.form
    cells = []
    seen_groups: set[str] = set()
    level_cols = [lay.col_of[c.id] for c in form.columns if c.role == "level_label"]
    for r in form.rows:
        row = lay.row_of[r.key]
        style = "label" if r.key in own else "other_label"
        if r.group:
            if r.group not in seen_groups:
                seen_groups.add(r.group)
                cells.append(PlanCell(row, 0, r.group_label, style))
            cells += [PlanCell(row, c, r.label, style) for c in level_cols]
        else:
            cells.append(PlanCell(row, 0, r.label, style))
    return cells


def _heights(
    lay: Layout, widths: list[float], notes: str, pad_rows: int, notes_cols: int
) -> dict[int, float]:
    """Row heights that show every wrapped header label and the whole notes line (merged over
    the first `notes_cols` columns)."""
    form = lay.form
    heights = {lay.title_row: 36.0, lay.header_line_row: 24.0}
    for r in range(lay.header_top, lay.header_bottom + 1):
        heights[r] = 24.0
    for h in form.header:
        c = lay.label_cols + h.first_leaf
        width = sum(widths[c : lay.label_cols + h.last_leaf + 1])
        lines = math.ceil(len(h.label) * 2 / max(width - 1, 2))
        need = lines * LINE_HEIGHT + 8
        top = lay.header_top + h.depth
        bottom = lay.header_bottom if h.is_leaf else top
        have = sum(heights[r] for r in range(top, bottom + 1))
        if need > have:
            heights[bottom] += need - have
    for r in range(lay.first_data_row, lay.last_data_row + 1 + pad_rows):
        heights[r] = 22.0  # pad rows too
    for row in form.rows:  # a long row label (小型学校幼儿园（含校外培训机构）) wraps
        lines = math.ceil(len(row.label) * 2 / (LABEL_WIDTH - 1))
        heights[lay.row_of[row.key]] = max(22.0, lines * LINE_HEIGHT + 6)
    lines = math.ceil(len(notes) * 2 / max(sum(widths[:notes_cols]) - 2, 10))
    heights[lay.notes_row + pad_rows] = lines * LINE_HEIGHT + 8
    return heights


def _widths(lay: Layout, pad_cols: int) -> list[float]:
    widths = [LABEL_WIDTH]
    for c in lay.form.columns:
        widths.append(LEVEL_WIDTH if c.role == "level_label" else VALUE_WIDTH)
    return widths + [VALUE_WIDTH] * pad_cols


def print_plan(lay: Layout, widths: list[float]) -> PrintPlan:
    """One page wide when the whole form is legible that way; otherwise as few pages as keep it
    legible, cut between column groups where that fits (else between leaves), pages as even as
    possible (the widest page sets the one scale), the label column repeated on each."""
    min_scale = MIN_PRINT_PT / SMALLEST_FONT_PT
    points = [column_points(w) for w in widths]
    if PAGE_WIDTH_PT / sum(points) >= min_scale:
        return PrintPlan()
    label = sum(points[: lay.label_cols])
    room = PAGE_WIDTH_PT / min_scale - label
    cols = list(range(lay.label_cols, len(widths)))
    group_starts = {lay.label_cols + h.first_leaf for h in lay.form.header if h.depth == 0}
    by_group = [i for i, c in enumerate(cols) if i and c in group_starts]
    by_leaf = list(range(1, len(cols)))

    def widest(cuts: tuple[int, ...]) -> float:
        edges = (0, *cuts, len(cols))
        return max(sum(points[c] for c in cols[a:b]) for a, b in itertools.pairwise(edges))

    for pages in range(2, len(cols) + 1):
        for allowed in (by_group, by_leaf):
            options = list(itertools.combinations(allowed, pages - 1))
            if not options:
                continue
            cuts = min(options, key=widest)
            if widest(cuts) <= room:
                scale = min(100, int(100 * PAGE_WIDTH_PT / (widest(cuts) + label)))
                return PrintPlan(scale, tuple(cols[i] - 1 for i in cuts))
    return PrintPlan()  # unreachable: one leaf per page always fits


def _split_at_breaks(
    lay: Layout, merges: list[tuple[int, int, int, int]], breaks: tuple[int, ...]
) -> tuple[list[tuple[int, int, int, int]], list[PlanCell]]:
    """A header group cut by a page break is merged on each page and labelled on each (「（续）」
    on the later pages), so no page shows a group header without its words."""
    text = {(r, c): t for r, c, t in lay.header_cells}
    out, labels = [], []
    for r0, c0, r1, c1 in merges:
        cuts = (
            [b for b in breaks if c0 <= b < c1] if lay.header_top <= r0 <= lay.header_bottom else []
        )
        edges = [c0, *[b + 1 for b in cuts], c1 + 1]
        for i, (a, b) in enumerate(itertools.pairwise(edges)):
            if (r0, a) != (r1, b - 1):
                out.append((r0, a, r1, b - 1))
            if i:
                labels.append(PlanCell(r0, a, f"{text.get((r0, c0), '')}（续）", "header"))
    return out, labels


def notes_line(form_id: str, campaign: int) -> str:
    """「注：1.…；2.…。」 from the form's notes for the campaign."""
    notes = layout(form_id).form.notes_text(campaign)
    return "注：" + "；".join(f"{i}.{n}" for i, n in enumerate(notes, 1)) + "。"


def plan_form(
    form_id: str,
    campaign: int,
    *,
    submitter: Submitter | None = None,
    values: Values | None = None,
    header: Mapping[str, Any] | None = None,
    origin: tuple[int, int] = (0, 0),
    pad: tuple[int, int] = (0, 0),
) -> FormPlan:
    """Every cell of the form with its text and style.

    header: optional `submitter_text` (the 填报单位 as written, default the submitter's name),
    `filled_by`, `phone`, `date` (a date; blank 「    年  月  日」 when absent).
    origin: (row, col) offset of the title cell, for tables that do not start at A1.
    pad: extra empty bordered (rows, columns) after the last data row / column, as people add.
    """
    lay = layout(form_id)
    form = lay.form
    values = values or {}
    header = header or {}
    pad_rows, pad_cols = pad
    own_type = submitter.type if submitter else None
    own = _own_rows(form_id, own_type)
    last_col = lay.n_cols - 1 + pad_cols
    notes = notes_line(form_id, campaign)
    text = header.get("submitter_text")
    if text is None:
        text = submitter.name if submitter else ""

    widths = _widths(lay, pad_cols)
    printing = print_plan(lay, widths)
    # On a form printed over several pages the title, header line and notes sit on the first.
    first_last = printing.first_page_last_col
    span_last = last_col if first_last is None else first_last
    cells = [PlanCell(lay.title_row, 0, form.title(campaign), "title")]
    for col, part in zip(_headline_cols(span_last + 1), header_line(text, header), strict=True):
        cells.append(PlanCell(lay.header_line_row, col, part, "headline"))
    cells += [PlanCell(r, c, t, "header") for r, c, t in lay.header_cells]
    cells += _label_cells(lay, own)
    inputs = _inputs(form_id, own_type, (0, 0))
    for cell in inputs:
        value = values.get((cell.row_key, cell.column.id))
        cells.append(PlanCell(cell.row, cell.col, value, "input" if cell.own else "other"))
    notes_row = lay.notes_row + pad_rows
    cells.append(PlanCell(notes_row, 0, notes, "notes"))

    merges = [m for m in lay.merges if m[0] not in (lay.title_row, lay.notes_row)]
    merges, continued = _split_at_breaks(lay, merges, printing.breaks)
    cells += continued
    merges += [(lay.title_row, 0, lay.title_row, span_last), (notes_row, 0, notes_row, span_last)]
    heights = _heights(lay, widths, notes, pad_rows, span_last + 1)
    if printing.scale is not None:  # each page also holds the form's whole height
        tall = int(100 * PAGE_HEIGHT_PT / (sum(heights.values()) + BELOW_TABLE_PT))
        floor = math.ceil(100 * MIN_PRINT_PT / SMALLEST_FONT_PT)
        printing = PrintPlan(max(floor, min(printing.scale, tall)), printing.breaks)
    r0, c0 = origin
    return FormPlan(
        form_id=form_id,
        cells=tuple(PlanCell(c.row + r0, c.col + c0, c.value, c.style) for c in cells),
        merges=tuple((a + r0, b + c0, c + r0, d + c0) for a, b, c, d in merges),
        widths=tuple(widths),
        heights={r + r0: h for r, h in heights.items()},
        inputs=_inputs(form_id, own_type, origin),
        origin=origin,
        header_rows=(lay.header_top + r0, lay.header_bottom + r0),
        first_data_row=lay.first_data_row + r0,
        last_col=last_col + c0,
        printing=printing,
    )


# ---------------------------------------------------------------- openpyxl rendering

_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_STYLE_SPECS: dict[str, dict[str, Any]] = {
    "title": {"font": Font(name=TITLE_FONT_NAME, size=16, bold=True), "alignment": _CENTRE},
    "headline": {
        "font": Font(name=FONT_NAME, size=11),
        "alignment": Alignment(horizontal="left", vertical="center"),
    },
    "header": {
        "font": Font(name=FONT_NAME, size=10, bold=True),
        "alignment": _CENTRE,
        "border": _BOX,
    },
    "label": {"font": Font(name=FONT_NAME, size=10.5), "alignment": _CENTRE, "border": _BOX},
    "other_label": {
        "font": Font(name=FONT_NAME, size=10.5, color="808080"),
        "alignment": _CENTRE,
        "border": _BOX,
        "fill": PatternFill("solid", fgColor=GREY),
    },
    "input": {"font": Font(name=FONT_NAME, size=10.5), "alignment": _CENTRE, "border": _BOX},
    "other": {
        "font": Font(name=FONT_NAME, size=10.5, color="808080"),
        "alignment": _CENTRE,
        "border": _BOX,
        "fill": PatternFill("solid", fgColor=GREY),
    },
    "pad": {"font": Font(name=FONT_NAME, size=10.5), "alignment": _CENTRE, "border": _BOX},
    "notes": {
        "font": Font(name=FONT_NAME, size=10),
        "alignment": Alignment(horizontal="left", vertical="top", wrap_text=True),
    },
}

# Style arrays per workbook: assigning font/border/... objects cell by cell is slow in openpyxl;
# copying a ready StyleArray is not.
_STYLE_CACHE: weakref.WeakKeyDictionary[Workbook, dict[tuple[str, bool], Any]] = (
    weakref.WeakKeyDictionary()
)


def _style_array(ws: Worksheet, style: str, unlocked: bool) -> Any:
    cache = _STYLE_CACHE.setdefault(ws.parent, {})
    key = (style, unlocked)
    if key not in cache:
        probe = Cell(ws)  # detached: registers the styles with the workbook, touches no cell
        for attr, value in _STYLE_SPECS[style].items():
            setattr(probe, attr, value)
        probe.protection = Protection(locked=not unlocked)
        cache[key] = probe._style
    return cache[key]


def _apply_style(ws: Worksheet, row: int, col: int, style: str, unlocked: bool = False) -> Any:
    cell = ws.cell(row=row + 1, column=col + 1)
    cell._style = copy(_style_array(ws, style, unlocked))
    return cell


def write_form(
    ws: Worksheet,
    form_id: str,
    campaign: int,
    *,
    submitter: Submitter | None = None,
    values: Values | None = None,
    header: Mapping[str, Any] | None = None,
    protect_inputs: bool = False,
    origin: tuple[int, int] = (0, 0),
    pad: tuple[int, int] = (0, 0),
) -> FormPlan:
    """Render the form onto `ws` in the official layout and return its plan (input cells …).

    With a submitter, only its own type's rows are input cells; the other type's rows are greyed.
    protect_inputs: unlock the input cells and protect the sheet without a password, so labels,
    merges and the other type's rows cannot be changed by accident.
    """
    plan = plan_form(
        form_id, campaign, submitter=submitter, values=values, header=header, origin=origin, pad=pad
    )
    _style_grid(ws, plan)
    unlocked = {(c.row, c.col) for c in plan.inputs if c.own} if protect_inputs else set()
    for cell in plan.cells:
        target = _apply_style(ws, cell.row, cell.col, cell.style, (cell.row, cell.col) in unlocked)
        if cell.value is not None:
            target.value = cell.value
    _merge(ws, plan.merges)
    _dimensions(ws, plan)
    _print_setup(ws, plan)
    if protect_inputs:
        _protect(ws)
    return plan


def _merge(ws: Worksheet, merges: tuple[tuple[int, int, int, int], ...]) -> None:
    """Register merged ranges. Every cell under a merge is already styled (boxed), so openpyxl's
    own merge_cells, which rebuilds the edge borders cell by cell and dominates the run time of a
    sample of a hundred workbooks, is not needed; the saved file is the same as Excel's."""
    for r0, c0, r1, c1 in merges:
        ws.merged_cells.add(
            CellRange(min_row=r0 + 1, min_col=c0 + 1, max_row=r1 + 1, max_col=c1 + 1)
        )


def _style_grid(ws: Worksheet, plan: FormPlan) -> None:
    """Borders on every cell of the table, so merged areas and pad cells are boxed too."""
    for r, c in plan.table_cells():
        _apply_style(ws, r, c, "pad")


def _dimensions(ws: Worksheet, plan: FormPlan) -> None:
    c0 = plan.origin[1]
    for i, width in enumerate(plan.widths):
        ws.column_dimensions[get_column_letter(c0 + i + 1)].width = width
    for r, height in plan.heights.items():
        ws.row_dimensions[r + 1].height = height


def _print_setup(ws: Worksheet, plan: FormPlan) -> None:
    """Landscape A4, centred, header rows repeated; one page wide, or (a wide form) split at its
    column groups at one legible scale with the label column repeated (`print_plan`)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    printing = plan.printing
    if printing.scale is None:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    else:
        ws.sheet_properties.pageSetUpPr.fitToPage = False
        ws.page_setup.scale = printing.scale
        for col in printing.breaks:
            ws.col_breaks.append(Break(id=plan.origin[1] + col + 1))
        label = get_column_letter(plan.origin[1] + 1)
        ws.print_title_cols = f"{label}:{label}"
    ws.print_options.horizontalCentered = printing.scale is None
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    top, bottom = plan.header_rows
    ws.print_title_rows = f"{top + 1}:{bottom + 1}"
    ws.freeze_panes = f"{get_column_letter(plan.origin[1] + 2)}{plan.first_data_row + 1}"


def _protect(ws: Worksheet) -> None:
    """Sheet protection without a password: structure stays, columns/rows may still be resized."""
    p = ws.protection
    p.sheet = True
    p.formatColumns = False
    p.formatRows = False
    p.selectLockedCells = False
    p.selectUnlockedCells = False


def save_workbook(wb: Workbook, path: Path, when: dt.datetime | None = None) -> Path:
    """Save with fixed document and zip timestamps, so the same content gives the same bytes."""
    when = (when or dt.datetime(2025, 1, 1)).replace(tzinfo=None, microsecond=0)
    wb.properties.created = when
    wb.properties.modified = when
    with (
        atomic_path(path) as tmp,
        _StableZip(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
    ):
        archive.date_time = (when.year, when.month, when.day, when.hour, when.minute, when.second)
        ExcelWriter(wb, archive).save()
    return path


class _StableZip(zipfile.ZipFile):
    """A ZipFile whose entries all carry one date instead of the time of writing."""

    date_time: tuple[int, int, int, int, int, int] = (2025, 1, 1, 0, 0, 0)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):  # noqa: D102
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self.date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):  # noqa: D102
        self.writestr(arcname or str(filename), Path(filename).read_bytes())


# ---------------------------------------------------------------- xlwt rendering (.xls)

_XLS_BORDER = "borders: left thin, right thin, top thin, bottom thin"
_XLS_CENTRE = "align: wrap on, vert centre, horiz centre"
_XLS_GREY = "pattern: pattern solid, fore_colour gray25"
_XLS_STYLES = {
    "title": f"font: name {TITLE_FONT_NAME}, height 320, bold on; {_XLS_CENTRE}",
    "headline": f"font: name {FONT_NAME}, height 220; align: vert centre, horiz left",
    "header": f"font: name {FONT_NAME}, height 200, bold on; {_XLS_BORDER}; {_XLS_CENTRE}",
    "label": f"font: name {FONT_NAME}, height 210; {_XLS_BORDER}; {_XLS_CENTRE}",
    "other_label": f"font: name {FONT_NAME}, height 210; {_XLS_BORDER}; {_XLS_CENTRE}; {_XLS_GREY}",
    "input": f"font: name {FONT_NAME}, height 210; {_XLS_BORDER}; {_XLS_CENTRE}",
    "other": f"font: name {FONT_NAME}, height 210; {_XLS_BORDER}; {_XLS_CENTRE}; {_XLS_GREY}",
    "pad": f"font: name {FONT_NAME}, height 210; {_XLS_BORDER}; {_XLS_CENTRE}",
    "notes": f"font: name {FONT_NAME}, height 200; align: wrap on, vert top, horiz left",
}
_XLS_CACHE: dict[str, Any] = {}


def _xls_style(style: str) -> Any:
    import xlwt

    if style not in _XLS_CACHE:
        _XLS_CACHE[style] = xlwt.easyxf(_XLS_STYLES[style])
    return _XLS_CACHE[style]


def write_form_xls(
    sheet: Any,
    form_id: str,
    campaign: int,
    *,
    submitter: Submitter | None = None,
    values: Values | None = None,
    header: Mapping[str, Any] | None = None,
    origin: tuple[int, int] = (0, 0),
    pad: tuple[int, int] = (0, 0),
) -> FormPlan:
    """The same form onto an xlwt sheet (legacy .xls, as older WPS/Excel users still send).
    The sheet must be created with cell_overwrite_ok=True."""
    plan = plan_form(
        form_id, campaign, submitter=submitter, values=values, header=header, origin=origin, pad=pad
    )
    pad_style = _xls_style("pad")
    for r, c in plan.table_cells():
        sheet.write(r, c, None, pad_style)
    for cell in plan.cells:
        sheet.write(cell.row, cell.col, cell.value, _xls_style(cell.style))
    starts = {(c.row, c.col): c for c in plan.cells}
    for r0, c0, r1, c1 in plan.merges:
        first = starts.get((r0, c0))
        sheet.merge(r0, r1, c0, c1, _xls_style(first.style if first else "pad"))
    for i, width in enumerate(plan.widths):
        sheet.col(plan.origin[1] + i).width = int(width * 256)
    for r, height in plan.heights.items():
        row = sheet.row(r)
        row.height_mismatch = True
        row.height = int(height * 20)
    sheet.landscape = True
    sheet.paper_size_code = 9  # A4
    if plan.printing.scale is None:
        sheet.fit_num_pages = 1
        sheet.fit_width_to_pages = 1
        sheet.fit_height_to_pages = 0
        sheet.print_centered_horz = True
    else:
        sheet.print_scaling = plan.printing.scale
        sheet.vert_page_breaks = [(plan.origin[1] + c + 1, 0, 65535) for c in plan.printing.breaks]
    return plan


# ---------------------------------------------------------------- direct .xlsx rendering
# The sample writes ~100 workbooks; openpyxl's pure-Python serialiser needs ~0.15 s for one
# four-sheet workbook, this renderer ~5 ms. It renders the same FormPlan, with the same styles,
# so templates (openpyxl, with data validation) and sample returns share one layout.

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# (font, fill, border, alignment) per style key; fonts/fills/borders index the lists below.
_FONTS = (
    '<font><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font>',
    f'<font><b/><sz val="16"/><name val="{TITLE_FONT_NAME}"/><charset val="134"/></font>',
    f'<font><b/><sz val="10"/><name val="{FONT_NAME}"/><charset val="134"/></font>',
    f'<font><sz val="10.5"/><name val="{FONT_NAME}"/><charset val="134"/></font>',
    f'<font><sz val="10.5"/><color rgb="FF808080"/><name val="{FONT_NAME}"/><charset val="134"/></font>',
    f'<font><sz val="10"/><name val="{FONT_NAME}"/><charset val="134"/></font>',
)
_FILLS = (
    '<fill><patternFill patternType="none"/></fill>',
    '<fill><patternFill patternType="gray125"/></fill>',
    f'<fill><patternFill patternType="solid"><fgColor rgb="FF{GREY}"/><bgColor indexed="64"/></patternFill></fill>',
)
_BORDERS = (
    "<border><left/><right/><top/><bottom/><diagonal/></border>",
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
    '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom>'
    "<diagonal/></border>",
)
_AL_CENTRE = '<alignment horizontal="center" vertical="center" wrapText="1"/>'
_XF_PARTS = {
    "title": (1, 0, 0, _AL_CENTRE),
    "headline": (0, 0, 0, '<alignment horizontal="left" vertical="center"/>'),
    "header": (2, 0, 1, _AL_CENTRE),
    "label": (3, 0, 1, _AL_CENTRE),
    "other_label": (4, 2, 1, _AL_CENTRE),
    "input": (3, 0, 1, _AL_CENTRE),
    "other": (4, 2, 1, _AL_CENTRE),
    "pad": (3, 0, 1, _AL_CENTRE),
    "notes": (5, 0, 0, '<alignment horizontal="left" vertical="top" wrapText="1"/>'),
}
_XF_INDEX = {
    (key, unlocked): 1 + 2 * i + unlocked for i, key in enumerate(_XF_PARTS) for unlocked in (0, 1)
}


def _styles_xml() -> str:
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
    for font, fill, border, align in _XF_PARTS.values():
        for unlocked in (0, 1):
            prot = '<protection locked="0"/>' if unlocked else ""
            apply_prot = ' applyProtection="1"' if unlocked else ""
            xfs.append(
                f'<xf numFmtId="0" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0" '
                f'applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"'
                f"{apply_prot}>{align}{prot}</xf>"
            )
    return (
        f'{_XML_HEAD}<styleSheet xmlns="{_NS}">'
        f'<fonts count="{len(_FONTS)}">{"".join(_FONTS)}</fonts>'
        f'<fills count="{len(_FILLS)}">{"".join(_FILLS)}</fills>'
        f'<borders count="{len(_BORDERS)}">{"".join(_BORDERS)}</borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


class _SharedStrings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0

    def add(self, text: str) -> int:
        self.count += 1
        return self.index.setdefault(text, len(self.index))

    def xml(self) -> str:
        items = "".join(
            f'<si><t xml:space="preserve">{escape(t)}</t></si>'
            if t != t.strip()
            else f"<si><t>{escape(t)}</t></si>"
            for t in self.index
        )
        return (
            f'{_XML_HEAD}<sst xmlns="{_NS}" count="{self.count}" uniqueCount="{len(self.index)}">'
            f"{items}</sst>"
        )


def _cell_xml(ref: str, value: CellValue, xf: int, strings: _SharedStrings) -> str:
    if value is None:
        return f'<c r="{ref}" s="{xf}"/>'
    if isinstance(value, bool):
        return f'<c r="{ref}" s="{xf}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}" s="{xf}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" s="{xf}" t="s"><v>{strings.add(str(value))}</v></c>'


def _sheet_xml(plan: FormPlan, protect: bool, strings: _SharedStrings) -> str:
    grid: dict[tuple[int, int], tuple[CellValue, str]] = dict.fromkeys(
        plan.table_cells(), (None, "pad")
    )
    for cell in plan.cells:
        grid[cell.row, cell.col] = (cell.value, cell.style)
    unlocked = {(c.row, c.col) for c in plan.inputs if c.own} if protect else set()
    rows: dict[int, list[str]] = {}
    for (r, c), (value, style) in sorted(grid.items()):
        xf = _XF_INDEX[style, int((r, c) in unlocked)]
        rows.setdefault(r, []).append(
            _cell_xml(f"{get_column_letter(c + 1)}{r + 1}", value, xf, strings)
        )
    data = "".join(
        f'<row r="{r + 1}"{_height_attr(plan, r)}>{"".join(cells)}</row>'
        for r, cells in rows.items()
    )
    c0 = plan.origin[1]
    cols = "".join(
        f'<col min="{c0 + i + 1}" max="{c0 + i + 1}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(plan.widths)
    )
    top_left = f"{get_column_letter(c0 + 2)}{plan.first_data_row + 1}"
    view = (
        f'<sheetView workbookViewId="0"><pane xSplit="{c0 + 1}" ySplit="{plan.first_data_row}" '
        f'topLeftCell="{top_left}" activePane="bottomRight" state="frozen"/>'
        f'<selection pane="bottomRight" activeCell="{top_left}" sqref="{top_left}"/></sheetView>'
    )
    merges = "".join(
        f'<mergeCell ref="{get_column_letter(b + 1)}{a + 1}:{get_column_letter(d + 1)}{c + 1}"/>'
        for a, b, c, d in plan.merges
    )
    last = max(rows)
    printing = plan.printing
    if printing.scale is None:
        fit, centred = '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>', "1"
        page = '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
    else:
        fit, centred = "", "0"
        page = f'<pageSetup paperSize="9" scale="{printing.scale}" orientation="landscape"/>'
        page += (
            f'<colBreaks count="{len(printing.breaks)}" manualBreakCount="{len(printing.breaks)}">'
            + "".join(
                f'<brk id="{c0 + col + 1}" max="1048575" man="1"/>' for col in printing.breaks
            )
            + "</colBreaks>"
        )
    protection = (
        '<sheetProtection sheet="1" objects="1" scenarios="1" formatColumns="0" formatRows="0"/>'
        if protect
        else ""
    )
    return (
        f'{_XML_HEAD}<worksheet xmlns="{_NS}" xmlns:r="{_REL}">{fit}'
        f'<dimension ref="A1:{get_column_letter(plan.last_col + 1)}{last + 1}"/>'
        f"<sheetViews>{view}</sheetViews>"
        '<sheetFormatPr defaultRowHeight="14.25"/>'
        f"<cols>{cols}</cols><sheetData>{data}</sheetData>{protection}"
        f'<mergeCells count="{len(plan.merges)}">{merges}</mergeCells>'
        f'<printOptions horizontalCentered="{centred}"/>'
        '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
        f"{page}</worksheet>"
    )


def _height_attr(plan: FormPlan, row: int) -> str:
    height = plan.heights.get(row)
    return f' ht="{height:g}" customHeight="1"' if height else ""


def _print_titles(name: str, plan: FormPlan) -> str:
    """The rows (and, for a form split across pages, the label column) every page repeats."""
    sheet = escape(name).replace("'", "''")
    rows = f"'{sheet}'!${plan.header_rows[0] + 1}:${plan.header_rows[1] + 1}"
    if plan.printing.scale is None:
        return rows
    col = get_column_letter(plan.origin[1] + 1)
    return f"'{sheet}'!${col}:${col},{rows}"


def _workbook_parts(names: list[str], plans: list[FormPlan]) -> dict[str, str]:
    sheets = "".join(
        f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1)
    )
    titles = "".join(
        f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{_print_titles(n, p)}</definedName>'
        for i, (n, p) in enumerate(zip(names, plans, strict=True))
    )
    n = len(names)
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    rels += f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
    rels += (
        f'<Relationship Id="rId{n + 2}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT_SHEET}"/>'
        for i in range(1, n + 1)
    )
    ct = "application/vnd.openxmlformats-officedocument"
    return {
        "[Content_Types].xml": (
            f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}"
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.spreadsheetml.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{ct}.extended-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'{_XML_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_REL}">'
            f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
            f"<definedNames>{titles}</definedNames></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>',
    }


def _doc_props(creator: str, when: dt.datetime) -> dict[str, str]:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "docProps/core.xml": (
            f"{_XML_HEAD}<cp:coreProperties "
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:creator>{escape(creator)}</dc:creator><cp:lastModifiedBy>{escape(creator)}</cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "docProps/app.xml": (
            f'{_XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>Microsoft Excel</Application></Properties>"
        ),
    }


def save_plans(
    path: Path,
    sheets: list[tuple[str, FormPlan]],
    *,
    protect: bool = False,
    when: dt.datetime | None = None,
    creator: str = "",
) -> Path:
    """Write planned forms as the sheets of one .xlsx, byte-stable for the same input."""
    when = (when or dt.datetime(2025, 1, 1)).replace(tzinfo=None, microsecond=0)
    names = [n for n, _ in sheets]
    plans = [p for _, p in sheets]
    strings = _SharedStrings()
    parts = _workbook_parts(names, plans)
    for i, plan in enumerate(plans, 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = _sheet_xml(plan, protect, strings)
    parts["xl/styles.xml"] = _styles_xml()
    parts["xl/sharedStrings.xml"] = strings.xml()
    parts.update(_doc_props(creator, when))
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, xml.encode("utf-8"))
    return path
