"""Output-writer benchmark: the leaders' report and the consolidated return per quarter, against
reading the warehouse rows they show.

    uv run python benchmarks/outputs.py                   # builds the sample warehouse (~20 s)
    uv run python benchmarks/outputs.py --home /tmp/demo  # an existing JIBAO_HOME (read-only)
    uv run python benchmarks/outputs.py --profile         # cProfile of one quarter's writers

The warehouse is the sample (pipelines.sample) refreshed by the real pipeline, as the tests'
`sample_warehouse` fixture builds it. All in this one process, read-only, as `jibao demo` runs
the writers (one Dagster process, quarter after quarter):

- baseline: the reads, i.e. ``report.gather`` (the indicator views) and the consolidated
  return's ``district_values`` and per-form detail queries;
- ``write_report`` and ``write_consolidated`` to a scratch folder;
- the annotated copies ``submitter_alerts`` writes (every alert's archived workbooks with their
  notes, ``annotate.annotate``), against openpyxl's own full load of the same workbooks — what
  the copy cost per workbook before (92 % of ``submitter_alerts``, mostly merged-cell handling).

The first quarter is timed separately (imports, template compilation, plotly's template),
then each quarter best of --repeat. Ratios: writers ÷ reads over all quarters; annotated copies ÷
openpyxl loads. Timings taken while other work runs are noisy: compare ratios.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import shutil
import tempfile
import time
from pathlib import Path

TODAY = dt.date(2026, 5, 1)


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--home", type=Path, help="an existing JIBAO_HOME with a published warehouse")
    p.add_argument("--repeat", type=int, default=3, help="timed passes per quarter (best is kept)")
    p.add_argument("--profile", action="store_true", help="print a cProfile of the last quarter")
    return p.parse_args(argv)


def build(home: Path) -> tuple[Path, list[str]]:
    """The sample written and refreshed into a warehouse under `home`."""
    from pipelines import sample, validate, warehouse
    from pipelines.paths import Paths

    os.environ.pop("JIBAO_WAREHOUSE", None)
    paths = Paths(home)
    sample.write_sample(paths.raw)
    quarters = sorted(p.name for p in paths.raw.iterdir() if p.is_dir())
    warehouse.refresh(paths, tuple(quarters), validate.validate_paths)
    return home / "data" / "warehouse" / "warehouse.duckdb", quarters


def reads(con, quarter: str) -> None:
    from pipelines.forms import FORM_IDS, get_form
    from pipelines.outputs import consolidated, report

    report.gather(con, quarter)
    consolidated.district_values(con, quarter)
    for form_id in FORM_IDS:
        consolidated._detail_rows(con, quarter, get_form(form_id))


def writers(con, quarter: str, out: Path) -> tuple[float, float]:
    """(write_report, write_consolidated) seconds."""
    from pipelines.outputs.consolidated import write_consolidated
    from pipelines.outputs.report import write_report

    t = time.perf_counter()
    write_report(con, quarter, out / f"report_{quarter}.html", today=TODAY)
    t1 = time.perf_counter()
    write_consolidated(con, quarter, out / f"consolidated_{quarter}.xlsx", today=TODAY)
    return t1 - t, time.perf_counter() - t1


def annotation_jobs(con, home: Path, quarter: str) -> list[tuple[Path, list]]:
    """(archived workbook, its notes) for every annotated copy the quarter's alerts attach."""
    from collections import defaultdict

    from pipelines.outputs.alerts import build_alerts
    from pipelines.outputs.annotate import CellNote
    from pipelines.outputs.sending import _archive_file
    from pipelines.paths import Paths

    paths = Paths(home)
    jobs: dict[str, list] = defaultdict(list)
    for alert in build_alerts(con, quarter, today=TODAY):
        for p in alert.problems:
            if p.archive_path and p.file_status != "unreadable":
                jobs[p.archive_path].append(CellNote(p.severity, p.message, p.sheet, p.cell))
    return [(_archive_file(paths, a), notes) for a, notes in sorted(jobs.items())]


def annotations(jobs: list[tuple[Path, list]], out: Path) -> tuple[float, float]:
    """(seconds for the annotated copies, seconds for openpyxl's plain load of the same files)."""
    from openpyxl import load_workbook

    from pipelines.outputs.annotate import annotate

    t = time.perf_counter()
    for i, (source, notes) in enumerate(jobs):
        annotate(source, notes, out / f"copy_{i}.xlsx")
    copies = time.perf_counter() - t
    t = time.perf_counter()
    for source, _ in jobs:
        if source.suffix.lower() in (".xlsx", ".xlsm"):
            load_workbook(source)
    return copies, time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    import duckdb

    a = _args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="jibao-bench-outputs-"))
    try:
        if a.home:
            file = a.home / "data" / "warehouse" / "warehouse.duckdb"
            con = duckdb.connect(str(file), read_only=True)
            quarters = [
                r[0]
                for r in con.execute(
                    "select distinct quarter from submissions where quarter is not null order by 1"
                ).fetchall()
            ]
        else:
            t = time.perf_counter()
            file, quarters = build(scratch / "home")
            print(f"sample warehouse built in {time.perf_counter() - t:.1f} s")
            con = duckdb.connect(str(file), read_only=True)
        out = scratch / "out"
        first = quarters[0]
        t = time.perf_counter()
        reads(con, first)
        first_read = time.perf_counter() - t
        first_report, first_cons = writers(con, first, out)
        print(f"{len(quarters)} quarters; {os.cpu_count()} CPUs; best of {a.repeat}")
        print(
            f"first call ({first}): reads {first_read:.2f} s, report {first_report:.2f} s, "
            f"consolidated {first_cons:.2f} s (imports and one-off set-up included)"
        )
        print("quarter    reads  report  consolidated")
        total_read = total_write = 0.0
        for q in quarters:
            read_runs, write_runs = [], []
            for _ in range(a.repeat):
                t = time.perf_counter()
                reads(con, q)
                read_runs.append(time.perf_counter() - t)
                write_runs.append(writers(con, q, out))
            read = min(read_runs)
            report_s = min(r for r, _ in write_runs)
            cons_s = min(c for _, c in write_runs)
            total_read += read
            total_write += report_s + cons_s
            print(f"{q}  {read:6.2f}  {report_s:6.2f}  {cons_s:12.2f}")
        print(
            f"ratio writers/reads: {total_write / total_read:.1f} "
            f"({total_write:.2f} s vs {total_read:.2f} s over {len(quarters)} quarters)"
        )
        home = a.home or scratch / "home"
        jobs = [j for q in quarters for j in annotation_jobs(con, home, q)]
        runs = [annotations(jobs, out) for _ in range(a.repeat)]
        copies = sorted(c for c, _ in runs)
        loads = sorted(x for _, x in runs)
        print(
            f"annotated copies: {len(jobs)} workbooks, min {copies[0]:.2f} s / median "
            f"{copies[len(copies) // 2]:.2f} s ({1000 * copies[0] / max(len(jobs), 1):.0f} ms each); "
            f"openpyxl's plain load of the same files: min {loads[0]:.2f} s; "
            f"ratio copies/loads {copies[0] / loads[0]:.2f}"
        )
        if a.profile:
            prof = cProfile.Profile()
            prof.runcall(writers, con, quarters[-1], out)
            pstats.Stats(prof).strip_dirs().sort_stats("cumulative").print_stats(30)
        con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
