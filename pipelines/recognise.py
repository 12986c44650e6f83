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
from functools import lru_cache

from pipelines import config, periods
from pipelines.forms import ColumnSpec, FormSpec, RowSpec, load_forms, per_form
from pipelines.reader.model import SheetGrid
from pipelines.registry import Submitter, load_registry
from pipelines.text import norm, strip_unit

# 「季报表（一）」「季报表2」, but not 「季报表（2025年第三季度）」 nor a file name quoted in a cell.
_TITLE = re.compile(r"季报表[（(]?([一二三四1234])(?!\d)[）)]?")
_FILE_NAME = re.compile(r"\.(xlsx|xlsm|xls|et|ett|csv)\b", re.IGNORECASE)
_FORM_BY_NUMBER = {"一": "form1", "二": "form2", "三": "form3", "四": "form4"}
_FORM_BY_NUMBER.update({"1": "form1", "2": "form2", "3": "form3", "4": "form4"})
_YEAR = re.compile(r"(20\d\d)年")
_DATE = re.compile(r"(20\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_LINE = re.compile(r"[_＿\d]*年[_＿\d]*月[_＿\d]*日")  # 「2025年10月8日」, 「____年__月__日」
_FIELD_END = re.compile(r"填表人|联系电话|填报日期|日期|审核人|负责人")
MAX_HEADER_SCAN = 40  # rows searched for a title or header above a table

# Labels repeat across every sheet of a batch: normalising each distinct text once is most of
# what recognition costs. Bounded, so a hostile sheet of unique strings cannot grow it forever.
_norm = lru_cache(maxsize=1 << 16)(norm)
_strip_unit = lru_cache(maxsize=1 << 12)(strip_unit)


@lru_cache(maxsize=1 << 14)
def a1(r: int, c: int) -> str:
    """0-based (row, column) → "K7". Not openpyxl's helper: importing openpyxl would cost every
    reader worker a second."""
    letters = ""
    n = c + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{r + 1}"


@dataclass(slots=True)
class RawCell:
    row_key: str
    column_id: str
    value: object
    r: int
    c: int
    formula_without_value: bool = False
    # 表二's type-scoped columns read un-merged: the other level rows' cells of the same type
    # that hold something too, as (row, col, value): the front door decides whether they agree.
    repeats: tuple[tuple[int, int, object], ...] = ()

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
    # columns the sheet lacks that its other columns give (config: derived_from), e.g. 附件4's
    # 表一 prints no 实施星级管理数量 总数: it is the sum of the five star columns
    derived: list[str] = field(default_factory=list)


def _sane(merge: tuple[int, int, int, int]) -> bool:
    """Absurd merges (hostile files) fill nothing."""
    r0, c0, r1, c1 = merge
    return r1 - r0 <= 500 and c1 - c0 <= 300


class _Grid:
    """A sheet with its text normalised once: ``own`` per cell, ``texts`` with merged ranges
    filled from their top-left cell (labels are read through merges, values never are)."""

    def __init__(self, sheet: SheetGrid) -> None:
        self.sheet = sheet
        self.cells = sheet.cells
        self.n_rows = n_rows = len(sheet.cells)
        self.n_cols = n_cols = max((len(r) for r in sheet.cells), default=0)
        blank = [""] * n_cols
        own = [
            [_norm(v) if isinstance(v, str) else "" for v in row] + blank[len(row) :]
            for row in sheet.cells
        ]
        self.merged = [m for m in sheet.merged if _sane(m)]
        texts = own
        for r0, c0, r1, c1 in self.merged:
            if r0 >= n_rows or c0 >= n_cols:
                continue
            if texts is own:
                texts = [row[:] for row in own]
            c1 = min(c1, n_cols - 1)
            fill = [own[r0][c0]] * (c1 - c0 + 1)
            for r in range(r0, min(r1, n_rows - 1) + 1):
                texts[r][c0 : c1 + 1] = fill
        self.own_texts = own
        self.texts = texts
        self._rows: dict[int, list[tuple[int, str]]] = {}
        self._by_col: dict[int, list[tuple[int, int, int, int]]] | None = None  # merges per column

    def origin(self, r: int, c: int) -> tuple[int, int]:
        """The top-left cell of the merged range (r, c) lies in (the last one, as Excel shows
        it), or (r, c) itself. Only 表二's merged value cells ask, so the map is built lazily."""
        if self._by_col is None:
            self._by_col = {}
            for m in self.merged:
                for cc in range(m[1], min(m[3], self.n_cols - 1) + 1):
                    self._by_col.setdefault(cc, []).append(m)
        for r0, c0, r1, _c1 in reversed(self._by_col.get(c, ())):
            if r0 <= r <= r1 and (r, c) != (r0, c0):
                return r0, c0
        return r, c

    def own(self, r: int, c: int) -> object:
        """The cell itself, not its merge origin (values are never duplicated by merges)."""
        row = self.cells[r] if 0 <= r < self.n_rows else ()
        return row[c] if 0 <= c < len(row) else None

    def text(self, r: int, c: int) -> str:
        """Normalised text at (r, c), read through merges; "" for numbers, blanks, off-grid."""
        if 0 <= r < self.n_rows and 0 <= c < self.n_cols:
            return self.texts[r][c]
        return ""

    def row_texts(self, r: int) -> list[tuple[int, str]]:
        """(column, normalised text) of the row's own non-blank text cells; cached per row."""
        got = self._rows.get(r)
        if got is None:
            row = self.own_texts[r] if 0 <= r < self.n_rows else ()
            got = self._rows[r] = [(c, t) for c, t in enumerate(row) if t]
        return got


def _title_rows(grid: _Grid) -> list[tuple[int, str, int | None]]:
    """(row, form_id, campaign year) for every title line on the sheet."""
    found = []
    for r in range(grid.n_rows):
        for _, text in grid.row_texts(r):
            m = _TITLE.search(text) if "季报表" in text else None  # a cheap test first
            if m and len(text) < 200 and not _FILE_NAME.search(text):
                y = _YEAR.search(text)
                found.append((r, _FORM_BY_NUMBER[m.group(1)], int(y.group(1)) if y else None))
                break
    return found


@per_form
def _row_matchers(form: FormSpec) -> dict[str, list[RowSpec]]:
    out: dict[str, list[RowSpec]] = {}
    for row in form.rows:
        for label in (row.label, *row.aliases):
            out.setdefault(norm(label), []).append(row)
    return out


@per_form
def _column_index(form: FormSpec) -> dict[str, list[ColumnSpec]]:
    """Every path suffix of every column (with and without units) → the columns it names."""
    idx: dict[str, list[ColumnSpec]] = {}
    for col in form.columns:
        for leaf in (col.label, *col.aliases):
            path = [norm(x) for x in (*col.path[:-1], leaf)]
            for variant in (path, [_strip_unit(x) for x in path]):
                for k in range(1, len(variant) + 1):
                    key = "/".join(variant[-k:])
                    bucket = idx.setdefault(key, [])
                    if col not in bucket:
                        bucket.append(col)
    return idx


def _header_band(grid: _Grid, top: int, bottom: int, first_col: int) -> list[list[str]]:
    """The header rows' texts (read through merges), with group labels of an un-merged header
    spread by position: a blank cell takes the label to its left when that label heads a group
    (it has labels below it) and nothing is written above the blank cell — so 「企业基数（家）」
    typed once over four unmerged columns heads all four, as the merged header does, while a
    blank under a leaf that spans rows stays blank."""
    band = [
        list(grid.texts[r][first_col:]) if r < grid.n_rows else [] for r in range(top, bottom + 1)
    ]
    width = grid.n_cols - first_col
    for row in band:
        row.extend([""] * (width - len(row)))
    filled = [row[:] for row in band]
    for d in range(len(band) - 1):  # the bottom row holds leaves only: never spread
        row, below, out = band[d], band[d + 1], filled[d]
        for c in range(1, width):
            if row[c] or any(band[u][c] for u in range(d)):
                continue
            if out[c - 1] and (below[c - 1] or out[c - 1] != row[c - 1]):
                out[c] = out[c - 1]
    return filled


def _header_path(band: list[list[str]], c: int) -> list[str]:
    path: list[str] = []
    for row in band:
        t = row[c]
        if t and (not path or path[-1] != t):
            path.append(t)
    return path


def _match_columns(
    form: FormSpec, grid: _Grid, top: int, bottom: int, first_col: int
) -> dict[str, int]:
    """Map column ids to sheet columns by their header paths, longest matching suffix first
    (with units, then without); ties go to the leftmost unassigned column of the form (headers
    repeat, e.g. 场次)."""
    assigned: dict[str, int] = {}
    band = _header_band(grid, top, bottom, first_col)
    for c in range(first_col, grid.n_cols):
        path = _header_path(band, c - first_col)
        if not path:
            continue
        for col in _path_candidates(form, tuple(path)):
            if col.id not in assigned:
                assigned[col.id] = c
                break
    return assigned


@per_form
def _path_memo(form: FormSpec) -> dict[tuple[str, ...], tuple[ColumnSpec, ...]]:
    return {}


def _path_candidates(form: FormSpec, path: tuple[str, ...]) -> tuple[ColumnSpec, ...]:
    """The columns a header path may name, best first: the first not yet assigned is taken.
    Memoised per form: every copy of a template has the same header paths."""
    memo = _path_memo(form)
    got = memo.get(path)
    if got is None:
        idx = _column_index(form)
        order: dict[str, ColumnSpec] = {}
        for variant in (path, tuple(_strip_unit(x) for x in path)):
            for k in range(len(variant), 0, -1):
                for col in idx.get("/".join(variant[-k:]), ()):
                    order.setdefault(col.id, col)
        if len(memo) > 4096:  # hostile sheets with endless distinct headers
            memo.clear()
        got = memo[path] = tuple(order.values())
    return got


@per_form
def _group_keys(form: FormSpec) -> dict[str, str | None]:
    """Normalised 表二 group label (e.g. 街道) → group key."""
    return {norm(r.group_label): r.group for r in form.rows if r.group_label}


@per_form
def _value_leafs(form: FormSpec) -> frozenset[str]:
    return frozenset(norm(c.label) for c in form.value_columns)


def _find_rows(
    form: FormSpec, grid: _Grid, start: int, end: int, label_cols: range
) -> tuple[dict[str, int], list[tuple[int, str]], int | None]:
    """Data rows between start and end: row_key → sheet row, unknown labels, first data row."""
    matchers = _row_matchers(form)
    groups = _group_keys(form)
    found: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    first: int | None = None
    lo, hi = label_cols.start, label_cols.stop
    current: str | None = None  # 表二: the type label's group, carried down its level rows
    for r in range(start, min(end, grid.n_rows)):
        texts = grid.texts[r][lo:hi]
        texts += [""] * (hi - lo - len(texts))
        joined = "".join(texts)
        if joined.startswith("注") or joined.startswith("备注"):
            break
        if not joined:
            continue
        # Merged, the type label fills every level row; un-merged, it sits on the first one only
        # and the rows below belong to it by position.
        group = next((groups[t] for t in texts if t in groups), None)
        if group is None:
            group = current
        current = group
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
    for r in range(start, min(end, grid.n_rows)):
        row = grid.cells[r]
        texts = [(c, v) for c, v in enumerate(row) if v is not None and v != ""]
        if not texts:
            continue
        own = grid.own_texts[r]
        for i, (c, v) in enumerate(texts):
            if isinstance(v, dt.datetime | dt.date) and info["date"] is None:
                info["date"] = v.date() if isinstance(v, dt.datetime) else v
                continue
            ns = own[c] if isinstance(v, str) else norm(v)
            for key, label in (
                ("unit", "填报单位"),
                ("filled_by", "填表人"),
                ("phone", "联系电话"),
            ):
                if label in ns and info[key] is None:
                    after = re.split(r"[:：]", ns.split(label, 1)[1], maxsplit=1)
                    val = after[-1] if after else ""
                    val = _FIELD_END.split(val)[0]
                    at = _DATE.search(val)  # 「0595-22000000 2025年10月8日」 typed in one cell
                    val = (val[: at.start()] if at else val).strip("_＿ ")
                    if key == "unit":
                        val = re.sub(r"^（?盖章）?[:：]?", "", val)
                    if not val and i + 1 < len(texts):
                        nxt = texts[i + 1][1]
                        nn = norm(nxt) if isinstance(nxt, str) else str(nxt)
                        if not _FIELD_END.search(nn) and "填报单位" not in nn:
                            val = nn
                    info[key] = val or None
            m = _DATE.search(ns) if "年" in ns and info["date"] is None else None
            if m:
                with contextlib.suppress(ValueError):
                    info["date"] = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return info


def _header_top(grid: _Grid, form: FormSpec, after: int, first_data: int) -> int:
    """First header row: the row after the last title or header-line row (填报单位 / 填表人 /
    联系电话 / date, on one line or, as 附件7 prints them, on lines of their own) above the data."""
    top = after
    for r in range(after, first_data):
        joined = "".join(t for _, t in grid.row_texts(r))
        if (
            "填报单位" in joined
            and "类型" not in joined
            or _TITLE.search(joined)
            or "填表人" in joined
            or "联系电话" in joined
            or _DATE_LINE.fullmatch(joined)
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
    texts = {t for r in range(min(grid.n_rows, MAX_HEADER_SCAN)) for _, t in grid.row_texts(r)}
    for form in load_forms().values():
        leafs = _value_leafs(form)
        score = len(leafs & texts) / max(len(leafs), 1)
        if score > best_score:
            best, best_score = form, score
    return best if best_score >= 0.6 else None


def _locate_label_cols(grid: _Grid, form: FormSpec, start: int, end: int) -> range | None:
    matchers = _row_matchers(form)
    groups = _group_keys(form)
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
    rows, unknown, first = (
        _find_rows(form, grid, start, end, label_cols) if label_cols else ({}, [], None)
    )
    if label_cols is None or first is None:
        if not _has_header_table(grid, form, start, end):
            return None  # a title with no table below: a sentence that names a form
        rec.findings.append(
            Finding("no_data_rows", None, {"expected": "、".join(r.display for r in form.rows)})
        )
        info = _parse_header_line(grid, start, min(end, start + MAX_HEADER_SCAN))
        _fill_header(rec, info)
        return rec
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
        if col.id in cols:
            continue
        if col.derived_from and all(p in cols for p in col.derived_from):
            rec.derived.append(col.id)
        else:
            rec.findings.append(
                Finding("missing_column", None, {"column_label": "›".join(col.path)})
            )
    _take_cells(rec, grid, rows, cols)
    return rec


MIN_HEADER_LABELS = 3  # distinct header labels of the form that make a table a table


@per_form
def _header_labels(form: FormSpec) -> frozenset[str]:
    """Normalised labels a header of this form is made of (groups and leaves, with and without
    units, and the row header), to tell a table from a sentence that names the form."""
    labels = {norm(form.row_header)}
    for col in form.value_columns:
        for part in (*col.path, *col.aliases):
            labels.add(norm(part))
            labels.add(_strip_unit(norm(part)))
    return frozenset(x for x in labels if len(x) >= 2)


def _has_header_table(grid: _Grid, form: FormSpec, start: int, end: int) -> bool:
    """Whether the lines below a title hold the form's header table (≥ MIN_HEADER_LABELS of its
    labels), not only text that mentions the form (an instructions sheet)."""
    labels = _header_labels(form)
    seen: set[str] = set()
    for r in range(start, min(end, start + MAX_HEADER_SCAN, grid.n_rows)):
        seen.update(t for _, t in grid.row_texts(r) if t in labels)
        if len(seen) >= MIN_HEADER_LABELS:
            return True
    return False


def _fill_header(rec: Recognised, info: dict) -> None:
    rec.submitter_text = info["unit"]
    rec.filled_by = info["filled_by"]
    rec.phone = info["phone"]
    rec.header_date = info["date"]
    rec.submitter = _resolve(info["unit"]) if info["unit"] else None


_resolved: dict[str, Submitter | None] = {}
_resolved_by: list[object] = [None]


def _resolve(text: str) -> Submitter | None:
    """Registry lookup of 填报单位, memoised while the registry stays the same object."""
    reg = load_registry()
    if _resolved_by[0] is not reg or len(_resolved) > 4096:
        _resolved.clear()
        _resolved_by[0] = reg
    if text not in _resolved:
        _resolved[text] = reg.resolve(text)
    return _resolved[text]


def _take_cells(rec: Recognised, grid: _Grid, rows: dict[str, int], cols: dict[str, int]) -> None:
    form = rec.form
    fwv = grid.sheet.formulas_without_value
    cells, append = grid.cells, rec.cells.append
    ordered = [(row.key, rows[row.key]) for row in form.rows if row.key in rows]  # inside the grid
    groups = {
        group: sorted(rows[r.key] for r in form.rows if r.group == group and r.key in rows)
        for group in dict.fromkeys(r.group for r in form.rows)
    }
    for col in form.value_columns:
        c = cols.get(col.id)
        if c is None:
            continue
        if col.scope == "type":
            for group, grows in groups.items():
                if not grows:
                    continue
                # What the submitter sees: a merged cell's value in its top-left cell (anything
                # under the merge is hidden); un-merged, whatever is typed on any level row.
                seen = [
                    (x, c, grid.own(x, c))
                    for x in grows
                    if grid.origin(x, c) == (x, c)
                    and (grid.own(x, c) not in (None, "") or (x, c) in fwv)
                ]
                if seen:
                    r, cc, value = seen[0]
                else:
                    r, cc = grid.origin(grows[0], c)
                    value = grid.own(r, cc)
                append(RawCell(group, col.id, value, r, cc, (r, cc) in fwv, tuple(seen[1:])))
        else:
            for key, r in ordered:
                line = cells[r]
                value = line[c] if c < len(line) else None
                append(RawCell(key, col.id, value, r, c, (r, c) in fwv))


def quarter_from_date(day: dt.date) -> periods.Quarter:
    lag = int(config.load("calendar.yaml").get("header_date_lag_days", 45))
    return periods.Quarter.of_date(day - dt.timedelta(days=lag))
