"""When runs start by themselves: a sensor on the drop folder and daily schedules keyed to the
due dates in calendar.yaml."""

import datetime as dt
import hashlib
import json

import dagster as dg

from pipelines import config, periods
from pipelines.resources import JibaoPaths

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


@dg.sensor(
    job_name=QUARTERLY_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def drop_folder_sensor(context: dg.SensorEvaluationContext, jibao: JibaoPaths):
    """A run for each quarter whose folder gained, changed or lost a file (sidecars included:
    a new received.csv or explanations.csv changes the result too). The cursor keeps the full
    {file: [mtime, size]} state, and the run key is the quarter's state hash, so an unchanged
    folder never triggers twice."""
    before = json.loads(context.cursor) if context.cursor else {}
    now = drop_folder_state(jibao)
    for warning in jibao.paths.drop_folder_warnings():  # never silently ignored
        context.log.warning(warning)
    requests = []
    for quarter, files in now.items():
        if files and files != before.get(quarter):
            digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
            requests.append(dg.RunRequest(run_key=f"{quarter}:{digest}", partition_key=quarter))
    context.update_cursor(json.dumps(now))
    if not requests:
        return dg.SkipReason("报送文件夹无变化")
    return requests


SCHEDULES = config.load("automation.yaml")["schedules"]


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
