"""Schema-level rules (types, non-negative, whole numbers) as pandera schemas on polars frames.

One schema per form, built from the form's columns; a batch of returns of the same form is
validated in one call (lazy, collecting every failure) and failures map back to cells.
"""

from __future__ import annotations

from functools import cache

import pandera.polars as pa
import polars as pl

from pipelines.forms import FormSpec, get_form

KEYS = ("_ret", "_row")  # return index in the batch, row key


def _non_negative(data: pa.PolarsData) -> pl.LazyFrame:
    col = pl.col(data.key)
    return data.lazyframe.select(col.is_null() | (col >= 0))


def _whole(data: pa.PolarsData) -> pl.LazyFrame:
    col = pl.col(data.key)
    return data.lazyframe.select(col.is_null() | (col == col.floor()))


@cache
def form_schema(form_id: str) -> pa.DataFrameSchema:
    form: FormSpec = get_form(form_id)
    columns = {
        "_ret": pa.Column(pl.Int64),
        "_row": pa.Column(pl.String),
    }
    for col in form.value_columns:
        # Check names are the rule ids in rules.yaml › cell_rules.
        checks = [pa.Check(_non_negative, name="negative")]
        if not col.is_amount:
            checks.append(pa.Check(_whole, name="not_whole"))
        columns[col.id] = pa.Column(pl.Float64, nullable=True, checks=checks)
    return pa.DataFrameSchema(columns, strict=True, ordered=True, name=form.name)


def empty_frame(form_id: str) -> pl.DataFrame:
    form = get_form(form_id)
    schema = {"_ret": pl.Int64, "_row": pl.String} | {c.id: pl.Float64 for c in form.value_columns}
    return pl.DataFrame(schema=schema)


def schema_failures(form_id: str, frame: pl.DataFrame) -> list[tuple[int, str, str, str]]:
    """(return index, row key, column id, check name) for every failing cell."""
    try:
        form_schema(form_id).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        out = []
        for row in cases.filter(pl.col("index").is_not_null()).iter_rows(named=True):
            i = int(row["index"])
            out.append((frame["_ret"][i], frame["_row"][i], row["column"], row["check"]))
        return out
    return []
