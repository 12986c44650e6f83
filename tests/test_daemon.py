"""The scheduled path, as the office runs it: `dagster dev` on loopback (webserver, daemon, code
server) over a real DagsterInstance, default multiprocess executor, runs launched by the
daemon in their own processes — never `execute_in_process`.

One `dagster dev` serves the module (starting it costs seconds): a file dropped into
data/raw/<quarter>/ makes the sensor request one run that succeeds and publishes the same
figures as the library path; a run queued with `runqueue.request_run` (the console's 「立即刷新」)
is launched by the daemon and succeeds; Ctrl-C (SIGINT to the process group, as a terminal
sends it) and SIGTERM end the whole process tree. Deadlines are hang bounds, not speed claims.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psutil
import pytest

from pipelines.paths import Paths

pytestmark = pytest.mark.xdist_group("dagster_dev")

REPO = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).with_name("dagster")
QUARTER = "2026Q1"
HANG_BOUND = 600  # seconds: a run on a loaded 2-core machine, not a speed claim
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(what: str, check: Callable[[], object], deadline: float = HANG_BOUND, every=0.5):
    """Poll `check` until it returns something truthy; fail with `what` after `deadline`."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


@dataclass
class DagsterDev:
    proc: subprocess.Popen
    port: int
    paths: Paths
    dagster_home: Path
    log: Path

    def instance(self):
        import dagster as dg

        return dg.DagsterInstance.from_config(str(self.dagster_home))

    def runs(self, **tags: str) -> list:
        import dagster as dg

        with self.instance() as instance:
            return list(instance.get_runs(filters=dg.RunsFilter(tags=tags)))

    def wait_finished(self, deadline: float = HANG_BOUND, **tags: str):
        def done():
            runs = self.runs(**tags)
            return runs if runs and all(r.status.value in FINISHED for r in runs) else None

        return _until(f"runs tagged {tags} to finish (log: {self.log})", done, deadline)

    def tree(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.NoSuchProcess):
            top = psutil.Process(self.proc.pid)
            return [top, *top.children(recursive=True)]
        return []


def start_dagster_dev(root: Path, *, sensor_interval: int = 2) -> DagsterDev:
    """`dagster dev` from the repository root (pyproject's code location), on loopback."""
    dagster_home = root / "dagster_home"
    dagster_home.mkdir(parents=True)
    config = (REPO / "dagster_home" / "dagster.yaml").read_text(encoding="utf-8")
    (dagster_home / "dagster.yaml").write_text(
        config + "\ntelemetry:\n  enabled: false\n", encoding="utf-8"
    )
    paths = Paths(root / "office")
    paths.raw.mkdir(parents=True)
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "JIBAO_HOME": str(paths.root),
        "JIBAO_SENSOR_INTERVAL": str(sensor_interval),
    }
    env.pop("JIBAO_WAREHOUSE", None)
    log = root / "dagster_dev.log"
    proc = subprocess.Popen(
        [str(DAGSTER), "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal would give it
    )
    dev = DagsterDev(proc, port, paths, dagster_home, log)

    def ready():
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        url = f"http://127.0.0.1:{port}/server_info"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200
        return False

    _until("dagster dev to serve", ready)
    return dev


def stop(dev: DagsterDev, sig: signal.Signals, *, group: bool) -> float:
    """Send `sig` (to the group, as Ctrl-C does, or to dagster dev alone, as `kill` does) and
    wait until every process of its tree has exited; returns the seconds it took."""
    tree = dev.tree()
    started = time.monotonic()
    if group:
        os.killpg(dev.proc.pid, sig)
    else:
        dev.proc.send_signal(sig)

    def gone():
        dev.proc.poll()
        return not [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    _until(f"the process tree to exit after {sig.name} (log: {dev.log})", gone, deadline=120)
    dev.proc.wait(timeout=30)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def sample_quarter(tmp_path_factory) -> Path:
    """The sample's 2026Q1 drop folder (returns, received.csv)."""
    from pipelines.sample import write_sample

    raw = tmp_path_factory.mktemp("sample") / "raw"
    write_sample(raw)
    return raw / QUARTER


@pytest.fixture(scope="module")
def dev(tmp_path_factory) -> Iterator[DagsterDev]:
    dev = start_dagster_dev(tmp_path_factory.mktemp("dagster_dev"))
    saved = {k: os.environ.get(k) for k in ("DAGSTER_HOME", "JIBAO_HOME")}
    os.environ["DAGSTER_HOME"] = str(dev.dagster_home)  # for runqueue.request_run here
    try:
        yield dev
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if dev.proc.poll() is None:
            stop(dev, signal.SIGINT, group=True)


def figures(db: Path, quarter: str) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            "official": con.execute(
                "select submitter, form, sha256 from submissions "
                "where quarter = ? and is_official order by all",
                [quarter],
            ).fetchall(),
            "values": con.execute(
                "select submitter, form, row_key, column_id, value from unit_values "
                "where quarter = ? order by all",
                [quarter],
            ).fetchall(),
        }


def library_figures(folder: Path, tmp_path: Path) -> dict[str, list]:
    """The same files through the library path (pipelines.warehouse.refresh) in-process."""
    from pipelines import validate, warehouse

    ref = Paths(tmp_path / "reference")
    shutil.copytree(folder, ref.raw_quarter(QUARTER))
    warehouse.refresh(ref, [QUARTER], validate.validate_paths)
    return figures(ref.warehouse, QUARTER)


def test_a_dropped_quarter_makes_the_sensor_start_one_run_that_publishes_its_figures(
    dev: DagsterDev, sample_quarter: Path, tmp_path: Path
):
    staging = dev.paths.raw / f".{QUARTER}.copying"  # the sensor sees the folder whole
    shutil.copytree(sample_quarter, staging)
    staging.rename(dev.paths.raw_quarter(QUARTER))
    (run,) = dev.wait_finished(**{"jibao/source": "drop_folder"})
    assert run.status.value == "SUCCESS", dev.log.read_text(errors="replace")[-3000:]
    assert run.tags["dagster/asset_partition_range_start"] == QUARTER
    assert run.tags["dagster/asset_partition_range_end"] == QUARTER
    published = figures(dev.paths.warehouse, QUARTER)
    assert published["official"] and published["values"]
    assert published == library_figures(sample_quarter, tmp_path)
    assert (dev.paths.report_dir(QUARTER) / f"进展报告_{QUARTER}.html").is_file()
    assert (dev.paths.report_dir(QUARTER) / f"汇总表_{QUARTER}.xlsx").is_file()


def test_a_file_dropped_later_is_picked_up_by_the_sensor_and_its_return_is_in_the_warehouse(
    dev: DagsterDev,
):
    from tests.returns import FORM1_STREET, write_return

    before = len(dev.runs(**{"jibao/source": "drop_folder"}))
    folder = dev.paths.raw_quarter("2026Q2")
    folder.mkdir()
    tmp = folder / ".~writing.xlsx"  # hidden while being written, then renamed into place
    write_return(tmp, "form1", "临江街道", FORM1_STREET, campaign=2026, date=None)
    tmp.rename(folder / "临江街道2026年第二季度表一.xlsx")

    def second():
        runs = dev.runs(**{"jibao/source": "drop_folder"})
        return len(runs) > before and all(r.status.value in FINISHED for r in runs)

    _until("the sensor's run for 2026Q2", second)
    latest = dev.runs(**{"jibao/source": "drop_folder"})[0]  # newest first
    assert latest.status.value == "SUCCESS"
    assert latest.tags["dagster/asset_partition_range_start"] == "2026Q2"
    with duckdb.connect(str(dev.paths.warehouse), read_only=True) as con:
        rows = con.execute(
            "select submitter, form, original_name from submissions where quarter = '2026Q2'"
        ).fetchall()
    assert rows == [("临江街道", "form1", "临江街道2026年第二季度表一.xlsx")]


def test_a_run_requested_through_the_run_queue_is_launched_by_the_daemon(dev: DagsterDev):
    """Two refreshes asked for at once (two clerks clicking 「立即刷新」) are both launched by the
    daemon and succeed, one after the other: the warehouse pool admits one writer at a time."""
    from pipelines.runqueue import SOURCE_TAG, request_run

    run_id = request_run([QUARTER, "2026Q2"], source="console:测试员", paths=dev.paths)
    other_id = request_run(["2026Q2"], source="console:办公室", paths=dev.paths)
    assert run_id and other_id
    (run,) = dev.wait_finished(**{SOURCE_TAG: "console:测试员"})
    (other,) = dev.wait_finished(**{SOURCE_TAG: "console:办公室"})
    assert run.run_id == run_id and run.status.value == "SUCCESS"
    assert other.run_id == other_id and other.status.value == "SUCCESS"
    assert run.tags["dagster/asset_partition_range_start"] == QUARTER
    assert run.tags["dagster/asset_partition_range_end"] == "2026Q2"
    with dev.instance() as instance:
        a, b = sorted(
            (instance.get_run_record_by_id(i) for i in (run_id, other_id)),
            key=lambda r: r.start_time,
        )
    assert a.end_time <= b.start_time  # never two runs writing the warehouse at once


def test_request_run_without_an_instance_returns_none(monkeypatch, caplog):
    from pipelines.runqueue import request_run

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert request_run([QUARTER], source="mail") is None
    assert "未配置 Dagster 实例" in caplog.text


def test_ctrl_c_ends_dagster_dev_and_every_process_it_started(dev: DagsterDev):
    """Last in the module: it stops the shared `dagster dev`."""
    assert dev.tree()
    stop(dev, signal.SIGINT, group=True)
    assert dev.proc.returncode is not None


def test_sigterm_ends_dagster_dev_and_every_process_it_started(tmp_path: Path):
    dev = start_dagster_dev(tmp_path)
    try:
        assert len(dev.tree()) > 1  # webserver, daemon, code server
    finally:
        stop(dev, signal.SIGTERM, group=False)


def test_the_run_queue_names_the_code_location_the_daemon_loads():
    import tomllib

    from pipelines.runqueue import CODE_LOCATION, MODULE

    tool = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["dagster"]
    assert (tool["code_location_name"], tool["module_name"]) == (CODE_LOCATION, MODULE)
