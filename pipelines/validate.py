"""The front door: paths → ReturnResults. Every file ends accepted, rejected with reasons, or
unreadable with a reason.

Per file, in a worker process (pipelines.reader, with its memory and time limits): read,
recognise, coerce cells (`examine`); only the returns found cross the pipe, not the grids.
Schema and cross-cell rules then run here once per form over the whole batch, so a folder of
returns costs one pandera call per form rather than one per sheet. polars and pandera are
imported only for that step, so workers stay small.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import operator
import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import config, periods
from pipelines.forms import ColumnSpec, FormSpec, get_form, per_form
from pipelines.model import Issue, ReturnResult, Value
from pipelines.reader import read_many
from pipelines.reader.files import WORKBOOK_SUFFIXES, kind_of, open_regular, refusal
from pipelines.reader.model import EXCEL_ERRORS, Unreadable, WorkbookGrid
from pipelines.recognise import RawCell, Recognised, a1, quarter_from_date, recognise_sheet
from pipelines.registry import load_registry
from pipelines.rules.coerce import as_shown, coerce
from pipelines.rules.messages import fmt, render, severity, where
from pipelines.sanitize import quote

if TYPE_CHECKING:
    from pipelines.rules import cross

# Files that live beside the returns in a drop folder and are not returns.
SIDECARS = {"received.csv", "explanations.csv", "manifest.json"}


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """Paths named, and every entry under folders named (recursively, sorted), minus sidecars,
    hidden files and Office lock files (~$…). A folder named like a workbook (「季报.xlsx/」, an
    Apple Numbers package) is one entry, not searched: it gets its own verdict, as do FIFOs,
    sockets and devices found in a folder. Links to folders are not followed."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir() and not _named_like_workbook(p):
            out += _entries(p)
        else:
            out.append(p)
    return out


def _named_like_workbook(path: Path) -> bool:
    return path.suffix.lower() in WORKBOOK_SUFFIXES


def _entries(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):  # followlinks=False
        base = Path(root)
        named = {d for d in dirs if _named_like_workbook(base / d)}
        found += (base / d for d in named if not _skip(base / d))
        dirs[:] = [d for d in dirs if d not in named and not (base / d).is_symlink()]
        found += (base / f for f in files if not _skip(base / f) and not _dir_link(base / f))
    return sorted(found)


def _dir_link(path: Path) -> bool:
    return path.is_symlink() and path.is_dir()


def _skip(path: Path) -> bool:
    return path.name in SIDECARS or path.name.startswith((".", "~$"))


def sha256_of(path: Path) -> str | None:
    """The file's sha256, or None when it cannot be read or is not a regular file (a FIFO is
    never opened for a blocking read, a device never read to its endless end)."""
    h = hashlib.sha256()
    try:
        with open_regular(path) as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def _not_a_file(path: Path) -> ReturnResult | None:
    """The verdict, given at once, for a path that is not a regular file (one stat, no open)."""
    try:
        kind = kind_of(path)
    except OSError:
        return None  # missing or unreadable: the reader says why
    if kind is None:
        return None
    verdict = Unreadable(str(path), "not_a_file", refusal(path, kind))
    return _unreadable(str(path), verdict, None)


@dataclass(slots=True)
class _Pending:
    """A return between recognition and the batch rules."""

    result: ReturnResult
    form: FormSpec
    rows: dict[str, dict[str, float | None]]  # own rows' values: row key → column id → value
    _cells: dict[tuple[str, str], str] | None = None

    @property
    def cells(self) -> dict[tuple[str, str], str]:
        """(row key, column id) → A1; built only for returns a batch rule flags."""
        if self._cells is None:
            self._cells = {(v.row_key, v.column_id): v.cell for v in self.result.values}
        return self._cells


def _rows_of(values: list[Value]) -> dict[str, dict[str, float | None]]:
    rows: dict[str, dict[str, float | None]] = {}
    for v in values:
        rows.setdefault(v.row_key, {})[v.column_id] = v.value
    return rows


# ---- results cross the worker pipe as plain tuples: pickling slotted dataclasses one by one
# ---- cost more than the checks that produced them.
_RESULT_FIELDS = tuple(f.name for f in fields(ReturnResult))
_result_tuple = operator.attrgetter(*_RESULT_FIELDS)
_issue_tuple = operator.attrgetter(*(f.name for f in fields(Issue)))
_value_tuple = operator.attrgetter(*(f.name for f in fields(Value)))
_ISSUES, _VALUES = _RESULT_FIELDS.index("issues"), _RESULT_FIELDS.index("values")
# (the result's fields, its own rows' values if it awaits the batch rules, else None)
Packed = tuple[tuple, dict | None]


def _pack(result: ReturnResult, pending: bool) -> Packed:
    row = list(_result_tuple(result))
    row[_ISSUES] = [_issue_tuple(i) for i in result.issues]
    row[_VALUES] = [_value_tuple(v) for v in result.values]
    return tuple(row), _rows_of(result.values) if pending else None


def _unpack(row: tuple) -> ReturnResult:
    result = ReturnResult(*row)
    result.issues = [Issue(*i) for i in row[_ISSUES]]
    result.values = [Value(*v) for v in row[_VALUES]]
    return result


def validate_paths(
    paths: Iterable[str | Path], quarter: str | None = None, *, workers: int | None = None
) -> list[ReturnResult]:
    """Validate every workbook under `paths`. `quarter` (YYYYQn) overrides what the drop folder
    name or the header date say."""
    files = collect_files(paths)
    forced = periods.Quarter.parse(quarter) if quarter else None
    then = functools.partial(examine, forced=str(forced) if forced else None)
    # polars and pandera take a second or two to import: do it while the workers read.
    deps = threading.Thread(target=_prepare_batch_rules, name="jibao-import", daemon=True)
    deps.start()
    pending: list[_Pending] = []
    finished: list[ReturnResult] = []
    readable: list[Path] = []
    for path in files:
        refused = _not_a_file(path)
        if refused is None:
            readable.append(path)
        else:
            finished.append(refused)
    for path, outcome in read_many(readable, workers=workers, then=then):
        if isinstance(outcome, Unreadable):  # the worker timed out or died
            finished.append(_unreadable(str(path), outcome, sha256_of(Path(path))))
            continue
        for row, rows in outcome:
            result = _unpack(row)
            if rows is None:
                finished.append(result)
            else:
                assert result.form is not None
                pending.append(_Pending(result, get_form(result.form), rows))
    deps.join()
    _apply_batch_rules(pending)
    results = finished + [p.result for p in pending]
    order = {str(f): i for i, f in enumerate(files)}
    results.sort(key=lambda r: (order.get(r.file, len(order)), r.sheet or "", r.form or ""))
    for r in results:
        if r.status != "unreadable":
            r.status = "rejected" if r.errors else "accepted"
    return results


def examine(
    path: str, verdict: WorkbookGrid | Unreadable, forced: str | None = None
) -> list[Packed]:
    """Everything done per file, run in the reader's worker: the file's returns awaiting the
    batch rules, or one finished result (unreadable, or no form found); packed for the pipe."""
    digest = sha256_of(Path(path))
    if isinstance(verdict, Unreadable):
        return [_pack(_unreadable(path, verdict, digest), False)]
    q = periods.Quarter.parse(forced) if forced else None
    found = _returns_in(path, verdict, q, digest)
    hidden = hidden_forms(verdict)
    if not found:
        result = _no_form(path, verdict, digest)
        result.issues += hidden
        return [_pack(result, False)]
    for r in found:
        r.issues += hidden
    return [_pack(r, True) for r in found]


def hidden_forms(grid: WorkbookGrid) -> list[Issue]:
    """A warning per form found on a hidden or very hidden sheet: such a sheet is not a return
    (the submitter does not see it when opening the file), but the submitter should know it
    was left out."""
    out = []
    for sheet in grid.sheets:
        if sheet.visible:
            continue
        names = "、".join(dict.fromkeys(rec.form.name for rec in recognise_sheet(sheet)))
        if names:
            kind = "hidden_sheet_form"
            sheet_name = quote(sheet.name)
            out.append(
                Issue(severity(kind), kind, None, render(kind, sheet=sheet_name, forms=names))
            )
    return out


def _unreadable(path: str, grid: Unreadable, digest: str | None) -> ReturnResult:
    issue = Issue("error", grid.code, None, grid.message)
    return ReturnResult(path, None, None, None, None, "unreadable", [issue], sha256=digest)


def _no_form(path: str, grid: WorkbookGrid, digest: str | None) -> ReturnResult:
    kind = "form_not_found"
    issue = Issue(severity(kind), kind, None, render(kind))
    return ReturnResult(
        path, None, None, None, None, "rejected", [issue], sha256=digest, file_format=grid.format
    )


def _quarter_for(
    path: str, rec: Recognised, forced: periods.Quarter | None
) -> periods.Quarter | None:
    """--quarter, else the drop folder's name (never the file name: it says nothing reliable),
    else the header date."""
    if forced:
        return forced
    folder = _folder_quarter(str(Path(path).parent))
    if folder:
        return folder
    return quarter_from_date(rec.header_date) if rec.header_date else None


@functools.lru_cache(maxsize=256)
def _folder_quarter(folder: str) -> periods.Quarter | None:
    return periods.Quarter.search(folder)


def _returns_in(
    path: str, grid: WorkbookGrid, forced: periods.Quarter | None, digest: str | None
) -> list[ReturnResult]:
    out = []
    for sheet in grid.sheets:
        if not sheet.visible:
            continue  # what the submitter sees is the submission (see hidden_forms)
        for rec in recognise_sheet(sheet):
            q = _quarter_for(path, rec, forced)
            result = ReturnResult(
                file=path,
                sheet=sheet.name,
                form=rec.form.id,
                submitter=rec.submitter.name if rec.submitter else None,
                quarter=str(q) if q else None,
                status="accepted",
                sha256=digest,
                campaign=q.campaign if q else rec.campaign,
                submitter_text=rec.submitter_text,
                filled_by=rec.filled_by,
                phone=rec.phone,
                header_date=rec.header_date.isoformat() if rec.header_date else None,
                file_format=grid.format,
            )
            out.append(_check_return(result, rec, q))
    return out


def _issue(kind: str, cell: str | None = None, *, row=None, col=None, raw=None, **params) -> Issue:
    return Issue(severity(kind), kind, cell, render(kind, **params), row, col, raw)


def _check_return(result: ReturnResult, rec: Recognised, q: periods.Quarter | None) -> ReturnResult:
    """Per-return checks (header, structure, cell coercion); fills `result.values` with the
    submitter's own cells."""
    form = rec.form
    issues = result.issues
    sub = rec.submitter
    if q is None:
        issues.append(_issue("quarter_unknown"))
    elif rec.campaign and rec.campaign != q.campaign:
        # The campaign's cumulative windows restart every year: a 2025 form's figures count
        # from 2025-01-01, so they cannot be read as a 2026 quarter's (nor the reverse).
        issues.append(
            _issue(
                "campaign_mismatch",
                form_name=form.name,
                title_year=rec.campaign,
                quarter=q.label,
                quarter_year=q.campaign,
                title_start=_campaign_start(rec.campaign),
                quarter_start=_campaign_start(q.campaign),
            )
        )
    if sub is None:
        kind = "submitter_unknown" if rec.submitter_text else "submitter_missing"
        registry = load_registry()
        near = _suggest(str(config.config_dir()), rec.submitter_text) if rec.submitter_text else ()
        example = near[0] if near else registry.submitters[0].name
        asked = f"是否为{'或'.join(near)}？" if near else ""
        issues.append(
            _issue(kind, found=quote(rec.submitter_text or ""), example=example, suggestion=asked)
        )
    elif sub.forms and form.id not in sub.forms:
        issues.append(_issue("form_not_owed", submitter=sub.name, form_name=form.name))

    own_types = _own_types(rec)
    for f in rec.findings:
        if f.rule == "missing_row" and not _row_label_is_own(
            form, f.params["row_label"], own_types
        ):
            continue
        params = {k: quote(v) if k == "found" else v for k, v in f.params.items()}
        issues.append(_issue(f.rule, f.cell, form_name=form.name, **params))

    type_of = form.type_by_key
    own_cells = [c for c in rec.cells if type_of[c.row_key] in own_types]
    other_cells = [c for c in rec.cells if type_of[c.row_key] not in own_types]
    if own_cells and all(c.value in (None, "") and not c.formula_without_value for c in own_cells):
        label = _type_label(form, own_types)
        issues.append(_issue("own_row_empty", form_name=form.name, row_label=label))
        own_cells = []
    values = result.values
    for cell in own_cells:
        if cell.repeats:
            cell = _one_of_repeats(result, form, cell)
            if cell is None:
                continue
        a1 = cell.cell
        raw = cell.value
        if cell.formula_without_value:
            value, kind, found = None, "formula_without_value", ""
        elif raw.__class__ is float and raw - raw == 0:
            value, kind = as_shown(raw), None  # the common case: a finite number, nothing to say
        elif raw.__class__ is int:
            value, kind = float(raw), None
        else:
            value, kind, found = coerce(raw)
        if kind:
            col = form.column(cell.column_id)
            at = where(form, form.row_label(cell.row_key), col, a1)
            shown = fmt(value) if value is not None else ""
            issues.append(
                _issue(
                    kind,
                    a1,
                    row=cell.row_key,
                    col=col.id,
                    raw=found,  # the full value stays in the warehouse
                    where=at,
                    found=quote(found),  # the message quotes a readable, harmless cut
                    value=shown,
                    unit=col.unit or "",
                    meaning=EXCEL_ERRORS.get(found, "公式无法计算"),
                )
            )
        values.append(Value(cell.row_key, cell.column_id, value, a1))
    if rec.derived and own_cells:
        _derive(result, form, rec.derived)
    _flag_other_rows(result, rec, other_cells)
    return result


def _informative(raw: object) -> bool:
    """Whether a level row's cell says something: not blank, not a placeholder, not 0 (an
    un-merged form filled with 0 on the other level rows, as "no blanks" asks, agrees)."""
    if raw is None:
        return True  # a formula without a cached value: its result is unknown
    value, kind, _found = coerce(raw)
    return kind not in ("blank", "blank_token") and value != 0.0


def _shown(raw: object) -> str:
    """A cell's value as a message quotes it: numbers as a person writes them."""
    if raw is None:
        return "（公式无计算结果）"
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return fmt(as_shown(float(raw)))
    return quote(raw)


def _one_of_repeats(result: ReturnResult, form: FormSpec, cell: RawCell) -> RawCell | None:
    """A type-scoped column (表二 万岗达标, 宣传发动) read un-merged, with something on several
    level rows: the one value when they agree, else an error naming every cell (None)."""
    seen = [(cell.r, cell.c, cell.value), *cell.repeats]
    told = [x for x in seen if _informative(x[2])]
    if not told:
        return cell
    values = {coerce(v)[0] if v is not None else None for _, _, v in told}
    if len(told) == 1 or (len(values) == 1 and None not in values):
        r, c, v = told[0]
        return RawCell(cell.row_key, cell.column_id, v, r, c, v is None)
    col = form.column(cell.column_id)
    cells = [a1(r, c) for r, c, _ in told]
    shown = "、".join(_shown(v) for _, _, v in told)
    at = where(form, form.row_label(cell.row_key), col, None)
    result.issues.append(
        _issue(
            "type_value_conflict",
            cells[0],
            row=cell.row_key,
            col=col.id,
            raw=shown,
            where=at,
            cells="、".join(cells),
            values=shown,
        )
    )
    result.values.append(Value(cell.row_key, cell.column_id, None, cells[0]))
    return None


def _derive(result: ReturnResult, form: FormSpec, derived: list[str]) -> None:
    """Columns the layout leaves out, computed from their parts on each own row, and said so."""
    got = {(v.row_key, v.column_id): v.value for v in result.values}
    rows = list(dict.fromkeys(v.row_key for v in result.values))
    for column_id in derived:
        col = form.column(column_id)
        sums = []
        for row_key in rows:
            parts = [got.get((row_key, p)) for p in col.derived_from]
            if any((row_key, p) not in got for p in col.derived_from):
                continue
            total = None if any(p is None for p in parts) else float(sum(parts))
            result.values.append(Value(row_key, column_id, total, None))
            sums.append(f"{form.row_label(row_key)}行 {fmt(total)}")
        if sums:
            result.issues.append(
                _issue(
                    "derived_column",
                    None,
                    col=column_id,
                    form_name=form.name,
                    column_label="›".join(col.path),
                    parts="、".join(f"「{form.column(p).label}」" for p in col.derived_from),
                    values="，".join(sums),
                )
            )


@functools.lru_cache(maxsize=512)
def _suggest(config_dir: str, text: str) -> tuple[str, ...]:
    """Registered names near an unresolved 填报单位, asked about, never taken (see
    Registry.suggest). Memoised per configuration: a misspelling comes on every form."""
    return tuple(load_registry().suggest(text))


def _campaign_start(year: int) -> str:
    """「2025年1月1日」: when a campaign's cumulative figures start (calendar.yaml › campaigns; a
    year that is not configured is taken to start on 1 January)."""
    try:
        start = periods.campaign(year).start
    except KeyError:
        return f"{year}年1月1日"
    return f"{start.year}年{start.month}月{start.day}日"


@per_form
def _own_types(rec: Recognised) -> set[str]:
    """Row types this return is judged on: the submitter's own type; every type for the office's
    consolidated return; for an unknown submitter, the types whose rows hold data."""
    types = {r.submitter_type for r in rec.form.rows}
    sub = rec.submitter
    if sub is not None:
        return types if sub.forms == () else {sub.type}
    type_of = rec.form.type_by_key
    with_data = {type_of[c.row_key] for c in rec.cells if c.value not in (None, "", 0)}
    return with_data or types


def _row_label_is_own(form: FormSpec, display: str, own: set[str]) -> bool:
    return any(r.display == display and r.submitter_type in own for r in form.rows)


def _type_label(form: FormSpec, own: set[str]) -> str:
    for r in form.rows:
        if r.submitter_type in own:
            return r.group_label or r.label if form.has_groups else r.label
    return "、".join(sorted(own))


def _flag_other_rows(result: ReturnResult, rec: Recognised, other_cells: list) -> None:
    """The other type's rows are ignored; say so when they hold non-zero numbers."""
    sub = rec.submitter
    if sub is None:
        return
    filled = [
        c for c in other_cells if c.value not in (None, 0) and coerce(c.value)[0] not in (None, 0.0)
    ]
    if filled:
        form = rec.form
        labels = dict.fromkeys(form.row_label(c.row_key) for c in filled)
        result.issues.append(
            _issue(
                "other_type_row_filled",
                filled[0].cell,
                form_name=form.name,
                row_label="、".join(labels),
                submitter_type=sub.type,
            )
        )


def _prepare_batch_rules() -> None:
    """Import what the batch rules need (a failure here resurfaces where they run)."""
    with contextlib.suppress(Exception):
        from pipelines.rules import cross, schema  # noqa: F401


def _apply_batch_rules(pending: list[_Pending]) -> None:
    from pipelines.rules import cross, schema

    by_form: dict[str, list[tuple[int, _Pending]]] = defaultdict(list)
    for i, p in enumerate(pending):
        by_form[p.form.id].append((i, p))
    for form_id, items in by_form.items():
        form = get_form(form_id)
        frame = schema.batch_frame(
            form_id, ((i, key, vals) for i, p in items for key, vals in p.rows.items())
        )
        if frame.is_empty():
            continue
        for ret, row_key, col_id, check in schema.schema_failures(form_id, frame):
            p = pending[ret]
            col = form.column(col_id)
            cell = p.cells.get((row_key, col_id))
            value = p.rows[row_key][col_id]
            at = where(form, form.row_label(row_key), col, cell)
            p.result.issues.append(
                _issue(
                    check,
                    cell,
                    row=row_key,
                    col=col_id,
                    raw=fmt(value),
                    where=at,
                    found=fmt(value),
                    unit=col.unit or "",
                )
            )
        for b in cross.check(form_id, frame):
            p = pending[b.ret]
            p.result.issues.append(_breach_issue(form, p, b))


def _breach_issue(form: FormSpec, p: _Pending, b: cross.Breach) -> Issue:
    col: ColumnSpec = form.column(b.column_id)
    cell = p.cells.get((b.row_key, b.column_id))
    row_label = form.row_label(b.row_key)
    params: dict = {"where": where(form, row_label, col, cell), "found": fmt(b.found)}
    params |= {"form_name": form.name, "row_label": row_label}
    if b.kind in ("sum", "total_row"):
        params["expected"] = fmt(b.expected)
        params["parts"] = "、".join(
            f"「{form.column(c).display}」" for c in b.detail.get("parts", [])
        )
    if b.kind in ("le", "le_sum"):
        params["right"] = fmt(b.expected)
        params["right_label"] = form.column(b.detail["right"]).display
        params["parts"] = "、".join(
            f"「{form.column(c).label}」" for c in b.detail.get("parts", [])
        )
    message = render(b.kind, **params)
    return Issue(b.severity, b.rule_id, cell, message, b.row_key, b.column_id, fmt(b.found))
