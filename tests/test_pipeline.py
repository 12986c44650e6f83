"""The one road end to end: the Dagster code location loads, its sensor and schedules fire when
they should, and `jibao demo` / `jibao run` drive the same job from raw files to the warehouse,
the reports, the consolidated returns and the alerts — idempotently."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from openpyxl import load_workbook

from pipelines import periods
from pipelines.automation import (
    SCHEDULES,
    drop_folder_sensor,
    late_returns_schedule,
    reminder_schedule,
)
from pipelines.outbox import FILE_NAME, Outbox
from pipelines.paths import Paths
from pipelines.resources import JibaoPaths
from pipelines.warehouse.schema import INDICATOR_VIEWS

SAMPLE_QUARTERS = ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]


def jibao(home: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """The console script, as the office runs it, against its own data root."""
    env = {**os.environ, "JIBAO_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    env.pop("JIBAO_WAREHOUSE", None)
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def snapshot(db: Path) -> dict[str, list]:
    """Everything that a re-run must leave unchanged, in a stable order."""
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            "submissions": con.execute("select * from submissions order by all").fetchall(),
            "values": con.execute("select count(*), sum(value) from return_values").fetchall(),
            "issues": con.execute(
                "select submission_id, rule, cell, status from validation_issues order by all"
            ).fetchall(),
            # Letters are recorded in the outbox (alert_deliveries is its copy, one build behind).
            "alerts": sorted(
                (r["quarter"], r["submitter"], r["channel"], r["fingerprint"], r["status"])
                for r in Outbox(db.parents[1] / "outbox" / FILE_NAME).attempt_rows()
            ),
        }


# ---------------------------------------------------------------- the code location


def test_code_location_loads_with_every_asset_check_job_sensor_and_schedule():
    from pipelines.definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "raw_files",
        "returns",
        "warehouse_tables",
        "indicators",
        "leaders_report",
        "consolidated_return",
        "submitter_alerts",
        "submitter_reminders",
    } <= keys
    checks = {k.name for k in graph.asset_check_keys}
    assert {"official_values_obey_form_rules", "one_official_version_per_return"} <= checks
    assert defs.resolve_job_def("quarterly_job").partitions_def is not None
    assert defs.resolve_sensor_def("drop_folder_sensor")
    assert defs.resolve_schedule_def("late_returns_schedule")


def test_code_location_loads_under_dagster_definitions_cli(tmp_path: Path):
    """What `dagster dev` does first: import the module named in pyproject's [tool.dagster]."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "pipelines.definitions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent.parent,
    )
    assert out.returncode == 0, out.stdout + out.stderr


# ---------------------------------------------------------------- sensor and schedules


def test_sensor_requests_a_run_when_a_file_appears_or_changes_and_not_otherwise(tmp_path: Path):
    resources = {"jibao": JibaoPaths(home=str(tmp_path))}
    folder = Paths(tmp_path).raw_quarter("2025Q3")
    folder.mkdir(parents=True)

    ctx = dg.build_sensor_context(resources=resources)
    assert isinstance(drop_folder_sensor(ctx), dg.SkipReason)  # an empty folder

    (folder / "常泰街道.xlsx").write_bytes(b"first")
    ctx = dg.build_sensor_context(cursor=ctx.cursor, resources=resources)
    first = drop_folder_sensor(ctx)
    assert [r.partition_key for r in first] == ["2025Q3"]

    ctx = dg.build_sensor_context(cursor=ctx.cursor, resources=resources)
    assert isinstance(drop_folder_sensor(ctx), dg.SkipReason)  # nothing changed

    (folder / "常泰街道.xlsx").write_bytes(b"second, longer")
    ctx = dg.build_sensor_context(cursor=ctx.cursor, resources=resources)
    second = drop_folder_sensor(ctx)
    assert [r.partition_key for r in second] == ["2025Q3"]
    assert second[0].run_key != first[0].run_key


def test_late_schedule_runs_the_quarter_the_day_after_its_due_date():
    q = periods.Quarter.parse("2025Q3")
    due = periods.due_date(q)
    after = SCHEDULES["late_check_days_after_due"]
    at = dt.datetime.combine(due + dt.timedelta(days=after), dt.time(8))
    result = late_returns_schedule(dg.build_schedule_context(scheduled_execution_time=at))
    assert [r.partition_key for r in result] == ["2025Q3"]
    on_due = dt.datetime.combine(due, dt.time(8))
    skip = late_returns_schedule(dg.build_schedule_context(scheduled_execution_time=on_due))
    assert isinstance(skip, dg.SkipReason)


def test_reminder_schedule_runs_on_the_reminder_day_only():
    q = periods.Quarter.parse("2025Q4")
    day = periods.reminder_date(q)
    at = dt.datetime.combine(day, dt.time(8))
    result = reminder_schedule(dg.build_schedule_context(scheduled_execution_time=at))
    assert [r.partition_key for r in result] == ["2025Q4"]
    later = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8))
    assert isinstance(
        reminder_schedule(dg.build_schedule_context(scheduled_execution_time=later)),
        dg.SkipReason,
    )


# ---------------------------------------------------------------- the demo, end to end


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    home = tmp_path_factory.mktemp("demo")
    return home, jibao(home, "demo")


def test_demo_writes_the_sample_and_runs_every_quarter(demo):
    home, out = demo
    assert out.returncode == 0, out.stdout + out.stderr
    paths = Paths(home)
    manifest = json.loads((paths.raw / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["quarters"] == SAMPLE_QUARTERS
    assert str(paths.warehouse) in out.stdout
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        loaded = {q for (q,) in con.execute("select distinct quarter from submissions").fetchall()}
        assert set(SAMPLE_QUARTERS) <= loaded
        for view in INDICATOR_VIEWS:
            for q in SAMPLE_QUARTERS:
                n = con.execute(f"select count(*) from {view} where quarter = ?", [q]).fetchone()
                assert n[0] > 0, (view, q)


def test_demo_produces_report_consolidated_return_and_alerts_for_every_quarter(demo):
    """Each quarter gets its report (titled for the quarter, its charts inline), its consolidated
    return, and a letter to every submitter whose return was rejected and never replaced."""
    home, out = demo
    assert out.returncode == 0, out.stderr
    paths = Paths(home)
    for q in SAMPLE_QUARTERS:
        html = (paths.report_dir(q) / f"进展报告_{q}.html").read_text(encoding="utf-8")
        assert f"（{periods.Quarter.parse(q).label}）</title>" in html
        assert html.count("Plotly.newPlot") >= 4  # risk colours, pace, closure trend, timeliness
        assert 'data-figure="reporting_rate"' in html
        assert (paths.report_dir(q) / f"汇总表_{q}.xlsx").stat().st_size > 10_000
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            unreplaced = {
                s
                for (s,) in con.execute(
                    "select submitter from submissions where quarter = ? and submitter is not null "
                    "group by submitter, form having not bool_or(is_official)",
                    [q],
                ).fetchall()
            }
        lettered = {p.parent.name for p in paths.outbox_dir(q).rglob(f"通知_{q}.md")}
        assert unreplaced <= lettered, unreplaced - lettered


def test_demo_keeps_every_received_file_and_gives_each_a_verdict(demo):
    home, _ = demo
    paths = Paths(home)
    received = [
        p for p in paths.raw.rglob("*") if p.is_file() and p.suffix.lower() in {".xlsx", ".xls"}
    ]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        archived = {r[0] for r in con.execute("select distinct sha256 from submissions").fetchall()}
        statuses = dict(
            con.execute("select status, count(*) from submissions group by status").fetchall()
        )
    distinct = {hashlib.sha256(p.read_bytes()).hexdigest() for p in received}
    assert archived == distinct
    assert {f.stem for f in paths.archive.iterdir()} >= archived
    assert statuses.get("accepted", 0) > 0 and statuses.get("rejected", 0) > 0


def test_running_again_on_the_same_files_changes_nothing(demo):
    home, out = demo
    assert out.returncode == 0
    paths = Paths(home)
    before = snapshot(paths.warehouse)
    again = jibao(home, "run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert snapshot(paths.warehouse) == before


def test_an_accepted_resubmission_becomes_official_and_the_first_stays_queryable(demo):
    """A submitter sends its 2025Q4 workbook again with a corrected 填报人 line: `jibao run
    --quarter 2025Q4` (the same Dagster job) loads it as the official version, the earlier one is
    superseded but kept, and the other quarters do not change."""
    home, out = demo
    assert out.returncode == 0
    paths = Paths(home)
    q = "2025Q4"
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        sid, submitter, form, source = con.execute(
            "select submission_id, submitter, form, original_path from submissions "
            "where quarter = ? and is_official and original_name ilike '%.xlsx' "
            "order by submitter, form limit 1",
            [q],
        ).fetchone()
        others = snapshot_quarters(con, exclude=q)
    wb = load_workbook(source)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "填报人" in cell.value:
                    cell.value = cell.value + " "  # a visible correction that changes no figure
    corrected = paths.raw_quarter(q) / "更正" / "重新报送.xlsx"
    corrected.parent.mkdir(parents=True, exist_ok=True)
    wb.save(corrected)

    run = jibao(home, "run", "--quarter", q)
    assert run.returncode == 0, run.stdout + run.stderr
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        versions = con.execute(
            "select submission_id, original_name, status, is_official, superseded_by "
            "from submissions where quarter = ? and submitter = ? and form = ? "
            "order by received_at",
            [q, submitter, form],
        ).fetchall()
        assert snapshot_quarters(con, exclude=q) == others
    newest = versions[-1]
    assert newest[1] == "重新报送.xlsx" and newest[2] == "accepted" and newest[3]
    first = next(v for v in versions if v[0] == sid)
    assert not first[3] and first[4] == newest[0]


def snapshot_quarters(con: duckdb.DuckDBPyConnection, *, exclude: str) -> list:
    return con.execute(
        "select submission_id, status, is_official, superseded_by from submissions "
        "where quarter is distinct from ? order by all",
        [exclude],
    ).fetchall()


def test_sql_command_prints_a_query_result_from_the_published_warehouse(demo):
    home, out = demo
    assert out.returncode == 0
    res = jibao(home, "sql", "select count(*) as n from submitters")
    assert res.returncode == 0, res.stderr
    assert "n" in res.stdout and any(ch.isdigit() for ch in res.stdout)
    bad = jibao(home, "sql", "select * from no_such_table")
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr and "查询出错" in bad.stderr


def test_reminder_job_before_the_due_date_reminds_exactly_those_without_an_accepted_return(demo):
    """reminder_job as the reminder schedule starts it (five days before the due date), letters
    only; the addressees are the submitters that reporting_status shows missing a form."""
    from pipelines.jobs import execute

    home, out = demo
    assert out.returncode == 0
    paths = Paths(home)
    q = "2026Q1"
    day = periods.reminder_date(periods.Quarter.parse(q))
    result = execute(paths, q, q, today=day, send=False, job_name="reminder_job")
    assert result.success
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        missing = {
            s
            for (s,) in con.execute(
                "select distinct submitter from reporting_status "
                "where quarter = ? and expected and missing",
                [q],
            ).fetchall()
        }
    reminded = {p.parent.name for p in paths.outbox_dir(q).rglob(f"报送提醒_{q}.md")}
    assert missing, "the sample plants missing returns in every quarter"
    assert reminded == missing
