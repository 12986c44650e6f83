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
    paths = jibao.paths
    keys = ordered(context)
    counts: dict[str, int] = {}
    started = time.perf_counter()
    with warehouse_db.reader(paths) as con:
        for view in INDICATOR_VIEWS:
            counts[view] = con.execute(
                f"select count(*) from {view} where quarter in (select unnest($1::varchar[]))",
                [keys],
            ).fetchone()[0]
    md = "| 视图 | 行数 |\n|---|---|\n" + "\n".join(f"| {v} | {n} |" for v, n in counts.items())
    say(context, f"指标视图已刷新（{len(counts)} 个，{time.perf_counter() - started:.1f} 秒）")
    meta = {"rows": dg.MetadataValue.md(md), "seconds": round(time.perf_counter() - started, 3)}
    return dg.MaterializeResult(metadata=meta)
