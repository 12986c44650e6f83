"""`dagster job execute` — the path a scheduler or an engineer's terminal takes without the UI —
runs a quarter through a real DagsterInstance with the default multiprocess executor (each step
in its own process, forked from the fork server) and exits: no process left behind waiting on
an orphaned reader pool (the hang at `multiprocessing.util._exit_function` this replaced).
The deadline is a hang bound, not a speed claim."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import psutil

from pipelines.paths import Paths
from tests.returns import FORM1_STREET, write_return

REPO = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).with_name("dagster")
QUARTER = "2026Q2"


def _left_behind(root: Path) -> list[psutil.Process]:
    """Processes still running with this test's data root in their environment."""
    left = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("JIBAO_HOME") == str(root):
                left.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return left


def test_dagster_job_execute_runs_a_quarter_in_step_processes_and_exits(tmp_path: Path):
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    config = (REPO / "dagster_home" / "dagster.yaml").read_text(encoding="utf-8")
    (dagster_home / "dagster.yaml").write_text(
        config + "\ntelemetry:\n  enabled: false\n", encoding="utf-8"
    )
    paths = Paths(tmp_path / "office")
    folder = paths.raw_quarter(QUARTER)
    folder.mkdir(parents=True)
    write_return(folder / "临江街道表一.xlsx", "form1", "临江街道", FORM1_STREET, campaign=2026)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "JIBAO_HOME": str(paths.root)}
    env.pop("JIBAO_WAREHOUSE", None)
    tags = json.dumps({"dagster/partition": QUARTER})
    done = subprocess.run(
        [str(DAGSTER), "job", "execute", "-m", "pipelines.definitions", "-j", "quarterly_job"]
        + ["--tags", tags],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "multiprocess executor" in done.stdout + done.stderr
    assert not _left_behind(paths.root)

    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        (run,) = instance.get_runs()
        assert run.status.value == "SUCCESS"
        pids = {
            e.dagster_event.pid
            for e in instance.all_logs(run.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "STEP_START"
        }
    assert len(pids) > 1  # the steps ran in processes of their own
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute(
            "select submitter, form, is_official from submissions where quarter = ?", [QUARTER]
        ).fetchall()
    assert rows == [("临江街道", "form1", True)]
    assert (paths.report_dir(QUARTER) / f"进展报告_{QUARTER}.html").is_file()
