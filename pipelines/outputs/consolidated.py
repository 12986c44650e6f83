"""The consolidated district return (汇总表): the four forms in the official layout, filled with
district totals, each followed by a 「表N明细」 sheet that shows where every number came from.

Totals use only the latest accepted version of each submitter's return (the warehouse view
`official_values`), per submitter type: the 区安委会成员单位 rows sum the departments, the 街道
rows the 街道; the two are never added together (a 街道 and a department report the same
enterprises). 表四's 总数 row is the sum of its nine categories.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipelines import clock, config, periods
from pipelines.forms import FORM_IDS, FormSpec, get_form
from pipelines.forms.layout import layout
from pipelines.forms.workbook import FormPlan, save_workbook, sheet_name, write_form
from pipelines.outputs.annotate import put_text
from pipelines.registry import load_registry
from pipelines.text import strip_unit

Number = int | float
AMOUNT_DIGITS = 4  # 万元 to the yuan and a bit: float sums must not show binary noise


def _number(form: FormSpec, column_id: str, value: float) -> Number:
    if form.column(column_id).is_amount:
        return round(value, AMOUNT_DIGITS)
    return int(round(value))


# One official value with where it came from: (form, submitter, submitter_type, row_key,
# column_id, value, received_at, original_name).
OfficialRow = tuple[str, str, str, str, str, float | None, dt.datetime | None, str | None]


def official_rows(con: duckdb.DuckDBPyConnection, quarter: str) -> list[OfficialRow]:
    """Every official value of the quarter, read once (the view derives them; reading it per
    form and per purpose was most of the return's run time)."""
    return con.execute(
        """
        select o.form, o.submitter, o.submitter_type, o.row_key, o.column_id, o.value,
               o.received_at, s.original_name
        from official_values o left join submissions s on s.submission_id = o.submission_id
        where o.quarter = ?
        """,
        [quarter],
    ).fetchall()


def district_values(
    con: duckdb.DuckDBPyConnection, quarter: str, rows: list[OfficialRow] | None = None
) -> dict[str, dict[tuple[str, str], Number | None]]:
    """form → {(row_key, column_id): district total}; every input cell present: the sum over the
    units of the row's type with an official return (0 is then a real sum), None where no unit of
    that type has one yet (a blank, never a 0 that reads as a figure)."""
    rows = official_rows(con, quarter) if rows is None else rows
    sums: dict[str, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    included = {(r[0], r[2]) for r in rows}
    for form_id, _, sub_type, row_key, column_id, total, _, _ in rows:
        if total is None or form_id not in FORM_IDS:
            continue
        form = get_form(form_id)
        value_ids = {c.id for c in form.value_columns}
        # Another type's row in a return is ignored by the validator; never count it here either.
        if column_id in value_ids and form.type_by_key.get(row_key) == sub_type:
            sums[form_id][(row_key, column_id)] += float(total)
    out: dict[str, dict[tuple[str, str], Number | None]] = {}
    for form_id in FORM_IDS:
        form = get_form(form_id)
        totals = {r.key for r in form.rows if r.is_total}
        cells: dict[tuple[str, str], Number | None] = {}
        for row_key, column_id, _, _ in layout(form_id).value_cells():
            if row_key in totals:
                continue
            if (form_id, form.type_by_key.get(row_key)) not in included:
                cells[(row_key, column_id)] = None
                continue
            cells[(row_key, column_id)] = _number(
                form, column_id, sums[form_id].get((row_key, column_id), 0.0)
            )
        for total in totals:
            for col in form.value_columns:
                parts = [v for (r, c), v in cells.items() if c == col.id and r not in totals]
                known = [v for v in parts if v is not None]
                cells[(total, col.id)] = _number(form, col.id, float(sum(known))) if known else None
        out[form_id] = cells
    return out


# ---------------------------------------------------------------- the 明细 sheets

_BOLD = Font(bold=True)
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="center")


def _detail_rows(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    form: FormSpec,
    rows: list[OfficialRow] | None = None,
) -> list[dict]:
    """One dict per submitter × row key of the official versions, in registry and form order."""
    rows = official_rows(con, quarter) if rows is None else rows
    lines: dict[tuple[str, str], dict] = {}
    for form_id, sub, sub_type, row_key, column_id, value, received, name in rows:
        if form_id != form.id or form.type_by_key.get(row_key) != sub_type:
            continue
        line = lines.setdefault(
            (sub, row_key),
            {
                "submitter": sub,
                "type": sub_type,
                "row_key": row_key,
                "values": {},
                "received": received,
                "file": name,
            },
        )
        line["values"][column_id] = value
    order = {s.name: i for i, s in enumerate(load_registry().submitters)}
    row_order = {k: i for i, k in enumerate(_row_keys(form))}
    return sorted(
        lines.values(),
        key=lambda x: (
            order.get(x["submitter"], len(order)),
            x["submitter"],
            row_order.get(x["row_key"], 99),
        ),
    )


def _row_keys(form: FormSpec) -> list[str]:
    """Row keys in display order; 表二's type key follows its type's level rows."""
    keys: list[str] = []
    for r in form.rows:
        keys.append(r.key)
        last_of_group = r.group and r is [x for x in form.rows if x.group == r.group][-1]
        if last_of_group and any(c.scope == "type" for c in form.columns):
            keys.append(r.group)  # type: ignore[arg-type]
    return keys


def _row_label(form: FormSpec, row_key: str) -> str:
    """A row's display label; 表二's type key names the column groups held once per type."""
    for r in form.rows:
        if r.key == row_key:
            return r.display
        if r.group == row_key:
            groups = dict.fromkeys(strip_unit(c.path[0]) for c in form.columns if c.scope == "type")
            return f"{r.group_label}·不分层级（{'、'.join(groups)}）"
    return row_key


@dataclass(frozen=True)
class Coverage:
    """Who a form's totals include this quarter, and who they leave out and why (registry
    order): `nothing` sent no version at all, `rejected` sent only versions that did not pass
    validation (or were sent back); each unit is in exactly one of the three lists."""

    included: list[str]
    nothing: list[str]
    rejected: list[str]
    due: bool  # the due date has passed (before it, sending nothing is not yet late)

    def missing_lines(self) -> list[str]:
        """The 明细 sheet's lines, one per reason, without contradiction."""
        none = "尚未报送（未到截止日）" if not self.due else "未报送"
        return [
            f"{none}单位（{len(self.nothing)} 个）：{'、'.join(self.nothing) or '无'}",
            f"已报送但未通过校验、待更正后重报的单位（{len(self.rejected)} 个）："
            f"{'、'.join(self.rejected) or '无'}",
        ]

    def note(self, form: FormSpec) -> str:
        """The line under an official sheet: which units the totals include, which not, why."""
        count = f"本表汇总 {len(self.included)} 个单位已采用的{form.name}"
        if not self.included:
            count = f"本季度尚无已采用的{form.name}，本表暂未填数（空白不表示 0）"
        left = []
        if self.nothing:
            why = "尚未报送，未到截止日" if not self.due else "未报送"
            left.append(f"{'、'.join(self.nothing)}（{why}）")
        if self.rejected:
            left.append(f"{'、'.join(self.rejected)}（已报送但未通过校验，待更正后重报）")
        tail = f"；未计入：{'；'.join(left)}" if left else "；应报单位均已计入"
        return f"{count}{tail}。某类单位均未计入时，该类单位所在行不填数。"


def coverages(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    *,
    today: dt.date,
    rows: list[OfficialRow] | None = None,
) -> dict[str, Coverage]:
    """form → who its totals include and who they leave out this quarter (one query)."""
    rows = official_rows(con, quarter) if rows is None else rows
    present = {(r[0], r[1]) for r in rows}
    tried = set(
        con.execute(
            "select distinct form, submitter from submissions where quarter = ?", [quarter]
        ).fetchall()
    )
    due = not periods.is_on_time(periods.Quarter.parse(quarter), today)
    out = {}
    for form_id in FORM_IDS:
        owed = [s.name for s in load_registry().submitters if form_id in s.forms]
        out[form_id] = Coverage(
            included=[n for n in owed if (form_id, n) in present],
            nothing=[n for n in owed if (form_id, n) not in present | tried],
            rejected=[n for n in owed if (form_id, n) not in present and (form_id, n) in tried],
            due=due,
        )
    return out


def _style(ws: Worksheet, **attrs: Any) -> StyleArray:
    """A cell style registered with the workbook once. Assigning Font/Border/... objects cell by
    cell hashes them every time (most of the sheet's run time); copying the array does not."""
    probe = Cell(ws)  # detached: registers the styles, touches no cell of the sheet
    for name, value in attrs.items():
        setattr(probe, name, value)
    return probe._style


def _styled(cell: Cell, style: StyleArray) -> Cell:
    cell._style = copy(style)
    return cell


def write_details(
    ws: Worksheet,
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    form_id: str,
    *,
    today: dt.date | None = None,
    rows: list[OfficialRow] | None = None,
    cover: Coverage | None = None,
) -> int:
    """The 「表N明细」 sheet: every submitter's official row(s), the file and time it came from,
    who sent nothing and who sent only rejected returns; printable (A4 landscape, one page wide,
    header rows repeated). Returns the number of submitter lines."""
    form = get_form(form_id)
    q = periods.Quarter.parse(quarter)
    cols = list(form.value_columns)
    head = ["填报单位", "单位类型", "行", *("›".join(c.path) for c in cols), "接收时间", "文件"]
    title = _styled(ws.cell(1, 1), _style(ws, font=Font(bold=True, size=13)))
    put_text(title, f"{form.name}明细：各单位报送数据（{q.label}，各单位最新一次通过校验的版本）")
    head_style = _style(ws, font=_BOLD, fill=_HEAD_FILL, border=_BOX, alignment=_WRAP)
    for c, text in enumerate(head, 1):
        put_text(_styled(ws.cell(2, c), head_style), text)
    rows = official_rows(con, quarter) if rows is None else rows
    lines = _detail_rows(con, quarter, form, rows)
    # Registered only when used: an unused number format would still be written to the file.
    boxed = _style(ws, border=_BOX, alignment=_WRAP) if lines else StyleArray()
    stamped = (
        _style(ws, number_format="yyyy-mm-dd hh:mm", border=_BOX, alignment=_WRAP)
        if lines
        else StyleArray()
    )
    for r, line in enumerate(lines, 3):
        row = [_styled(ws.cell(r, c), boxed) for c in range(1, len(head) + 1)]
        put_text(row[0], line["submitter"])
        put_text(row[1], line["type"])
        put_text(row[2], _row_label(form, line["row_key"]))
        for c, col in enumerate(cols, 3):
            value = line["values"].get(col.id)
            if value is not None:
                row[c].value = _number(form, col.id, float(value))
        _styled(row[len(cols) + 3], stamped).value = line["received"]
        put_text(row[len(cols) + 4], line["file"] or "")
    if cover is None:
        cover = coverages(con, quarter, today=today or clock.today(), rows=rows)[form_id]
    r = len(lines) + 4
    for i, (text, empty) in enumerate(
        zip(cover.missing_lines(), (cover.nothing, cover.rejected), strict=True)
    ):
        colour = "000000" if not empty else "C00000"
        line = _styled(ws.cell(r + i, 1), _style(ws, font=Font(bold=True, color=colour)))
        put_text(line, text)
    widths = {"A": 11, "B": 10, "C": 16}  # narrow: the sheet prints one page wide
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    for c in range(4, len(cols) + 4):
        ws.column_dimensions[get_column_letter(c)].width = 6.5
    ws.column_dimensions[get_column_letter(len(cols) + 4)].width = 11
    ws.column_dimensions[get_column_letter(len(cols) + 5)].width = 22
    ws.row_dimensions[2].height = 110
    ws.freeze_panes = "D3"
    _detail_print_setup(ws, len(head))
    return len(lines)


def _detail_print_setup(ws: Worksheet, n_cols: int) -> None:
    """A4 landscape, one page wide, the title and header rows repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.3
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_title_rows = "1:2"
    ws.print_area = f"A1:{get_column_letter(n_cols)}{ws.max_row}"


# ---------------------------------------------------------------- the workbook


def consolidated_path(reports_dir: Path, quarter: str) -> Path:
    """data/reports/<quarter>/汇总表_<quarter>.xlsx"""
    return reports_dir / quarter / f"汇总表_{quarter}.xlsx"


def write_consolidated(
    con: duckdb.DuckDBPyConnection, quarter: str, out_path: Path, *, today: dt.date | None = None
) -> Path:
    """Write the district return for `quarter` to `out_path`: sheets 表一, 表一明细 … 表四明细.
    填报单位 is the office; its contact fills 填表人 and 联系电话; the date is `today`."""
    q = periods.Quarter.parse(quarter)
    office = config.load("office.yaml")
    header = {
        "submitter_text": office["name"],
        "filled_by": office.get("contact_person"),
        "phone": office.get("phone"),
        "date": today or clock.today(),
    }
    rows = official_rows(con, str(q))
    totals = district_values(con, str(q), rows)
    covers = coverages(con, str(q), today=header["date"], rows=rows)
    wb = Workbook()
    wb.remove(wb.active)
    for form_id in FORM_IDS:
        ws = wb.create_sheet(sheet_name(form_id))
        # No submitter: every row is the office's to fill (both types' rows, none greyed).
        plan = write_form(
            ws, form_id, q.campaign, submitter=None, values=totals[form_id], header=header
        )
        _coverage_note(ws, plan, covers[form_id].note(get_form(form_id)))
        details = wb.create_sheet(f"{get_form(form_id).name}明细")
        write_details(details, con, str(q), form_id, rows=rows, cover=covers[form_id])
    return save_workbook(wb, out_path, dt.datetime.combine(header["date"], dt.time()))


def _coverage_note(ws: Worksheet, plan: FormPlan, text: str) -> None:
    """Under the notes: which units the totals include and which not, and why."""
    notes = max(c.row for c in plan.cells if c.style == "notes")
    row = notes + 2  # 0-based; one empty row between
    last = plan.printing.first_page_last_col
    last = plan.last_col if last is None else plan.origin[1] + last
    cell = ws.cell(row + 1, plan.origin[1] + 1)
    put_text(cell, text)
    cell.font = Font(name="宋体", size=10.5, bold=True)
    cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
    ws.merge_cells(
        start_row=row + 1, start_column=plan.origin[1] + 1, end_row=row + 1, end_column=last + 1
    )
    width = sum(plan.widths[: last - plan.origin[1] + 1])
    ws.row_dimensions[row + 1].height = 16 * max(1, -(-len(text) * 2 // max(int(width), 1))) + 6
