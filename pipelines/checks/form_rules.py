"""Blocking checks on the published warehouse: the official figures obey every form rule and
each return has exactly one official version. Validated returns cannot break these, so a failure
means the load went wrong, and nothing downstream should be sent out."""


import dagster as dg
import duckdb
import polars as pl

from pipelines.assets.ingest import warehouse_tables
from pipelines.forms import load_forms
from pipelines.resources import JibaoPaths, Warehouse
from pipelines.rules import cross, schema

OFFICIAL_RULES = "official_values_obey_form_rules"
ONE_OFFICIAL = "one_official_version_per_return"


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


@dg.asset_check(asset=warehouse_tables, name=OFFICIAL_RULES, blocking=True)
def official_values_obey_form_rules(
    jibao: JibaoPaths, warehouse_db: Warehouse
) -> dg.AssetCheckResult:
    with warehouse_db.reader(jibao.paths) as con:
        breaches = official_breaches(con)
    return dg.AssetCheckResult(
        passed=not breaches,
        metadata={"breaches": len(breaches), "first": str(breaches[:5])},
        description="正式数据逐条重算表内规则（合计、上限、整改≤发现等）",
    )


@dg.asset_check(asset=warehouse_tables, name=ONE_OFFICIAL, blocking=True)
def one_official_version_per_return(
    jibao: JibaoPaths, warehouse_db: Warehouse
) -> dg.AssetCheckResult:
    with warehouse_db.reader(jibao.paths) as con:
        dupes = duplicate_officials(con)
    return dg.AssetCheckResult(passed=not dupes, metadata={"duplicates": str(dupes[:10])})
