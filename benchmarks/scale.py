"""Scale benchmark: a simulated province through `jibao run` (the Dagster job, as the office runs
it) and through `refresh`, then every indicator view, over the ingested and a bulk warehouse.

    uv run python benchmarks/scale.py --districts 5                        # 800 workbooks, quick
    uv run python benchmarks/scale.py --districts 25 --bulk-values 30000000 # 4,000 workbooks, 30 M
    uv run python benchmarks/scale.py --districts 5 --json                 # last line: one JSON object

A synthetic registry (per district 16 街道 owing 表一–表四 and 24 member departments owing
表一–表三, with 十百千万 targets) goes to a temporary configuration folder (JIBAO_CONFIG_DIR).
Every submitter sends one workbook per quarter holding its forms as sheets, with consistent
values from the sample generator's series (pipelines.sample.simulate; a few prototype series are
shared, so generation stays cheap) and a received.csv giving on-time and late receipt times.
Writing is parallel and not timed.

Everything timed runs in a child process of its own (benchmarks/measure.py), --repeat times
(default 3), each time on a fresh data root holding the same files (hard links), so each line
shows wall time, CPU time (the child and its worker processes) and peak RSS of the process tree:

- bare read: a bare python-calamine read (open, every sheet's rows as Python values), file after
  file — the least any ingest must do. The best of the repetitions is the baseline;
- refresh: ``pipelines.warehouse.refresh`` (archive, the front door, the ledger, values, history
  rules, official versions, the atomic publish) in one process, as the tests' sample warehouse
  is built;
- jibao run: the CLI (``jibao run``: the ``quarterly_job`` Dagster job in-process, with
  DAGSTER_HOME set so the run is recorded) — ingest, blocking checks, indicators, report,
  consolidated return, letters. Step timings come from the run's event log. Its ingest is the
  time from the run's start to the end of the last ingest step (raw_files, returns,
  warehouse_tables and the checks on it): the figure compared with the bare read.

Ratios divide each repetition's figure by the baseline (times measured inside the children, so
interpreter start-up is in neither); min / median over the repetitions are printed. Goals
(issue 12): `jibao run` ingest ≤ 5 × the bare read at 4,000 workbooks.

Indicators: each view of sql/2*.sql is evaluated in full (materialised into a temporary table,
as a refresh would) in a child process through ``connect_published`` (so with the configured
DuckDB memory limit), over the warehouse `jibao run` published and over a bulk warehouse of at
least ``--bulk-values`` values: the ingested ledger and values repeated under new district
numbers, inserted with SQL (no workbooks), with a registry and targets listing every repeated
district. Goals: every view < 5 s and all of them < 10 s over 30 million values, within 4 GB.

With --json the last line printed is one JSON object:
``{"workbooks", "values", "run_ingest_ratio", "refresh_ratio", "views_s": {view: seconds},
"views_total_s", "peak_rss_mb"}`` — ratios and view times are medians over the repetitions,
views over the bulk warehouse when one was built, peak RSS the largest of every child measured.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure  # noqa: E402  (benchmarks/ is not a package)
from baseline import calamine_read  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "pipelines" / "config"
STREET, DEPT = "街道", "区安委会成员单位"
PROTOTYPES = 6  # distinct value series per submitter type
LATE_EVERY = 20  # one workbook in twenty arrives after the due date
INGEST_STEPS = ("raw_files", "returns", "warehouse_tables")
PHASES = ("bare", "refresh", "run", "views", "bulk")


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--districts", type=int, default=100)
    p.add_argument("--submitters", type=int, default=40, help="per district (default 40)")
    p.add_argument(
        "--streets", type=int, default=16, help="街道 per district; the rest are departments"
    )
    p.add_argument("--quarters", type=int, default=4, help="consecutive quarters from 2025Q1")
    p.add_argument(
        "--bulk-values",
        type=int,
        help="values in the bulk warehouse (default 300,000 per district: 30 million at "
        "the default 100 districts; 0: skip)",
    )
    p.add_argument("--repeat", type=int, default=3, help="repetitions of each timed step")
    p.add_argument(
        "--bulk-repeat", type=int, help="repetitions of the bulk views (default: --repeat)"
    )
    p.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (default: all)",
    )
    p.add_argument("--workers", type=int, default=os.cpu_count(), help="for writing workbooks")
    p.add_argument("--dir", type=Path, help="work folder, kept (default: a temporary one)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--phase", choices=("bare", "refresh", "views"), help=argparse.SUPPRESS)
    p.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.bulk_values is None:
        a.bulk_values = 300_000 * a.districts
    a.bulk_repeat = a.bulk_repeat or a.repeat
    a.phases = {x.strip() for x in a.phases.split(",") if x.strip()}
    unknown = a.phases - set(PHASES)
    if unknown:
        p.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return a


# ---- configuration ---------------------------------------------------------------------------


def _province(districts: int, per: int, streets: int) -> list[dict]:
    subs = []
    for d in range(districts):
        for i in range(per):
            kind = STREET if i < streets else DEPT
            name = f"D{d:04d}{'街道' if kind == STREET else '部门'}{i:02d}"
            sub = {"name": name, "code": name.lower(), "type": kind, "aliases": []}
            if kind == STREET:
                sub["enterprise_base"] = 20 + zlib.crc32(name.encode()) % 380
            subs.append(sub)
    return subs


def _write_config(folder: Path, subs: list[dict]) -> None:
    """A copy of the configuration with the synthetic registry and a target for every 街道."""
    shutil.copytree(
        DEFAULT_CONFIG,
        folder,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("*.py", "__pycache__"),
    )

    def edit(name: str, change) -> None:
        raw = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        change(raw)
        (folder / name).write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    keep = [s for s in _load_yaml("submitters.yaml")["submitters"] if s["code"] == "office"]
    edit("submitters.yaml", lambda r: r.update(submitters=subs + keep))
    per_street = {
        "model_street": 0,
        "benchmark_enterprise": 2,
        "reviewed_enterprise": 5,
        "model_post": 40,
    }
    streets = [s["name"] for s in subs if s["type"] == STREET]
    edit(
        "targets.yaml",
        lambda r: r.update(
            campaigns={y: dict.fromkeys(streets, per_street) for y in r["campaigns"]}
        ),
    )


def _load_yaml(name: str) -> dict:
    return yaml.safe_load((DEFAULT_CONFIG / name).read_text(encoding="utf-8"))


def _use_config(folder: Path) -> None:
    os.environ["JIBAO_CONFIG_DIR"] = str(folder)


def _quarters(n: int) -> list:
    from pipelines.periods import Quarter

    out, q = [], Quarter(2025, 1)
    for _ in range(n):
        out.append(q)
        q = q.next()
    return out


# ---- part 1: workbooks ---------------------------------------------------------------------


def _series(subs: list[dict], quarters: list) -> dict[str, dict]:
    """submitter → {(quarter, form): values}: a few prototype series per type, shared round-robin."""
    from pipelines import sample
    from pipelines.registry import load_registry

    registry = {s.name: s for s in load_registry().submitters}
    cfg = sample.sample_config()
    by_type: dict[str, list[dict]] = {}
    for kind in (STREET, DEPT):
        names = [s["name"] for s in subs if s["type"] == kind][:PROTOTYPES]
        by_type[kind] = [sample.simulate(registry[n], quarters, cfg, seed=7) for n in names]
    out, seen = {}, dict.fromkeys((STREET, DEPT), 0)
    for s in subs:
        protos = by_type[s["type"]]
        out[s["name"]] = protos[seen[s["type"]] % len(protos)]
        seen[s["type"]] += 1
    return out


def _write_workbook(job: tuple) -> str:
    """One submitter's quarter: its forms as the sheets of one .xlsx (runs in a worker)."""
    from pipelines.forms.workbook import plan_form, save_plans, sheet_name
    from pipelines.registry import load_registry

    path, name, quarter, campaign, values, header = job
    sub = _registry_index(load_registry())[name]
    sheets = [
        (sheet_name(form), plan_form(form, campaign, submitter=sub, values=v, header=header))
        for form, v in values.items()
    ]
    save_plans(Path(path), sheets, when=dt.datetime.combine(header["date"], dt.time(9)))
    return path


_INDEX: dict = {}


def _registry_index(registry) -> dict:
    """name → Submitter (Registry.by_name is a linear scan: too slow for a province)."""
    if id(registry) not in _INDEX:
        _INDEX[id(registry)] = {s.name: s for s in registry.submitters}
    return _INDEX[id(registry)]


def write_province(paths, subs: list[dict], quarters: list, workers: int) -> list[Path]:
    """Every workbook under data/raw/<quarter>/, with the quarter's received.csv."""
    from pipelines import periods

    series = _series(subs, quarters)
    jobs, received = [], {}
    for q in quarters:
        folder = paths.raw_quarter(q)
        folder.mkdir(parents=True, exist_ok=True)
        due = dt.datetime.combine(periods.due_date(q), dt.time(9))
        lines = ["file,received_at"]
        for i, s in enumerate(subs):
            late = i % LATE_EVERY == LATE_EVERY - 1
            at = due + dt.timedelta(days=6 if late else -1 - i % 9, minutes=i % 600)
            file = f"{s['name']}_{q}.xlsx"
            values = {f: v for (qq, f), v in series[s["name"]].items() if qq == q}
            header = {"filled_by": "张敏", "phone": "0595-22000000", "date": at.date()}
            jobs.append((str(folder / file), s["name"], str(q), q.campaign, values, header))
            lines.append(f"{file},{at:%Y-%m-%d %H:%M}")
        received[q] = lines
        (folder / "received.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        files = list(pool.map(_write_workbook, jobs, chunksize=64))
    return [Path(f) for f in files]


# ---- part 2: bulk values ---------------------------------------------------------------------


def build_bulk(bulk, ingested, districts: int, copies: int) -> int:
    """A warehouse of `districts` × `copies` districts: the ingested ledger and values repeated,
    each copy under its own submitter names and ids, inserted in bulk (SQL) and published.
    The configuration in force must list every district (reference tables come from it)."""
    from pipelines.warehouse import publishing, reference, stored

    copy = """
        with copies as (select range as k from range(?)),
        source as (
            select *, cast(substr(submitter, 2, 4) as integer) as district
            from src.submissions where submitter like 'D%'
        )
        select
            source.* exclude (district, submission_id, superseded_by, submitter),
            source.submission_id + copies.k as submission_id,
            source.superseded_by + copies.k as superseded_by,
            'D' || lpad((source.district + copies.k * ?)::varchar, 4, '0')
                || substr(source.submitter, 6) as submitter,
            source.submission_id as source_id,
            copies.k
        from source cross join copies
    """
    with publishing(bulk) as con:
        reference.load(con)
        con.execute(f"attach '{ingested.warehouse}' as src (read_only)")
        con.execute(f"create temp table copied as {copy}", [copies, districts])
        con.execute("insert into submissions by name select * exclude (source_id, k) from copied")
        con.execute(
            """
            insert into return_values
            select copied.submission_id, v.row_key, v.column_id, v.value, v.cell
            from src.return_values as v join copied on copied.source_id = v.submission_id
            """
        )
        con.execute("drop table copied")
        con.execute("detach src")
        reference.load_quarters(con)
        t = time.perf_counter()
        stored.rebuild(con)  # what the loader maintains quarter by quarter, here at once
        print(f"  stored official values and increments rebuilt in {time.perf_counter() - t:.1f} s")
        return con.execute("select count(*) from return_values").fetchall()[0][0]


# ---- the children: what is timed -------------------------------------------------------------


def _child_bare(home: Path) -> dict:
    files = sorted(p for p in (home / "data" / "raw").rglob("*.xlsx"))
    t = time.perf_counter()
    cells = calamine_read(files)
    return {"seconds": time.perf_counter() - t, "files": len(files), "cells": cells}


def _child_refresh(home: Path) -> dict:
    """`refresh` over every quarter folder, with the seconds spent in the front door."""
    from pipelines.paths import Paths
    from pipelines.validate import validate_paths
    from pipelines.warehouse import refresh

    paths = Paths(home)
    quarters = [q.name for q in paths.quarter_folders()]
    front = 0.0

    def timed_validate(files, quarter=None):
        nonlocal front
        t = time.perf_counter()
        out = validate_paths(files, quarter=quarter)
        front += time.perf_counter() - t
        return out

    t = time.perf_counter()
    summaries = refresh(paths, quarters, timed_validate)
    return {
        "seconds": time.perf_counter() - t,
        "front_s": front,
        "returns": sum(s.returns for s in summaries),
        "accepted": sum(s.accepted for s in summaries),
        "values": sum(s.values for s in summaries),
    }


def _child_views(home: Path) -> dict:
    """(view, rows, seconds, CPU seconds of all DuckDB's threads) of a full evaluation of each
    indicator view."""
    from pipelines.paths import Paths
    from pipelines.warehouse import connect_published
    from pipelines.warehouse.schema import INDICATOR_VIEWS

    con = connect_published(Paths(home))
    out = []
    try:
        values = con.execute("select count(*) from return_values").fetchall()[0][0]
        for view in INDICATOR_VIEWS:
            t, c = time.perf_counter(), time.process_time()
            con.execute(f"create or replace temp table _bench as select * from {view}")
            took, cpu = time.perf_counter() - t, time.process_time() - c
            rows = con.execute("select count(*) from _bench").fetchall()[0][0]
            con.execute("drop table _bench")
            out.append((view, rows, took, cpu))
    finally:
        con.close()
    return {"views": out, "values": values}


def _child(a: argparse.Namespace) -> int:
    run = {"bare": _child_bare, "refresh": _child_refresh, "views": _child_views}[a.phase]
    print(json.dumps(run(a.home.resolve())))
    return 0


# ---- the parent: homes, measurements, figures -------------------------------------------------


def _fresh_home(work: Path, name: str, raw: Path) -> Path:
    """A data root holding the province's drop folder (hard links: nothing is copied)."""
    home = work / name
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(raw, home / "data" / "raw", copy_function=os.link)
    return home


def _measure_child(phase: str, home: Path, env: dict) -> measure.Measured:
    return measure.run(
        measure.python(str(Path(__file__).resolve()), "--phase", phase, "--home", str(home)),
        env=env,
        cwd=ROOT,
    )


def _measure_run(home: Path, env: dict) -> tuple[measure.Measured, dict]:
    """`jibao run` in a child, with its own DAGSTER_HOME; its step timings from the event log."""
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    cmd = measure.python("-c", "from pipelines.cli import main; raise SystemExit(main(['run']))")
    m = measure.run(
        cmd,
        env=env | {"JIBAO_HOME": str(home), "DAGSTER_HOME": str(dagster_home)},
        cwd=ROOT,
    )
    start, steps = measure.step_times(dagster_home)
    ingest_end = max((end for key, (_, end) in steps.items() if _is_ingest(key)), default=None)
    timing = {
        "ingest_s": (ingest_end - start) if start and ingest_end else float("nan"),
        "steps": {
            k: end - begin for k, (begin, end) in sorted(steps.items(), key=lambda kv: kv[1])
        },
        "run_s": (max(e for _, e in steps.values()) - start) if steps and start else float("nan"),
    }
    return m, timing


def _is_ingest(step_key: str) -> bool:
    return step_key in INGEST_STEPS or step_key.startswith("warehouse_tables_")


def _views_table(title: str, runs: list[measure.Measured]) -> tuple[dict[str, float], float]:
    """Print min/median per view over the repetitions; returns (median per view, median total)."""
    per: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    rows: dict[str, int] = {}
    totals, cpu_totals = [], []
    for m in runs:
        totals.append(sum(v[2] for v in m.report["views"]))
        cpu_totals.append(sum(v[3] for v in m.report["views"]))
        for view, n, t, c in m.report["views"]:
            per.setdefault(view, []).append(t)
            cpu.setdefault(view, []).append(c)
            rows[view] = n
    values = runs[0].report["values"]
    print(f"{title} ({values:,} values), seconds (wall; CPU of all threads), {len(runs)} runs:")
    for view, ts in per.items():
        print(
            f"  {view:<20} {rows[view]:>12,} rows  {measure.spread(ts)};  "
            f"cpu {measure.spread(cpu[view])}"
        )
    print(
        f"  {'all indicators':<20} {'':>17}  {measure.spread(totals)};  "
        f"cpu {measure.spread(cpu_totals)}"
    )
    for i, m in enumerate(runs):
        print(f"    child {i + 1}: {m.line()}")
    return {v: statistics.median(ts) for v, ts in per.items()}, statistics.median(totals)


def _ratio_line(label: str, figures: list[float], baseline: float, goal: str = "") -> list[float]:
    ratios = [f / baseline for f in figures]
    print(f"ratio {label:<28} {measure.spread(ratios)}{goal}")
    return ratios


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    if a.phase:
        return _child(a)
    work = a.dir or Path(tempfile.mkdtemp(prefix="jibao-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.pop("JIBAO_WAREHOUSE", None)
    try:
        return _run(a, work)
    finally:
        if a.dir is None:
            shutil.rmtree(work, ignore_errors=True)


def _run(a: argparse.Namespace, work: Path) -> int:
    from pipelines.paths import Paths

    subs = _province(a.districts, a.submitters, a.streets)
    _write_config(work / "config", subs)
    _use_config(work / "config")
    env = measure.child_env(JIBAO_CONFIG_DIR=str(work / "config"), JIBAO_WAREHOUSE=None)
    quarters = _quarters(a.quarters)
    province = Paths(work / "province")
    print(
        f"province: {a.districts} districts × {a.submitters} submitters ({a.streets} 街道), "
        f"{len(quarters)} quarters ({quarters[0]}–{quarters[-1]}); {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )
    t = time.perf_counter()
    shutil.rmtree(province.raw, ignore_errors=True)
    files = write_province(province, subs, quarters, a.workers)
    size = sum(f.stat().st_size for f in files) / 1e6
    n = len(files)
    print(
        f"wrote {n:,} workbooks ({size:,.0f} MB) in {time.perf_counter() - t:.1f} s "
        "(not timed below)"
    )
    peaks: list[float] = []
    out: dict = {"workbooks": n}

    bare: list[measure.Measured] = []
    if a.phases & {"bare", "refresh", "run"}:
        for _ in range(a.repeat):
            bare.append(_measure_child("bare", work / "province", env))
        best = min(m.report["seconds"] for m in bare)
        best_cpu = min(m.cpu_s for m in bare)  # whole child: start-up included on both sides
        print(
            f"bare python-calamine read ({bare[0].report['cells']:,} cells): best {best:.2f} s, "
            f"{n / best:,.0f} workbooks/s; {measure.spread([m.report['seconds'] for m in bare])}"
        )
        for i, m in enumerate(bare):
            print(f"    child {i + 1}: {m.line()}")
        peaks += [m.peak_rss_mb for m in bare]

    if "refresh" in a.phases:
        runs = []
        for _ in range(a.repeat):
            home = _fresh_home(work, "refresh", province.raw)
            runs.append(_measure_child("refresh", home, env))
        r = runs[0].report
        print(
            f"refresh ({r['returns']:,} returns, {r['accepted']:,} accepted, {r['values']:,} "
            f"values): {measure.spread([m.report['seconds'] for m in runs])} s; front door "
            f"{measure.spread([m.report['front_s'] for m in runs])} s"
        )
        for i, m in enumerate(runs):
            print(f"    child {i + 1}: {m.line()}")
        peaks += [m.peak_rss_mb for m in runs]
        ratios = _ratio_line("refresh / bare read", [m.report["seconds"] for m in runs], best, "")
        _ratio_line("  front door / bare read", [m.report["front_s"] for m in runs], best)
        _ratio_line("  cpu: refresh / bare read", [m.cpu_s for m in runs], best_cpu)
        out["refresh_ratio"] = statistics.median(ratios)
        out["values"] = r["values"]
        shutil.rmtree(work / "refresh", ignore_errors=True)

    run_home = None
    if "run" in a.phases:
        runs, timings = [], []
        for _ in range(a.repeat):
            run_home = _fresh_home(work, "run", province.raw)
            m, timing = _measure_run(run_home, env)
            runs.append(m)
            timings.append(timing)
        print(
            f"jibao run: process {measure.spread([m.wall_s for m in runs])} s; run "
            f"{measure.spread([t['run_s'] for t in timings])} s; ingest "
            f"{measure.spread([t['ingest_s'] for t in timings])} s"
        )
        print("  steps (event log), seconds:")
        for key in timings[0]["steps"]:
            ts = [t["steps"].get(key, float("nan")) for t in timings]
            print(f"    {key:<52} {measure.spread(ts)}")
        for i, m in enumerate(runs):
            print(f"    child {i + 1}: {m.line()}")
        peaks += [m.peak_rss_mb for m in runs]
        ratios = _ratio_line(
            "jibao run ingest / bare read", [t["ingest_s"] for t in timings], best, "   (goal ≤ 5)"
        )
        _ratio_line("jibao run (whole) / bare read", [t["run_s"] for t in timings], best)
        _ratio_line("  cpu: whole run / bare read", [m.cpu_s for m in runs], best_cpu)
        out["run_ingest_ratio"] = statistics.median(ratios)

    views_home = run_home
    if views_home is None and "views" in a.phases:  # views alone: refresh once, untimed
        views_home = _fresh_home(work, "run", province.raw)
        measure.run(
            measure.python(__file__, "--phase", "refresh", "--home", str(views_home)), env=env
        )
    if "views" in a.phases:
        runs = [_measure_child("views", views_home, env) for _ in range(a.repeat)]
        peaks += [m.peak_rss_mb for m in runs]
        out["views_s"], out["views_total_s"] = _views_table(
            "indicators over the ingested warehouse", runs
        )
        out["values"] = runs[0].report["values"]

    if "bulk" in a.phases and a.bulk_values > 0:
        if views_home is None:
            views_home = _fresh_home(work, "run", province.raw)
            _measure_child("refresh", views_home, env)
        ingested = Paths(views_home)
        import duckdb

        with duckdb.connect(str(ingested.warehouse), read_only=True) as con:
            values = con.execute("select count(*) from return_values").fetchall()[0][0]
        copies = math.ceil(a.bulk_values / values) if values else 0
        if copies > 1:
            _write_config(
                work / "config-bulk", _province(a.districts * copies, a.submitters, a.streets)
            )
            _use_config(work / "config-bulk")
            bulk = Paths(work / "bulk")
            t = time.perf_counter()
            loaded = build_bulk(bulk, ingested, a.districts, copies)
            print(
                f"bulk warehouse: the ingested province × {copies} ({a.districts * copies:,} "
                f"districts), {loaded:,} values, built in {time.perf_counter() - t:.1f} s "
                "(not timed)"
            )
            benv = env | {"JIBAO_CONFIG_DIR": str(work / "config-bulk")}
            runs = [_measure_child("views", bulk.root, benv) for _ in range(a.bulk_repeat)]
            peaks += [m.peak_rss_mb for m in runs]
            out["views_s"], out["views_total_s"] = _views_table(
                "indicators over the bulk warehouse", runs
            )
            out["values"] = loaded
            print(
                f"goal: every view < 5 s (slowest {max(out['views_s'].values()):.2f} s) and all "
                f"< 10 s ({out['views_total_s']:.2f} s) over 30 million values"
            )

    out["peak_rss_mb"] = round(max(peaks), 1) if peaks else None
    if a.json:
        keys = (
            "workbooks",
            "values",
            "run_ingest_ratio",
            "refresh_ratio",
            "views_s",
            "views_total_s",
            "peak_rss_mb",
        )
        print(json.dumps({k: out.get(k) for k in keys}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
