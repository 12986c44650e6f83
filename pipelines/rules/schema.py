"""Schema-level rules (types, non-negative, whole numbers) as pandera schemas on polars frames.

One schema per form, built from the form's columns; a batch of returns of the same form is
validated in one call (lazy, collecting every failure) and failures map back to cells.

Each rule is one frame-wide pandera check over every column it applies to, not one check per
column: pandera's cost is per check (a query and a collect each), and per-column checks made
it the slowest step of the front door. Pandera reports the failing rows; the failing columns
of those rows come from the same expression (`CHECKS`), so there is one definition per rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cache

import pandera.polars as pa
import polars as pl

from pipelines.forms import ColumnSpec, FormSpec, get_form

KEYS = ("_ret", "_row")  # return index in the batch, row key

# Check name (a rule id in rules.yaml › cell_rules) → the expression a cell must satisfy.
CHECKS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "negative": lambda c: c.is_null() | (c >= 0),
    "not_whole": lambda c: c.is_null() | (c == c.floor()),
}


def _applies(check: str, col: ColumnSpec) -> bool:
    """万元 columns are decimals: every other column counts whole things."""
    return check != "not_whole" or not col.is_amount


def checked_columns(form: FormSpec, check: str) -> list[str]:
    return [c.id for c in form.value_columns if _applies(check, c)]


def _frame_check(name: str, columns: list[str]) -> pa.Check:
    expr = CHECKS[name]

    def fn(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select([expr(pl.col(c)).alias(c) for c in columns])

    return pa.Check(fn, name=name)


@cache
def form_schema(form_id: str) -> pa.DataFrameSchema:
    form: FormSpec = get_form(form_id)
    columns = {
        "_ret": pa.Column(pl.Int64),
        "_row": pa.Column(pl.String),
    }
    for col in form.value_columns:
        columns[col.id] = pa.Column(pl.Float64, nullable=True)
    checks = [_frame_check(name, checked_columns(form, name)) for name in CHECKS]
    return pa.DataFrameSchema(columns, checks=checks, strict=True, ordered=True, name=form.name)


def empty_frame(form_id: str) -> pl.DataFrame:
    form = get_form(form_id)
    schema = {"_ret": pl.Int64, "_row": pl.String} | {c.id: pl.Float64 for c in form.value_columns}
    return pl.DataFrame(schema=schema)


def batch_frame(
    form_id: str, rows: Iterable[tuple[int, str, Mapping[str, float | None]]]
) -> pl.DataFrame:
    """The frame the schema and cross-cell rules read, from (return index, row key, column id →
    value) per row; a column a row lacks is null (skipped by the rules)."""
    ids = [c.id for c in get_form(form_id).value_columns]
    rets: list[int] = []
    keys: list[str] = []
    columns: list[list[float | None]] = [[] for _ in ids]
    for ret, row_key, vals in rows:
        rets.append(ret)
        keys.append(row_key)
        get = vals.get
        for col, cid in zip(columns, ids, strict=True):
            col.append(get(cid))
    data = {"_ret": rets, "_row": keys} | dict(zip(ids, columns, strict=True))
    return pl.DataFrame(data, schema=empty_frame(form_id).schema)


def schema_failures(form_id: str, frame: pl.DataFrame) -> list[tuple[int, str, str, str]]:
    """(return index, row key, column id, check name) for every failing cell, in column order,
    then check order, then frame order."""
    try:
        form_schema(form_id).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.filter(pl.col("index").is_not_null())
        form = get_form(form_id)
        found: list[tuple[int, int, int, int, str, str, str]] = []
        for name, order in zip(CHECKS, range(len(CHECKS)), strict=True):
            rows = sorted({int(i) for i in cases.filter(pl.col("check") == name)["index"]})
            if not rows:
                continue
            cols = checked_columns(form, name)
            sub = frame[rows].select(
                "_ret", "_row", *(CHECKS[name](pl.col(c)).alias(c) for c in cols)
            )
            for i, rec in zip(rows, sub.iter_rows(named=True), strict=True):
                for c in cols:
                    if rec[c] is False:
                        pos = _position(form, c)
                        found.append((pos, order, i, rec["_ret"], rec["_row"], c, name))
        found.sort(key=lambda x: x[:3])
        return [(ret, row, col, name) for _, _, _, ret, row, col, name in found]
    return []


def _position(form: FormSpec, column_id: str) -> int:
    return next(i for i, c in enumerate(form.value_columns) if c.id == column_id)
