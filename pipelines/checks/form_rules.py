"""Blocking checks on the published warehouse: the official figures obey every form rule and
each return has exactly one official version. Validated returns cannot break these, so a failure
means the load went wrong, and nothing downstream should be sent out. They re-check the quarters
whose official figures the latest warehouse build changed (recorded in its materialisation; a
load changes nothing else), everything when that is not known."""

import dagster as dg

from pipelines.assets.ingest import changed_quarters, warehouse_tables
from pipelines.resources import JibaoPaths, Warehouse
from pipelines.warehouse.integrity import describe, duplicate_officials, official_breaches

OFFICIAL_RULES = "official_values_obey_form_rules"


ONE_OFFICIAL = "one_official_version_per_return"


def _scope(changed: list[str] | None) -> str:
    if changed is None:
        return "全部季度"
    return "、".join(changed) or "无（本次入库未改变正式数据）"


@dg.asset_check(asset=warehouse_tables, name=OFFICIAL_RULES, blocking=True)
def official_values_obey_form_rules(
    context: dg.AssetCheckExecutionContext, jibao: JibaoPaths, warehouse_db: Warehouse
) -> dg.AssetCheckResult:
    changed = changed_quarters(context.instance)
    with warehouse_db.reader(jibao.paths) as con:
        breaches = official_breaches(con, changed)
        first = "\n".join(describe(con, breaches[:5], []))
    return dg.AssetCheckResult(
        passed=not breaches,
        metadata={"breaches": len(breaches), "first": first, "quarters": _scope(changed)},
        description="正式数据逐条重算表内规则（合计、上限、整改≤发现等；办公室已接受情况说明的单元格除外）",
    )


@dg.asset_check(asset=warehouse_tables, name=ONE_OFFICIAL, blocking=True)
def one_official_version_per_return(
    context: dg.AssetCheckExecutionContext, jibao: JibaoPaths, warehouse_db: Warehouse
) -> dg.AssetCheckResult:
    changed = changed_quarters(context.instance)
    with warehouse_db.reader(jibao.paths) as con:
        dupes = duplicate_officials(con, changed)
        first = "\n".join(describe(con, [], dupes[:10]))
    return dg.AssetCheckResult(
        passed=not dupes, metadata={"duplicates": first, "quarters": _scope(changed)}
    )
