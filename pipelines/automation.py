"""When runs start by themselves: a sensor on the drop folder and daily schedules keyed to the
due dates in calendar.yaml."""

import datetime as dt
import hashlib
import json

import dagster as dg

from pipelines import periods
from pipelines.assets.partitions import quarters
from pipelines.resources import JibaoPaths

QUARTERLY_JOB = "quarterly_job"
REMINDER_JOB = "reminder_job"


def drop_folder_state(jibao: JibaoPaths) -> dict[str, dict[str, list[int]]]:
    """{quarter: {relative file: [mtime_ns, size]}} for every quarter folder under data/raw/."""
    raw = jibao.paths.raw
    keys = set(quarters.get_partition_keys())
    state: dict[str, dict[str, list[int]]] = {}
    if not raw.is_dir():
        return state
    for qdir in sorted(p for p in raw.iterdir() if p.is_dir() and p.name in keys):
        files = {}
        for f in sorted(qdir.rglob("*")):
            if f.is_file() and not f.name.startswith((".", "~$")):
                st = f.stat()
                files[str(f.relative_to(qdir))] = [st.st_mtime_ns, st.st_size]
        state[qdir.name] = files
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
    requests = []
    for quarter, files in now.items():
        if files and files != before.get(quarter):
            digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
            requests.append(dg.RunRequest(run_key=f"{quarter}:{digest}", partition_key=quarter))
    context.update_cursor(json.dumps(now))
    if not requests:
        return dg.SkipReason("报送文件夹无变化")
    return requests


def _quarters_due(today: dt.date, offset_days: int, pick) -> list[periods.Quarter]:
    return [q for q in periods.quarters() if pick(q) + dt.timedelta(days=offset_days) == today]


@dg.schedule(
    cron_schedule="0 8 * * *",
    job_name=QUARTERLY_JOB,
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def late_returns_schedule(context: dg.ScheduleEvaluationContext):
    """The day after a due date: rerun the quarter so that reporting_status and the alerts
    record who is late or missing."""
    today = context.scheduled_execution_time.date()
    due = _quarters_due(today, 1, periods.due_date)
    if not due:
        return dg.SkipReason(f"{today} 不是截止日次日")
    return [dg.RunRequest(run_key=f"late:{q}", partition_key=str(q)) for q in due]


@dg.schedule(
    cron_schedule="0 8 * * *",
    job_name=REMINDER_JOB,
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def reminder_schedule(context: dg.ScheduleEvaluationContext):
    """On the reminder day before each due date: remind those who have not yet submitted."""
    today = context.scheduled_execution_time.date()
    due = _quarters_due(today, 0, periods.reminder_date)
    if not due:
        return dg.SkipReason(f"{today} 不是催报日")
    return [dg.RunRequest(run_key=f"remind:{q}", partition_key=str(q)) for q in due]
