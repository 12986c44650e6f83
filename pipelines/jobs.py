"""The CLI's bridge to Dagster: `jibao run` and `jibao demo` execute the same job the Dagster
daemon runs (one path for data), in-process, over a range of quarter partitions in one run."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time

from pipelines import clock
from pipelines.paths import Paths
from pipelines.progress import log
from pipelines.progress import to_stdout as _progress_to_stdout


def quarters_in_drop_folder(paths: Paths) -> list[str]:
    """Quarters of the calendar whose drop folder (any case) holds anything, oldest first."""
    return [
        q
        for q, dirs in paths.drop_folders().quarters.items()
        if any(any(d.iterdir()) for d in dirs)
    ]


def execute(
    paths: Paths,
    first: str,
    last: str,
    *,
    today: dt.date | None = None,
    send: bool = True,
    job_name: str = "quarterly_job",
):
    """Run a job of the code location (quarterly_job, reminder_job) over [first, last] in one
    in-process run. DAGSTER_HOME, when set, keeps the run history; otherwise an ephemeral
    instance is used."""
    import dagster as dg

    from pipelines.definitions import defs

    instance = (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )
    send_config = {"config": {"today": (today or clock.today()).isoformat(), "send": send}}
    run_config = {
        "ops": {
            "submitter_reminders" if job_name == "reminder_job" else "submitter_alerts": send_config
        },
        # The CLI prints its own progress and, on failure, one sentence per failed step
        # (_report_failure): Dagster's console logger would print stack traces.
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
        "resources": {"jibao": {"config": {"home": str(paths.root)}}},
    }
    job = defs.resolve_job_def(job_name)
    return job.execute_in_process(
        run_config=run_config,
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
        raise_on_error=False,
    )


def run_pipeline(
    quarter: str | None = None, *, paths: Paths | None = None, today: dt.date | None = None
) -> int:
    _progress_to_stdout()
    paths = paths or Paths.from_env()
    keys = [quarter] if quarter else quarters_in_drop_folder(paths)
    if not keys:
        print(f"jibao：{paths.raw} 下没有季度文件夹（如 2025Q3/），无可处理的报表", file=sys.stderr)
        return 1
    started = time.perf_counter()
    log.info(f"处理季度：{keys[0]} – {keys[-1]}（数据目录 {paths.data}）")
    result = execute(paths, keys[0], keys[-1], today=today)
    if not result.success:
        return _report_failure(result)
    _summary(paths, keys)
    log.info(f"完成，用时 {time.perf_counter() - started:.1f} 秒")
    return 0


def _report_failure(result) -> int:
    """One Chinese line per failed step (its root cause, never a stack); the exit code of the
    first failure pipelines.failures can name, else 1."""
    from pipelines import failures

    codes = []
    failed = [e for e in result.all_events if e.is_step_failure]
    checks = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
    print(
        f"jibao：运行未完成。失败步骤：{'、'.join(e.step_key for e in failed) or '无'}；"
        f"未通过的检查：{'、'.join(checks) or '无'}",
        file=sys.stderr,
    )
    for e in failed:
        error = e.step_failure_data.error
        if error is None:
            continue
        known = failures.from_error_info(error)
        if known:
            codes.append(known.code)
            print(f"jibao：{e.step_key}：{known.message}", file=sys.stderr)
        else:
            print(f"jibao：{e.step_key}：{failures.root_message(error)}", file=sys.stderr)
    return codes[0] if codes else failures.EXIT_PROBLEMS


def _summary(paths: Paths, keys: list[str]) -> None:
    from pipelines.outputs.unassigned import summary_lines, unassigned_files
    from pipelines.warehouse import connect_published

    with connect_published(paths) as con:
        unassigned = [line for q in keys for line in summary_lines(unassigned_files(con, q), q)]
        rows = con.execute(
            "select quarter, count(*) filter (where status = 'accepted'), "
            "count(*) filter (where status = 'rejected'), count(*) filter (where status = 'unreadable') "
            "from submissions where quarter is not null group by quarter order by quarter"
        ).fetchall()
    log.info("季度      通过  退回  无法读取")
    for q, a, r, u in rows:
        log.info(f"{q}  {a:>5} {r:>5} {u:>7}")
    for line in unassigned:
        log.info(line)
    log.info(f'数据仓库（只读查询：jibao sql "select …"）：{paths.warehouse}')
    log.info(f"进展报告与区级汇总表：{paths.reports}/<季度>/")
    log.info(f"给报送单位的通知与标注副本：{paths.outbox}/<季度>/<单位>/")


def run_demo(paths: Paths | None = None) -> int:
    _progress_to_stdout()
    paths = paths or Paths.from_env()
    if not quarters_in_drop_folder(paths):
        from pipelines.sample import write_sample

        log.info(f"data/raw/ 为空：写入样例报送数据到 {paths.raw}")
        manifest = write_sample(paths.raw)
        log.info(
            f"样例：{len(manifest.files)} 个文件，{manifest.quarters[0]}–{manifest.quarters[-1]}，"
            f"含 {len(manifest.defect_kinds)} 类常见填报问题、迟报、重报和缺报"
        )
    code = run_pipeline(paths=paths)
    if code == 0:
        from pipelines.console.demo import create_demo_accounts

        for line in create_demo_accounts(paths):
            log.info(line)
    return code


def run_sql(query: str) -> int:
    import duckdb

    from pipelines.warehouse import connect_published

    paths = Paths.from_env()
    if not paths.warehouse.exists():
        print(
            f"jibao：数据仓库 {paths.warehouse} 不存在，请先运行 jibao run 或 jibao demo",
            file=sys.stderr,
        )
        return 1
    try:
        with connect_published(paths) as con:
            rel = con.sql(query)
            if rel is not None:
                rel.show(max_width=200, max_rows=200)
    except duckdb.Error as exc:
        from pipelines import failures

        failure = failures.from_exception(exc)
        if failure.code != failures.EXIT_PROBLEMS:  # locked by another program, disk full
            print(f"jibao：{failure.message}", file=sys.stderr)
            return failure.code
        print(f"jibao：查询出错：{exc}", file=sys.stderr)
        return 1
    return 0
