"""Outputs are replaced whole or not at all: a writer killed (SIGKILL) in the middle of writing
the report, the consolidated return, an annotated workbook or a template leaves the previous
file byte for byte, and whatever it left behind is hidden from the drop-folder scan. Two
`jibao run` at once: the second is refused (75) or, with --wait, queues; never a traceback or a
half-written file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipelines.paths import Paths
from pipelines.runlock import holder
from pipelines.warehouse.archive import is_return_candidate

# The child writes one output through the real writer; `pipelines.fsio._fsync_file` (called
# once the temporary file is complete, before the rename) announces itself and blocks, so the
# parent kills the writer exactly mid-write. With `--no-hook` it writes to the end.
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    kind, target, warehouse, source = sys.argv[1:5]
    hook = "--no-hook" not in sys.argv
    import pipelines.fsio as fsio
    if hook:
        def blocked(path):
            print("writing", flush=True)
            time.sleep(600)
        fsio._fsync_file = blocked
    target = Path(target)
    if kind in ("report", "consolidated"):
        import duckdb
        con = duckdb.connect(warehouse, read_only=True)
        quarter = con.execute("select max(quarter) from submissions").fetchone()[0]
        if kind == "report":
            from pipelines.outputs.report import write_report
            write_report(con, quarter, target)
        else:
            from pipelines.outputs.consolidated import write_consolidated
            write_consolidated(con, quarter, target)
    elif kind == "annotated":
        from pipelines.outputs.annotate import CellNote, annotate
        annotate(Path(source), [CellNote("error", "数值有误", None, "K7")], target)
    elif kind == "template":
        from pipelines.outputs.templates import write_templates
        written = write_templates(target.parent, campaign=2025, submitter="临江街道")
        assert written == [target], written
    print("done", flush=True)
    """
)

TARGETS = {
    "report": "进展报告_2026Q1.html",
    "consolidated": "汇总表_2026Q1.xlsx",
    "annotated": "标注_临江街道_表一.xlsx",
    "template": "季报表_2025_临江街道.xlsx",
}
PREVIOUS = "上一版（完好）".encode() * 500


def _writer(kind: str, target: Path, warehouse: Path, source: Path, *extra: str):
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, kind, str(target), str(warehouse), str(source), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    from tests.returns import FORM1_STREET, write_return

    folder = tmp_path_factory.mktemp("source")
    return write_return(folder / "临江街道表一.xlsx", "form1", "临江街道", FORM1_STREET)


@pytest.mark.parametrize("kind", list(TARGETS))
def test_a_writer_killed_mid_write_leaves_the_previous_file_intact(
    kind: str, tmp_path: Path, sample_warehouse, source: Path
):
    target = tmp_path / "out" / TARGETS[kind]
    target.parent.mkdir()
    target.write_bytes(PREVIOUS)

    proc = _writer(kind, target, sample_warehouse.file, source)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "writing", f"{kind} did not write through fsio (got {line!r})"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    assert target.read_bytes() == PREVIOUS
    left = [p for p in target.parent.iterdir() if p != target]
    assert left and all(not is_return_candidate(p) for p in left)  # hidden from the scan

    done = _writer(kind, target, sample_warehouse.file, source, "--no-hook")
    out, _ = done.communicate(timeout=300)
    assert done.returncode == 0 and out.strip() == "done"
    assert target.read_bytes() != PREVIOUS and target.stat().st_size > 1000


def _jibao(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "JIBAO_HOME": str(home)}
    for k in ("DAGSTER_HOME", "JIBAO_WAREHOUSE"):
        env.pop(k, None)
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_runs_at_once_the_second_is_refused_or_waits_and_nothing_is_torn(
    tmp_path: Path, source: Path
):
    paths = Paths(tmp_path)
    folder = paths.raw_quarter("2025Q3")
    folder.mkdir(parents=True)
    shutil.copy(source, folder)

    first = _jibao(tmp_path, "run")
    deadline = time.monotonic() + 300
    while (holder(paths) or {}).get("pid") != first.pid:
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    queued = _jibao(tmp_path, "run", "--wait")
    refused = _jibao(tmp_path, "run")
    out, err = refused.communicate(timeout=300)
    assert refused.returncode == 75, out + err
    assert "另一个运行正在进行" in err and "Traceback" not in out + err

    for proc in (first, queued):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0 and "Traceback" not in out + err, out + err
    report = (paths.report_dir("2025Q3") / "进展报告_2025Q3.html").read_text(encoding="utf-8")
    assert report.rstrip().endswith("</html>")
    visible = [p for p in paths.reports.rglob("*") if p.is_file() and p.name.startswith(".~")]
    assert not visible  # both runs finished: no temporary file left
