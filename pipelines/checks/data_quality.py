"""Non-blocking data-quality checks: late and missing returns, open warnings, history outliers.
They warn the office; they never stop the report."""

import dagster as dg

from pipelines.assets.ingest import warehouse_tables
from pipelines.resources import JibaoPaths, Warehouse

WARN = dg.AssetCheckSeverity.WARN


@dg.asset_check(asset=warehouse_tables, name="returns_on_time")
def returns_on_time(jibao: JibaoPaths, warehouse_db: Warehouse) -> dg.AssetCheckResult:
    with warehouse_db.reader(jibao.paths) as con:
        late, missing = con.execute(
            "select coalesce(sum(late), 0), coalesce(sum(missing), 0) from reporting_status"
        ).fetchone()
    return dg.AssetCheckResult(
        passed=not late and not missing,
        severity=WARN,
        metadata={"late": int(late), "missing": int(missing)},
        description="迟报、缺报的应报表数",
    )


@dg.asset_check(asset=warehouse_tables, name="no_open_warnings")
def no_open_warnings(jibao: JibaoPaths, warehouse_db: Warehouse) -> dg.AssetCheckResult:
    with warehouse_db.reader(jibao.paths) as con:
        rows = con.execute(
            "select i.rule, count(*) from validation_issues i join submissions s using (submission_id) "
            "where s.is_official and i.severity = 'warning' and i.status = 'open' group by 1 order by 2 desc"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not rows,
        severity=WARN,
        metadata={"open_warnings": sum(n for _, n in rows), "by_rule": dict(rows)},
        description="正式版本中未说明的提示（文本数字、全角数字、大幅波动、异常值等）",
    )
