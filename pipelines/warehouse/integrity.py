"""Integrity of what is about to be published: the official figures obey every form rule, and each
return has exactly one official version. Validated returns cannot break these, so a breach means
the load went wrong; the warehouse asset refuses to publish such a build, and the Dagster checks
re-run the same functions on the published file."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.forms import load_forms
from pipelines.rules import cross, schema


class IntegrityError(RuntimeError):
    """The build breaks a form rule or has two official versions: do not publish it."""


def official_breaches(con: duckdb.DuckDBPyConnection) -> list[cross.Breach | tuple]:
    """Re-run the schema and cross-cell rules over official_values, per form."""
    out: list = []
    for form_id, form in load_forms().items():
        long = pl.DataFrame(
            con.sql(
                "select submission_id, row_key, column_id, value from official_values "
                "where form = ?",
                params=[form_id],
            )
        )
        if long.is_empty():
            continue
        wide = long.pivot(on="column_id", index=["submission_id", "row_key"], values="value")
        cols = [c.id for c in form.value_columns]
        frame = wide.select(
            pl.col("submission_id").cast(pl.Int64).alias("_ret"),
            pl.col("row_key").alias("_row"),
            *[
                (pl.col(c) if c in wide.columns else pl.lit(None)).cast(pl.Float64).alias(c)
                for c in cols
            ],
        )
        out += schema.schema_failures(form_id, frame)
        out += [b for b in cross.check(form_id, frame) if b.severity == "error"]
    return out


def duplicate_officials(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select submitter, form, quarter, count(*) from submissions where is_official "
        "group by all having count(*) > 1"
    ).fetchall()


def assert_publishable(con: duckdb.DuckDBPyConnection) -> None:
    """Raise IntegrityError (Chinese message) when the build must not be published."""
    breaches, dupes = official_breaches(con), duplicate_officials(con)
    if breaches or dupes:
        raise IntegrityError(
            f"数据仓库未发布：正式数据违反表内规则 {len(breaches)} 处，"
            f"同一报表有多个正式版本 {len(dupes)} 处。前几处：{breaches[:3]} {dupes[:3]}"
        )
