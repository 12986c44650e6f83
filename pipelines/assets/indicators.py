"""The indicator views of sql/ over the published warehouse, checked and previewed per quarter."""

import time

import dagster as dg

from pipelines.assets.ingest import ordered, warehouse_tables
from pipelines.assets.partitions import one_run, quarters
from pipelines.progress import say
from pipelines.resources import JibaoPaths, Warehouse
from pipelines.warehouse.schema import INDICATOR_VIEWS


@dg.asset(
    partitions_def=quarters,
    backfill_policy=one_run,
    group_name="indicators",
    deps=[warehouse_tables],
    kinds={"duckdb", "sql"},
    description="指标：报送及时率、十百千万进度、风险四色分布、隐患闭环率、措施覆盖率、星级结构、本季新增、绩效评分（sql/ 中的视图）。",
)
def indicators(
    context: dg.AssetExecutionContext, jibao: JibaoPaths, warehouse_db: Warehouse
) -> dg.MaterializeResult:
    """The views compute on read, over the official figures the load stored; here each view is
    only bound (a view broken by a schema or configuration change fails the run), not evaluated:
    the report, the return and analysts evaluate what they need."""
    paths = jibao.paths
    keys = ordered(context)
    started = time.perf_counter()
    with warehouse_db.reader(paths) as con:
        columns = {
            view: len(con.execute(f"describe {view}").fetchall()) for view in INDICATOR_VIEWS
        }
        stored = dict(
            con.execute(
                """
                select quarter, count(*) from stored_official_values
                where quarter in (select unnest($1::varchar[])) group by quarter
                """,
                [keys],
            ).fetchall()
        )
    md = "| 视图 | 列数 |\n|---|---|\n" + "\n".join(f"| {v} | {n} |" for v, n in columns.items())
    values = "| 季度 | 正式数据项 |\n|---|---|\n" + "\n".join(
        f"| {q} | {stored.get(q, 0)} |" for q in keys
    )
    say(context, f"指标视图已就绪（{len(columns)} 个，{time.perf_counter() - started:.1f} 秒）")
    meta = {
        "views": dg.MetadataValue.md(md),
        "official_values": dg.MetadataValue.md(values),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return dg.MaterializeResult(metadata=meta)
