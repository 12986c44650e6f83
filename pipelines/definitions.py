"""The Dagster code location `pipelines`: `dagster dev` from the repository root loads it."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.indicators import indicators
from pipelines.assets.ingest import raw_files, returns, warehouse_tables
from pipelines.assets.mail import mail_replies, mailbox_sensor
from pipelines.assets.outputs import (
    consolidated_return,
    leaders_report,
    submitter_alerts,
    submitter_reminders,
)
from pipelines.automation import (
    QUARTERLY_JOB,
    REMINDER_JOB,
    drop_folder_sensor,
    late_returns_schedule,
    reminder_schedule,
)
from pipelines.checks.data_quality import no_open_warnings, returns_on_time
from pipelines.checks.form_rules import (
    official_values_obey_form_rules,
    one_official_version_per_return,
)
from pipelines.resources import default_resources

# Steps run in child processes forked from a fork server that has already imported Dagster and
# this code location: a step starts in well under a second instead of re-importing everything
# in a fresh interpreter (the default "spawn"), which dominated a scheduled run's time.
# The instance's SQLite storage (SQLAlchemy, Alembic) is what a step opens first: preloaded too,
# each step's child does not import it again (≈1 s a step on a 2-core machine).
STEP_PRELOAD = [
    "pipelines.definitions",
    "dagster._core.storage.sqlite_storage",
    "dagster._core.storage.runs.sqlite",
    "dagster._core.storage.event_log.sqlite",
    "dagster._core.storage.schedules.sqlite",
]
EXECUTOR = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": STEP_PRELOAD}}}
)

QUARTERLY_ASSETS = [
    raw_files,
    returns,
    warehouse_tables,
    indicators,
    leaders_report,
    consolidated_return,
    submitter_alerts,
    mail_replies,
]

quarterly_job = dg.define_asset_job(
    QUARTERLY_JOB,
    selection=dg.AssetSelection.assets(*QUARTERLY_ASSETS),
    description="一个或多个季度的完整流程：归档、校验、入库、指标、报告、汇总表、通知。",
)
reminder_job = dg.define_asset_job(
    REMINDER_JOB,
    selection=dg.AssetSelection.assets(submitter_reminders),
    description="截止日前催报。",
)

defs = dg.Definitions(
    assets=[*QUARTERLY_ASSETS, submitter_reminders],
    asset_checks=[
        official_values_obey_form_rules,
        one_official_version_per_return,
        returns_on_time,
        no_open_warnings,
    ],
    jobs=[quarterly_job, reminder_job],
    sensors=[drop_folder_sensor, mailbox_sensor],
    schedules=[late_returns_schedule, reminder_schedule],
    resources=default_resources(),
    executor=EXECUTOR,
)
