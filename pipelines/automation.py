"""When runs start by themselves: a sensor on the drop folder and daily schedules keyed to the
due dates in calendar.yaml."""

import datetime as dt
import hashlib
import json
import os

import dagster as dg

from pipelines import config, periods
from pipelines.resources import JibaoPaths

AUTOMATION = config.load("automation.yaml")
QUARTERLY_JOB = "quarterly_job"
REMINDER_JOB = "reminder_job"


def drop_folder_state(jibao: JibaoPaths) -> dict[str, dict[str, list[int]]]:
    """{quarter: {relative file: [mtime_ns, size]}} for every quarter folder under data/raw/
    (any case: 「2026q1/」 is 2026Q1; its files are keyed with the folder's name)."""
    state: dict[str, dict[str, list[int]]] = {}
    for quarter, dirs in jibao.paths.drop_folders().quarters.items():
        files = state.setdefault(quarter, {})
        for qdir in dirs:
            prefix = "" if qdir.name == quarter else f"{qdir.name}/"
            for f in sorted(qdir.rglob("*")):
                if f.is_file() and not f.name.startswith((".", "~$")):
                    st = f.stat()
                    files[prefix + str(f.relative_to(qdir))] = [st.st_mtime_ns, st.st_size]
    return state


def sensor_interval() -> int:
    """Seconds between drop-folder checks: automation.yaml › sensor.interval_seconds, or the
    JIBAO_SENSOR_INTERVAL environment variable (tests and benchmarks use a few seconds)."""
    env = os.environ.get("JIBAO_SENSOR_INTERVAL")
    if env:
        return max(1, int(env))
    return int(AUTOMATION["sensor"]["interval_seconds"])


def changed_quarters(before: dict, now: dict) -> list[str]:
    """Quarters whose folder gained, changed or lost a file since `before`, in calendar order."""
    order = [str(q) for q in periods.quarters()]
    changed = [q for q, files in now.items() if files and files != before.get(q)]
    return sorted(changed, key=order.index)


@dg.sensor(
    job_name=QUARTERLY_JOB,
    minimum_interval_seconds=sensor_interval(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="报送文件夹有新文件或改动时，对所有有变化的季度发起一次运行。",
)
def drop_folder_sensor(context: dg.SensorEvaluationContext, jibao: JibaoPaths):
    """ONE run for every quarter whose folder gained, changed or lost a file (sidecars included:
    a new received.csv or explanations.csv changes the result too): a partition-range run from
    the oldest to the newest changed quarter (single-run backfill policy), so five new quarters
    are one run in the `warehouse` pool queue, not five runs racing for it. The cursor keeps the
    full {quarter: {file: [mtime, size]}} state; the run key hashes the changed quarters' state,
    so an unchanged folder never triggers twice."""
    before = json.loads(context.cursor) if context.cursor else {}
    now = drop_folder_state(jibao)
    for warning in jibao.paths.drop_folder_warnings():  # never silently ignored
        context.log.warning(warning)
    changed = changed_quarters(before, now)
    context.update_cursor(json.dumps(now))
    if not changed:
        return dg.SkipReason("报送文件夹无变化")
    state = {q: now[q] for q in changed}
    digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
    first, last = changed[0], changed[-1]
    return dg.RunRequest(
        run_key=f"{first}-{last}:{digest}",
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
            "jibao/source": "drop_folder",
            "jibao/quarters": ",".join(changed),
        },
    )


SCHEDULES = AUTOMATION["schedules"]


def _daily(name: str, job_name: str, pick, offset_days: int, run_key: str, what: str):
    """A daily schedule that runs `job_name` for each quarter whose `pick(q)` + offset is today;
    `what` names that day in Chinese, for the schedule's description and its skip reason."""

    @dg.schedule(
        name=name,
        description=f"{what}运行该季度",
        cron_schedule=SCHEDULES["cron"],
        job_name=job_name,
        execution_timezone=SCHEDULES["timezone"],
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        today = context.scheduled_execution_time.date()
        due = [q for q in periods.quarters() if pick(q) + dt.timedelta(days=offset_days) == today]
        if not due:
            return dg.SkipReason(f"{today} 不是{what}")
        return [dg.RunRequest(run_key=f"{run_key}:{q}", partition_key=str(q)) for q in due]

    return _schedule


# The day after a due date: rerun the quarter so that reporting_status and the alerts record who
# is late or missing.
late_returns_schedule = _daily(
    "late_returns_schedule",
    QUARTERLY_JOB,
    periods.due_date,
    SCHEDULES["late_check_days_after_due"],
    "late",
    f"截止日后第 {SCHEDULES['late_check_days_after_due']} 天",
)
# On the reminder day before each due date (calendar.yaml): remind those who have not submitted.
reminder_schedule = _daily(
    "reminder_schedule", REMINDER_JOB, periods.reminder_date, 0, "remind", "催报日"
)
