"""What the office sends out, per quarter: the leaders' report, the consolidated district return
and the alerts (and, before the due date, reminders) to submitters."""

import datetime as dt

import dagster as dg

from pipelines import clock
from pipelines.assets.indicators import indicators
from pipelines.assets.ingest import ordered
from pipelines.assets.partitions import WAREHOUSE_POOL, one_run, quarters
from pipelines.progress import say
from pipelines.resources import JibaoPaths, Warehouse


class SendConfig(dg.Config):
    """today: the date letters are dated and deadlines counted from (default: the run's date);
    send: deliver by e-mail / webhook where configured (files are always written)."""

    today: str = ""
    send: bool = True

    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.today) if self.today else clock.today()


def _write_files(context, jibao: JibaoPaths, warehouse_db: Warehouse, write, path_of, label):
    """One file per quarter of the run, `write(con, quarter, path_of(reports_dir, quarter))`, from
    a read-only connection to the published warehouse."""
    paths = jibao.paths
    written = []
    with warehouse_db.reader(paths) as con:
        for key in ordered(context):
            written.append(str(write(con, key, path_of(paths.reports, key))))
            say(context, f"{key} {label}：{written[-1]}")
    return dg.MaterializeResult(
        metadata={"files": dg.MetadataValue.md("\n".join(f"- {w}" for w in written))}
    )


@dg.asset(
    partitions_def=quarters,
    backfill_policy=one_run,
    group_name="outputs",
    deps=[indicators],
    kinds={"html", "plotly"},
    description="领导进展报告：data/reports/<季度>/进展报告_<季度>.html，离线可用、可打印。",
)
def leaders_report(
    context: dg.AssetExecutionContext, jibao: JibaoPaths, warehouse_db: Warehouse
) -> dg.MaterializeResult:
    from pipelines.outputs.report import report_path, write_report

    return _write_files(context, jibao, warehouse_db, write_report, report_path, "进展报告")


@dg.asset(
    partitions_def=quarters,
    backfill_policy=one_run,
    group_name="outputs",
    deps=[indicators],
    kinds={"excel"},
    description="区级汇总表：data/reports/<季度>/汇总表_<季度>.xlsx，按正式模板汇总四张表并附明细与缺报名单。",
)
def consolidated_return(
    context: dg.AssetExecutionContext, jibao: JibaoPaths, warehouse_db: Warehouse
) -> dg.MaterializeResult:
    from pipelines.outputs.consolidated import consolidated_path, write_consolidated
    from pipelines.outputs.unassigned import write_office_letter

    def write(con, quarter, path):
        # The office's list of files with no recognised submitter goes with its return.
        if letter := write_office_letter(con, jibao.paths, quarter):
            say(context, f"{quarter} 未识别报送单位的文件清单：{letter}")
        return write_consolidated(con, quarter, path)

    return _write_files(context, jibao, warehouse_db, write, consolidated_path, "区级汇总表")


def _alert_line(run) -> str:
    """「12 份；邮件/机器人发送 3，失败 0；与上次相同未重发 2」"""
    channels = [d for d in run.deliveries if d.channel != "file"]
    line = f"{len(run.alerts)} 份"
    if channels:
        sent = sum(d.status == "sent" for d in channels)
        line += f"；邮件/机器人发送 {sent}，失败 {len(run.failed)}"
    if run.unchanged:
        line += f"；与上次相同未重发 {len(run.unchanged)}"
    return line


def _letters(context, config: SendConfig, jibao: JibaoPaths, warehouse_db: Warehouse, write, label):
    """Write (and send) one kind of letter per quarter of the run. Deliveries are recorded in the
    outbox (pipelines.outbox), outside the warehouse build: this step only reads the warehouse."""
    from pipelines.outputs.sending import report_lines

    paths = jibao.paths
    lines, notes = [], []
    with warehouse_db.reader(paths) as con:
        for key in ordered(context):
            run = write(con, paths, key, today=config.day(), send=config.send,
                        by=f"run:{context.run.run_id}")  # fmt: skip
            say(context, f"{key} {label} {_alert_line(run)}：{paths.outbox_dir(key)}")
            for note in report_lines(run):
                say(context, note)
                notes.append(f"- {note}")
            lines.append(f"| {key} | {_alert_line(run)} |")
    md = f"| 季度 | {label} |\n|---|---|\n" + "\n".join(lines)
    metadata = {"letters": dg.MetadataValue.md(md)}
    if notes:
        metadata["to_check"] = dg.MetadataValue.md("\n".join(notes))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    partitions_def=quarters,
    backfill_policy=one_run,
    group_name="outputs",
    deps=[indicators],
    pool=WAREHOUSE_POOL,
    kinds={"email"},
    description="问题通知：对有错误、提示、迟报或缺报的单位写通知（.md/.html）和标注副本，配置后经邮件/机器人发送；同一组问题不重复发送。",
)
def submitter_alerts(
    context: dg.AssetExecutionContext,
    config: SendConfig,
    jibao: JibaoPaths,
    warehouse_db: Warehouse,
) -> dg.MaterializeResult:
    from pipelines.outputs.alerts import write_alerts

    return _letters(context, config, jibao, warehouse_db, write_alerts, "问题通知")


@dg.asset(
    partitions_def=quarters,
    backfill_policy=one_run,
    group_name="outputs",
    pool=WAREHOUSE_POOL,
    kinds={"email"},
    description="催报提醒：截止日前向尚未报送应报表的单位发送提醒。",
)
def submitter_reminders(
    context: dg.AssetExecutionContext,
    config: SendConfig,
    jibao: JibaoPaths,
    warehouse_db: Warehouse,
) -> dg.MaterializeResult:
    from pipelines.outputs.alerts import write_reminders

    return _letters(context, config, jibao, warehouse_db, write_reminders, "催报提醒")
