"""Safe publishing: an analyst's read-only connection is never blocked or broken by a refresh,
and a refresh killed mid-build leaves the published warehouse intact. Analysts and the killed
pipeline run in separate processes (DuckDB shares one database per path inside a process)."""

from __future__ import annotations

import datetime as dt
import select
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.warehouse import load_batches, publish
from pipelines.warehouse.publish import building_path
from pipelines.warehouse.synthetic import make_return, received_for
from tests.snapshot import snapshot

ROOT = Path(__file__).resolve().parents[1]
STREETS = ["常泰街道", "江南街道", "金龙街道", "开元街道"]

ANALYST = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
q = "select count(*), coalesce(sum(value), 0) from return_values"
print("ready", *con.execute(q).fetchone(), flush=True)
for line in sys.stdin:
    if line.strip() == "count":
        print("count", *con.execute(q).fetchone(), flush=True)
    else:
        break
"""

KILLED_PIPELINE = r"""
import sys, time
from pathlib import Path
from pipelines.paths import Paths
from pipelines.warehouse import publish

def build(con):
    con.execute("update return_values set value = value + 1")
    con.execute("delete from submissions where form = 'form4'")
    con.execute("create table half_done as select range as i from range(2000000)")
    con.execute("checkpoint")
    print("building", flush=True)
    time.sleep(600)

if __name__ == "__main__":
    publish(Paths(Path(sys.argv[1])), build)
"""


def _batch(quarter: str) -> tuple:
    results = [
        make_return(form, s, quarter, default=7.0)
        for s in STREETS
        for form in ("form1", "form2", "form3", "form4")
    ]
    at = dt.datetime.combine(Quarter.parse(quarter).end, dt.time(9))
    return (quarter, [received_for(r, at) for r in results], results, None)


def _refresh(paths: Paths, *quarters: str, target: Path | None = None) -> None:
    batches = [_batch(q) for q in quarters]
    publish(paths, lambda con: load_batches(con, batches), target=target)


def _spawn(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _line(proc: subprocess.Popen, timeout: float = 60) -> list[str]:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        pytest.fail(f"no answer from child process within {timeout}s")
    line = proc.stdout.readline()
    if not line:
        pytest.fail(f"child process ended: {proc.stderr.read()}")
    return line.split()


def _ask(proc: subprocess.Popen) -> tuple[int, float]:
    proc.stdin.write("count\n")
    proc.stdin.flush()
    word, n, total = _line(proc)
    assert word == "count"
    return int(n), float(total)


def _count(db: Path) -> tuple[int, float]:
    """What a new analyst (a fresh process) sees."""
    proc = _spawn(ANALYST, str(db))
    word, n, total = _line(proc)
    proc.stdin.write("quit\n")
    proc.stdin.flush()
    proc.wait(timeout=60)
    assert word == "ready"
    return int(n), float(total)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path)


def test_an_open_analyst_connection_survives_a_refresh(paths: Paths) -> None:
    _refresh(paths, "2025Q1")
    before = _count(paths.warehouse)
    assert before[0] > 0

    analyst = _spawn(ANALYST, str(paths.warehouse))
    try:
        word, *seen = _line(analyst)
        assert word == "ready"
        during: list[tuple[int, float]] = []
        batches = [_batch("2025Q1"), _batch("2025Q2")]

        def build(con: duckdb.DuckDBPyConnection) -> None:
            load_batches(con, batches)
            during.append(_ask(analyst))  # mid-refresh: the analyst still reads, unblocked

        publish(paths, build)
        assert during == [before]
        assert _ask(analyst) == before  # after the swap, its connection keeps working
        after = _count(paths.warehouse)  # and anyone connecting now sees the new data
        assert after[0] == 2 * before[0]
    finally:
        analyst.stdin.close()
        analyst.wait(timeout=60)
    assert analyst.returncode == 0, analyst.stderr.read()


def test_a_pipeline_killed_mid_build_leaves_the_warehouse_intact(paths: Paths) -> None:
    _refresh(paths, "2025Q1")
    published = snapshot(paths.warehouse)

    pipeline = _spawn(KILLED_PIPELINE, str(paths.root))
    try:
        assert _line(pipeline) == ["building"]
        assert building_path(paths.warehouse).exists()
    finally:
        pipeline.send_signal(signal.SIGKILL)
        pipeline.wait(timeout=60)
    assert pipeline.returncode == -signal.SIGKILL

    # complete and openable, exactly as published before the killed run
    assert snapshot(paths.warehouse) == published
    assert "half_done" not in published
    assert building_path(paths.warehouse).exists()  # the dead run's leftovers

    _refresh(paths, "2025Q1", "2025Q2")  # the next refresh takes the lock and succeeds
    assert not building_path(paths.warehouse).exists()
    assert not building_path(paths.warehouse).with_name("warehouse.duckdb.building.wal").exists()
    after = snapshot(paths.warehouse)
    assert "half_done" not in after
    assert len(after["return_values"]) == 2 * len(published["return_values"])


def test_a_failed_build_publishes_nothing(paths: Paths) -> None:
    _refresh(paths, "2025Q1")
    published = snapshot(paths.warehouse)

    def build(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("delete from return_values")
        raise RuntimeError("表格定义有误")

    with pytest.raises(RuntimeError, match="表格定义有误"):
        publish(paths, build)
    assert snapshot(paths.warehouse) == published
    assert not building_path(paths.warehouse).exists()


def test_publish_writes_the_target_it_is_given(paths: Paths, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "jibao.duckdb"
    _refresh(paths, "2025Q1", target=target)
    assert target.exists() and not paths.warehouse.exists()
    assert _count(target)[0] > 0
