"""Recognise returns on a read sheet: which form, where its table is, who sent it, which quarter.

Pure functions over a SheetGrid. Tables are found by their title and header labels wherever they
start, so inserted rows, an offset table, renamed sheets and re-typed headers still read; values
are taken as raw cells here and coerced by pipelines.rules.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from pipelines import config, periods
from pipelines.forms import ColumnSpec, FormSpec, RowSpec, load_forms
from pipelines.reader.model import SheetGrid
from pipelines.registry import Submitter, load_registry
from pipelines.text import norm, strip_unit

_TITLE = re.compile(r"季报表[（(]?([一二三四1234])[）)]?")
_FORM_BY_NUMBER = {"一": "form1", "二": "form2", "三": "form3", "四": "form4"}
_FORM_BY_NUMBER.update({"1": "form1", "2": "form2", "3": "form3", "4": "form4"})
_YEAR = re.compile(r"(20\d\d)年")
_DATE = re.compile(r"(20\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_FIELD_END = re.compile(r"填表人|联系电话|填报日期|日期|审核人|负责人")
MAX_HEADER_SCAN = 40  # rows searched for a title or header above a table


def a1(r: int, c: int) -> str:
    return f"{get_column_letter(c + 1)}{r + 1}"


@dataclass(slots=True)
class RawCell:
    row_key: str
    column_id: str
    value: object
    r: int
    c: int
    formula_without_value: bool = False

    @property
    def cell(self) -> str:
        return a1(self.r, self.c)


@dataclass(slots=True)
class Finding:
    """A structural problem found while recognising (rule id from rules.yaml structure_rules)."""

    rule: str
    cell: str | None
    params: dict


@dataclass(slots=True)
class Recognised:
    form: FormSpec
    sheet: str
    campaign: int | None
    submitter: Submitter | None
    submitter_text: str | None
    filled_by: str | None
    phone: str | None
    header_date: dt.date | None
    cells: list[RawCell] = field(default_factory=list)
    rows_found: dict[str, int] = field(default_factory=dict)  # row_key → sheet row
    findings: list[Finding] = field(default_factory=list)


class _Grid:
    """A sheet with merged ranges filled in, normalised text cached."""

    def __init__(self, sheet: SheetGrid) -> None:
        self.sheet = sheet
        self.cells = sheet.cells
        self.n_rows = len(sheet.cells)
        self.n_cols = max((len(r) for r in sheet.cells), default=0)
        self.origin: dict[tuple[int, int], tuple[int, int]] = {}
        for r0, c0, r1, c1 in sheet.merged:
            if r1 - r0 > 500 or c1 - c0 > 300:  # absurd merges (hostile files) fill nothing
                continue
            for r in range(r0, min(r1, self.n_rows - 1) + 1):
                for c in range(c0, c1 + 1):
                    if (r, c) != (r0, c0):
                        self.origin[(r, c)] = (r0, c0)
        self._norm: dict[tuple[int, int], str] = {}

    def raw(self, r: int, c: int) -> object:
        r, c = self.origin.get((r, c), (r, c))
        row = self.cells[r] if 0 <= r < self.n_rows else ()
        return row[c] if 0 <= c < len(row) else None

    def own(self, r: int, c: int) -> object:
        """The cell itself, not its merge origin (values are never duplicated by merges)."""
        row = self.cells[r] if 0 <= r < self.n_rows else ()
        return row[c] if 0 <= c < len(row) else None

    def text(self, r: int, c: int) -> str:
        key = (r, c)
        if key not in self._norm:
            v = self.raw(r, c)
            self._norm[key] = norm(v) if isinstance(v, str) else ""
        return self._norm[key]

    def row_texts(self, r: int) -> list[tuple[int, str]]:
        row = self.cells[r] if 0 <= r < self.n_rows else ()
        return [(c, norm(v)) for c, v in enumerate(row) if isinstance(v, str) and v.strip()]


def _title_rows(grid: _Grid) -> list[tuple[int, str, int | None]]:
    """(row, form_id, campaign year) for every title line on the sheet."""
    found = []
    for r in range(grid.n_rows):
        for _, text in grid.row_texts(r):
            m = _TITLE.search(text)
            if m and len(text) < 200:
                y = _YEAR.search(text)
                found.append((r, _FORM_BY_NUMBER[m.group(1)], int(y.group(1)) if y else None))
                break
    return found


def _row_matchers(form: FormSpec) -> dict[str, list[RowSpec]]:
    out: dict[str, list[RowSpec]] = {}
    for row in form.rows:
        for label in (row.label, *row.aliases):
            out.setdefault(norm(label), []).append(row)
    return out


def _column_index(form: FormSpec) -> dict[str, list[ColumnSpec]]:
    """Every path suffix of every column (with and without units) → the columns it names."""
    idx: dict[str, list[ColumnSpec]] = {}
    for col in form.columns:
        for leaf in (col.label, *col.aliases):
            path = [norm(x) for x in (*col.path[:-1], leaf)]
            for variant in (path, [strip_unit(x) for x in path]):
                for k in range(1, len(variant) + 1):
                    key = "/".join(variant[-k:])
                    bucket = idx.setdefault(key, [])
                    if col not in bucket:
                        bucket.append(col)
    return idx


def _header_path(grid: _Grid, top: int, bottom: int, c: int) -> list[str]:
    path: list[str] = []
    for r in range(top, bottom + 1):
        t = grid.text(r, c)
        if t and (not path or path[-1] != t):
            path.append(t)
    return path


def _match_columns(
    form: FormSpec, grid: _Grid, top: int, bottom: int, first_col: int
) -> dict[str, int]:
    """Map column ids to sheet columns by their header paths, longest matching suffix first;
    ties go to the leftmost unassigned column of the form (headers repeat, e.g. 场次)."""
    idx = _column_index(form)
    assigned: dict[str, int] = {}
    for c in range(first_col, grid.n_cols):
        path = _header_path(grid, top, bottom, c)
        if not path:
            continue
        for variant in (path, [strip_unit(x) for x in path]):
            hit = None
            for k in range(len(variant), 0, -1):
                cands = [x for x in idx.get("/".join(variant[-k:]), []) if x.id not in assigned]
                if cands:
                    hit = cands[0]
                    break
            if hit:
                assigned[hit.id] = c
                break
    return assigned


def _find_rows(
    form: FormSpec, grid: _Grid, start: int, end: int, label_cols: range
) -> tuple[dict[str, int], list[tuple[int, str]], int | None]:
    """Data rows between start and end: row_key → sheet row, unknown labels, first data row."""
    matchers = _row_matchers(form)
    groups = {norm(r.group_label): r.group for r in form.rows if r.group_label}
    found: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    first: int | None = None
    for r in range(start, end):
        texts = [grid.text(r, c) for c in label_cols]
        joined = "".join(texts)
        if joined.startswith("注") or joined.startswith("备注"):
            break
        if not joined:
            continue
        group = next((groups[t] for t in texts if t in groups), None)
        key = None
        for t in texts:
            for row in matchers.get(t, []):
                if (row.group is None or row.group == group) and row.key not in found:
                    key = row.key
                    break
            if key:
                break
        if key:
            found[key] = r
            first = r if first is None else first
        elif first is not None and not any(t in groups for t in texts):
            unknown.append((r, texts[0] or joined))
    return found, unknown, first


def _parse_header_line(grid: _Grid, start: int, end: int) -> dict:
    """填报单位 / 填表人 / 联系电话 / date from the lines between the title and the table."""
    info: dict = {"unit": None, "filled_by": None, "phone": None, "date": None}
    for r in range(start, end):
        row = grid.cells[r] if r < grid.n_rows else []
        texts = [(c, v) for c, v in enumerate(row) if v not in (None, "")]
        if not texts:
            continue
        for i, (_c, v) in enumerate(texts):
            if isinstance(v, dt.datetime | dt.date) and info["date"] is None:
                info["date"] = v.date() if isinstance(v, dt.datetime) else v
                continue
            s = str(v)
            ns = norm(s)
            for key, label in (
                ("unit", "填报单位"),
                ("filled_by", "填表人"),
                ("phone", "联系电话"),
            ):
                if label in ns and info[key] is None:
                    after = re.split(r"[:：]", ns.split(label, 1)[1], maxsplit=1)
                    val = after[-1] if after else ""
                    val = _FIELD_END.split(val)[0].strip("_＿ ")
                    if key == "unit":
                        val = re.sub(r"^（?盖章）?[:：]?", "", val)
                    if not val and i + 1 < len(texts):
                        nxt = texts[i + 1][1]
                        nn = norm(nxt) if isinstance(nxt, str) else str(nxt)
                        if not _FIELD_END.search(nn) and "填报单位" not in nn:
                            val = nn
                    info[key] = val or None
            m = _DATE.search(ns)
            if m and info["date"] is None:
                with contextlib.suppress(ValueError):
                    info["date"] = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return info


def _header_top(grid: _Grid, form: FormSpec, after: int, first_data: int) -> int:
    """First header row: the row after the last 填报单位/title line above the data."""
    top = after
    for r in range(after, first_data):
        joined = "".join(t for _, t in grid.row_texts(r))
        if (
            "填报单位" in joined
            and "类型" not in joined
            or _TITLE.search(joined)
            or "填表人" in joined
        ):
            top = r + 1
    return top


def recognise_sheet(sheet: SheetGrid) -> list[Recognised]:
    """Every return on one sheet (usually one; a title per table when several share a sheet)."""
    grid = _Grid(sheet)
    forms = load_forms()
    titles = _title_rows(grid)
    regions: list[tuple[int, int, FormSpec, int | None]] = []
    if titles:
        for i, (r, fid, year) in enumerate(titles):
            end = titles[i + 1][0] if i + 1 < len(titles) else grid.n_rows
            regions.append((r, end, forms[fid], year))
    else:
        guess = _guess_form(grid)
        if guess is None:
            return []
        regions.append((0, grid.n_rows, guess, None))
    out = []
    for start, end, form, year in regions:
        rec = _recognise_region(grid, form, start, end, year)
        if rec is not None:
            out.append(rec)
    return out


def _guess_form(grid: _Grid) -> FormSpec | None:
    """Without a title: the form whose row labels and header labels the sheet matches best."""
    best, best_score = None, 0.0
    for form in load_forms().values():
        leafs = {norm(c.label) for c in form.value_columns}
        texts = {t for r in range(min(grid.n_rows, MAX_HEADER_SCAN)) for _, t in grid.row_texts(r)}
        score = len(leafs & texts) / max(len(leafs), 1)
        if score > best_score:
            best, best_score = form, score
    return best if best_score >= 0.6 else None


def _locate_label_cols(grid: _Grid, form: FormSpec, start: int, end: int) -> range | None:
    matchers = _row_matchers(form)
    groups = {norm(r.group_label) for r in form.rows if r.group_label}
    for r in range(start, end):
        for c, t in grid.row_texts(r):
            if t in matchers or t in groups:
                # 表二: the level labels sit in the 层级 columns to the right of the type column.
                width = grid.n_cols - c if form.has_groups else 1
                return range(c, c + width)
    return None


def _recognise_region(
    grid: _Grid, form: FormSpec, start: int, end: int, year: int | None
) -> Recognised | None:
    label_cols = _locate_label_cols(grid, form, start, end)
    rec = Recognised(form, grid.sheet.name, year, None, None, None, None, None)
    if label_cols is None:
        rec.findings.append(
            Finding("no_data_rows", None, {"expected": "、".join(r.display for r in form.rows)})
        )
        info = _parse_header_line(grid, start, min(end, start + MAX_HEADER_SCAN))
        _fill_header(rec, info)
        return rec
    rows, unknown, first = _find_rows(form, grid, start, end, label_cols)
    assert first is not None
    info = _parse_header_line(grid, start, first)
    _fill_header(rec, info)
    top = _header_top(grid, form, start, first)
    cols = _match_columns(form, grid, top, first - 1, label_cols.start + 1)
    rec.rows_found = rows
    for row in form.rows:
        if row.key not in rows:
            rec.findings.append(Finding("missing_row", None, {"row_label": row.display}))
    for r, text in unknown:
        rec.findings.append(
            Finding(
                "unknown_row",
                a1(r, label_cols.start),
                {"line": r + 1, "found": text, "expected": "、".join(x.label for x in form.rows)},
            )
        )
    for col in form.value_columns:
        if col.id not in cols:
            rec.findings.append(
                Finding("missing_column", None, {"column_label": "›".join(col.path)})
            )
    _take_cells(rec, grid, rows, cols)
    return rec


def _fill_header(rec: Recognised, info: dict) -> None:
    rec.submitter_text = info["unit"]
    rec.filled_by = info["filled_by"]
    rec.phone = info["phone"]
    rec.header_date = info["date"]
    rec.submitter = load_registry().resolve(info["unit"]) if info["unit"] else None


def _take_cells(rec: Recognised, grid: _Grid, rows: dict[str, int], cols: dict[str, int]) -> None:
    form = rec.form
    fwv = grid.sheet.formulas_without_value
    for col in form.value_columns:
        c = cols.get(col.id)
        if c is None:
            continue
        if col.scope == "type":
            for group in dict.fromkeys(r.group for r in form.rows):
                grows = sorted(rows[r.key] for r in form.rows if r.group == group and r.key in rows)
                if not grows:
                    continue
                # The merged cell's value sits in its top-left cell; an unmerged copy may put it lower.
                r = next((x for x in grows if grid.own(x, c) not in (None, "")), grows[0])
                r, cc = grid.origin.get((r, c), (r, c))
                rec.cells.append(RawCell(group, col.id, grid.own(r, cc), r, cc, (r, cc) in fwv))
        else:
            for row in form.rows:
                r = rows.get(row.key)
                if r is not None:
                    rec.cells.append(RawCell(row.key, col.id, grid.own(r, c), r, c, (r, c) in fwv))


def quarter_from_date(day: dt.date) -> periods.Quarter:
    lag = int(config.load("calendar.yaml").get("header_date_lag_days", 45))
    return periods.Quarter.of_date(day - dt.timedelta(days=lag))
