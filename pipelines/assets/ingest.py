"""Raw files → validated returns → the published warehouse, per quarter."""

from collections import Counter

import dagster as dg

from pipelines import staging, warehouse
from pipelines.assets.partitions import WAREHOUSE_POOL, one_run, quarters
from pipelines.office import store as office_store
from pipelines.periods import Quarter
from pipelines.progress import say
from pipelines.reader import owned_pools
from pipelines.resources import JibaoPaths, Warehouse
from pipelines.runlock import run_lock
from pipelines.validate import validate_paths
from pipelines.warehouse import stored
from pipelines.warehouse.integrity import assert_publishable

# Metadata of warehouse_tables: the quarters whose official figures the build changed.
CHANGED_QUARTERS = "changed_quarters"


def changed_quarters(instance: dg.DagsterInstance) -> list[str] | None:
    """The quarters the latest warehouse_tables materialisation changed (None: unknown — never
    materialised here, or by a version that did not record them)."""
    event = instance.get_latest_materialization_event(warehouse_tables.key)
    meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
    value = meta.get(CHANGED_QUARTERS)
    return list(value.value) if value is not None else None


def ordered(context: dg.AssetExecutionContext) -> list[str]:
    """The run's quarters, oldest first: history rules need the previous quarter loaded."""
    return sorted(context.partition_keys, key=Quarter.parse)


@dg.asset(
    partitions_def=quarters,
    backfill_policy=one_run,
    group_name="ingest",
    kinds={"python", "file"},
    description="报送文件：扫描 data/raw/<季度>/，按内容哈希归档到 data/archive/，确定收到时间。",
)
def raw_files(context: dg.AssetExecutionContext, jibao: JibaoPaths) -> dg.MaterializeResult:
    paths = jibao.paths
    counts = {}
    for warning in paths.drop_folder_warnings():  # a folder naming no quarter is never ignored
        say(context, f"注意：{warning}")
    for key in ordered(context):
        received = warehouse.scan_drop_folder(
            paths, Quarter.parse(key), warn=lambda m: say(context, f"注意：{m}")
        )
        staging.save(paths, key, "received", received)
        counts[key] = len(received)
        say(context, f"{key} 收到文件 {len(received)} 个（已归档）")
    return dg.MaterializeResult(metadata={"files": sum(counts.values()), "per_quarter": counts})


@dg.asset(
    partitions_def=quarters,
    backfill_policy=one_run,
    group_name="ingest",
    deps=[raw_files],
    kinds={"python", "polars"},
    description="报表校验：识别每个文件中的季报表、报送单位和季度，逐格校验（通过 / 退回 / 无法读取）。",
)
def returns(context: dg.AssetExecutionContext, jibao: JibaoPaths) -> dg.MaterializeResult:
    paths = jibao.paths
    status: Counter[str] = Counter()
    with owned_pools():  # the reader workers end with this step, not at process exit
        for key in ordered(context):
            # Validate the archived copy (immutable, content-addressed); report the name it came in.
            by_archive = {
                str(r.archive_path): str(r.path) for r in staging.load_received(paths, key)
            }
            results = validate_paths(list(by_archive), quarter=key) if by_archive else []
            for r in results:
                r.file = by_archive.get(r.file, r.file)
            staging.save_results(paths, key, results)
            counts = Counter(r.status for r in results)
            status.update(counts)
            say(
                context,
                f"{key} 校验报表 {len(results)} 份：通过 {counts['accepted']}，退回 {counts['rejected']}，"
                f"无法读取 {counts['unreadable']}",
            )
    preview = "\n".join(f"| {k} | {v} |" for k, v in sorted(status.items()))
    return dg.MaterializeResult(
        metadata={
            "returns": sum(status.values()),
            "by_status": dg.MetadataValue.md("| 状态 | 份数 |\n|---|---|\n" + preview),
        }
    )


@dg.asset(
    partitions_def=quarters,
    backfill_policy=one_run,
    group_name="ingest",
    deps=[returns],
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="数据仓库：台账、数据、校验问题与历史规则入库，建在新文件中并原子替换已发布的仓库。",
)
def warehouse_tables(
    context: dg.AssetExecutionContext, jibao: JibaoPaths, warehouse_db: Warehouse
) -> dg.MaterializeResult:
    paths = jibao.paths
    keys = ordered(context)

    batches = [
        (
            Quarter.parse(key),
            staging.load_received(paths, key),
            staging.load_results(paths, key),
            warehouse.read_explanations(paths, key),
            staging.load_values(paths, key),
        )
        for key in keys
    ]
    target = warehouse_db.file(paths)
    actions = office_store.sync(paths, keys)  # explanations.csv → office journal; whole journal

    changed: list[str] = []

    def build(con) -> list:
        summaries = warehouse.load_batches(con, batches, actions=actions)
        changed[:] = stored.changed_quarters(con)  # what the blocking checks re-check
        # raises: the copy is discarded, the published file untouched
        assert_publishable(con, changed)
        return summaries

    with run_lock(paths, wait=True, what=f"Dagster {context.run.run_id[:8]}"):
        summaries = warehouse.publish(paths, build, target=target)
    for s in summaries:
        say(
            context,
            f"{s.quarter} 入库：正式版本 {s.official} 份，数据 {s.values} 项，"
            f"跨季度核对问题 {s.history_issues} 条",
        )
    with warehouse_db.reader(paths) as con:
        rows = con.execute(
            "select quarter, count(*) filter (where is_official), count(*) from submissions "
            "where quarter in (select unnest($1::varchar[])) group by quarter order by quarter",
            [keys],
        ).fetchall()
    table = "\n".join(f"| {q} | {o} | {n} |" for q, o, n in rows)
    return dg.MaterializeResult(
        metadata={
            "warehouse": dg.MetadataValue.path(str(target)),
            "submissions": dg.MetadataValue.md(
                "| 季度 | 正式版本 | 全部版本 |\n|---|---|---|\n" + table
            ),
            CHANGED_QUARTERS: dg.MetadataValue.json(changed),
        }
    )
