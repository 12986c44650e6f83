"""The office's mailbox in Dagster: a sensor that receives, an asset that replies.

`mailbox_sensor` looks at the mailbox every mail.poll_seconds: each new message's workbooks are
received into data/raw/<quarter>/电子邮件/ (pipelines.mail.intake), where the drop-folder sensor
sees them and requests the quarter's run; messages with nothing to load are answered at once.
`mail_replies` runs in that quarterly run after the warehouse is published and answers every
message whose returns it now holds. Both drive the library functions `jibao mail fetch` and
`jibao run` use.
"""

import dagster as dg

from pipelines.assets.ingest import warehouse_tables
from pipelines.assets.partitions import one_run, quarters
from pipelines.mail.settings import poll_seconds
from pipelines.progress import say
from pipelines.resources import JibaoPaths, Warehouse

# A sensor evaluation must finish within Dagster's gRPC timeout (60 s by default): what is
# left is received on the next look.
SENSOR_BUDGET_S = 40.0


@dg.sensor(
    minimum_interval_seconds=poll_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="办公室邮箱：收取新邮件中的报表（按到达邮箱的时间登记），无报表的邮件即时回复。",
)
def mailbox_sensor(context: dg.SensorEvaluationContext, jibao: JibaoPaths):
    from pipelines.mail.intake import fetch
    from pipelines.mail.replies import answer
    from pipelines.mail.settings import MailConfigError
    from pipelines.reader import shutdown_shared_pools

    paths = jibao.paths
    try:
        report = fetch(paths, budget_s=SENSOR_BUDGET_S)
    except MailConfigError as exc:
        return dg.SkipReason(f"收件邮箱配置有误：{exc}")
    finally:
        shutdown_shared_pools()  # the front door's workers must not outlive the look
    if not report.configured:
        return dg.SkipReason("未配置收件邮箱（JIBAO_IMAP_HOST）")
    if report.warning:
        context.log.warning(report.warning)
        return dg.SkipReason(report.warning)
    replies = answer(paths)  # only messages with nothing to load; the rest wait for their run
    for h in report.handled:
        context.log.info(
            f"收到 {h.sender or '（发件人不明）'}「{h.subject}」：报表 {h.files} 个"
            f"{'（' + '、'.join(h.quarters) + '）' if h.quarters else ''}"
        )
    line = f"新邮件 {len(report.handled)} 封；{replies.line()}"
    if report.remaining:
        line += f"；另有 {report.remaining} 封下次收取"
    return dg.SkipReason(line)


@dg.asset(
    partitions_def=quarters,
    backfill_policy=one_run,
    group_name="outputs",
    deps=[warehouse_tables],
    kinds={"email"},
    description="邮件回复：对邮箱收到的每封邮件回复一次处理结果（已收到、每张报表的结论、问题单元格与更正要求、截止时间、联系方式），退回的报表附问题标注副本。",
)
def mail_replies(
    context: dg.AssetExecutionContext, jibao: JibaoPaths, warehouse_db: Warehouse
) -> dg.MaterializeResult:
    from pipelines.mail import store
    from pipelines.mail.replies import answer

    paths = jibao.paths
    if not store.exists(paths):
        return dg.MaterializeResult(metadata={"replies": "未启用邮箱收件"})
    with warehouse_db.reader(paths) as con:
        run = answer(paths, con)
    say(context, f"邮件回复：{run.line()}")
    return dg.MaterializeResult(
        metadata={
            "sent": len(run.sent),
            "failed": len(run.failed),
            "waiting": len(run.waiting),
            "summary": run.line(),
        }  # fmt: skip
    )
