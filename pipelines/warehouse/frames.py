"""Front-door records as columnar frames, stable ids, and the Arrow path into DuckDB.

Values go into the warehouse as one polars frame per load (`insert … select` over an Arrow
stream), never row by row: a province-scale quarter is millions of cells. polars exports the
Arrow C stream itself, so this needs no pyarrow.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence

import duckdb
import polars as pl

from pipelines.model import ReturnResult

VALUES_SCHEMA = {
    "result": pl.Int32,  # index of the ReturnResult in the list loaded
    "row_key": pl.String,
    "column_id": pl.String,
    "value": pl.Float64,
    "cell": pl.String,
}

_counter = itertools.count()


def stable_id(*parts: object) -> int:
    """A positive 63-bit id from its parts: the same inputs give the same id in every run."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def submission_id(sha256: str, sheet: str | None, form: str | None) -> int:
    """One return in one file content: (sha256, sheet, form). Re-running on the same bytes gives
    the same ids, which is what makes a load idempotent."""
    return stable_id("submission", sha256, sheet, form)


def values_frame(results: Sequence[ReturnResult]) -> pl.DataFrame:
    """All values of `results` as one frame, `result` pointing back into the list."""
    idx, rows, cols, vals, cells = [], [], [], [], []
    for i, r in enumerate(results):
        n = len(r.values)
        if not n:
            continue
        idx.extend([i] * n)
        rows.extend(v.row_key for v in r.values)
        cols.extend(v.column_id for v in r.values)
        vals.extend(v.value for v in r.values)
        cells.extend(v.cell for v in r.values)
    return pl.DataFrame(
        {"result": idx, "row_key": rows, "column_id": cols, "value": vals, "cell": cells},
        schema=VALUES_SCHEMA,
    )


class _ArrowStream:
    """Exposes only __arrow_c_stream__, which DuckDB scans without pyarrow installed."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._frame.__arrow_c_stream__(requested_schema)


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """`insert into table (frame's columns) select … from frame`, through Arrow."""
    if frame.height == 0:
        return
    name = f"_frame_{next(_counter)}"
    con.register(name, _ArrowStream(frame))
    try:
        columns = ", ".join(frame.columns)
        con.execute(f"insert into {table} ({columns}) select {columns} from {name}")
    finally:
        con.unregister(name)


def query_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None
) -> pl.DataFrame:
    """A query's result as a polars frame (Arrow C stream, no pyarrow)."""
    return pl.DataFrame(con.sql(sql, params=params))
