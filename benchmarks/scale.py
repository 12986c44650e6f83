"""Scale benchmark: a simulated province through the whole ingest, then every indicator view.

    uv run python benchmarks/scale.py                 # 100 districts × 40 submitters × 4 quarters
    uv run python benchmarks/scale.py --districts 5   # a quick run (under two minutes)

Part 1 — ingest. A synthetic registry (per district 16 街道 owing 表一–表四 and 24 member
departments owing 表一–表三, with 十百千万 targets) goes to a temporary configuration folder
(JIBAO_CONFIG_DIR). Every submitter sends one workbook per quarter holding its forms as sheets,
with consistent values from the sample generator's series (pipelines.sample.simulate; a few
prototype series are shared, so generation stays cheap) and a received.csv giving on-time and
late receipt times. Writing is parallel and not timed. Timed, in this one process over the same
files:

- baseline: a bare python-calamine read (open, every sheet's rows as Python values), file
  after file — the least any ingest must do;
- ingest: ``pipelines.warehouse.refresh`` exactly as ``jibao run`` calls it — archive by hash,
  the front door (``validate_paths``: sniffing, worker processes, recognition, coercion,
  pandera and cross-cell rules), the ledger, values, history rules, official versions, and the
  atomic publish. Goal (issue 3): ingest ≤ 5 × the bare read.

Part 2 — indicators. Each indicator view is evaluated in full (materialised into a temporary
table, as a refresh would) over the ingested warehouse, and over a bulk warehouse of at least
``--bulk-values`` values (default 300,000 per district: 30 million at the default size): the ingested ledger and values repeated under new
district numbers, inserted with SQL (no workbooks, not timed), with a registry and targets
listing every repeated district. Goal (issue 3): every indicator within 5 s for 30 million
values.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import math
import os
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path

import yaml
from baseline import calamine_read  # benchmarks/ is on sys.path when a script here runs

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "pipelines" / "config"
STREET, DEPT = "街道", "区安委会成员单位"
PROTOTYPES = 6  # distinct value series per submitter type
LATE_EVERY = 20  # one workbook in twenty arrives after the due date


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
        help="values in the bulk warehouse of part 2 (default 300,000 per district: 30 million at "
        "the default 100 districts; 0: skip)",
    )
    p.add_argument("--workers", type=int, default=os.cpu_count(), help="for writing workbooks")
    p.add_argument("--dir", type=Path, help="work folder, kept (default: a temporary one)")
    a = p.parse_args(argv)
    if a.bulk_values is None:
        a.bulk_values = 300_000 * a.districts
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


def ingest(paths, quarters: list) -> tuple[list, float]:
    """`refresh` as `jibao run` calls it; returns its summaries and the seconds spent in the
    front door (validate_paths)."""
    from pipelines.validate import validate_paths
    from pipelines.warehouse import refresh

    front = 0.0

    def timed_validate(files, quarter=None):
        nonlocal front
        t = time.perf_counter()
        out = validate_paths(files, quarter=quarter)
        front += time.perf_counter() - t
        return out

    summaries = refresh(paths, [str(q) for q in quarters], timed_validate)
    return summaries, front


# ---- part 2: bulk values ---------------------------------------------------------------------


def build_bulk(bulk, ingested, districts: int, copies: int) -> int:
    """A warehouse of `districts` × `copies` districts: the ingested ledger and values repeated,
    each copy under its own submitter names and ids, inserted in bulk (SQL) and published.
    The configuration in force must list every district (reference tables come from it)."""
    from pipelines.warehouse import publishing, reference

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
        return con.execute("select count(*) from return_values").fetchall()[0][0]


def time_indicators(paths) -> list[tuple[str, int, float]]:
    """(view, rows, seconds) of a full evaluation of each indicator view."""
    from pipelines.warehouse import connect_published
    from pipelines.warehouse.schema import INDICATOR_VIEWS

    con = connect_published(paths)
    out = []
    try:
        for view in INDICATOR_VIEWS:
            t = time.perf_counter()
            con.execute(f"create or replace temp table _bench as select * from {view}")
            took = time.perf_counter() - t
            rows = con.execute("select count(*) from _bench").fetchall()[0][0]
            out.append((view, rows, took))
    finally:
        con.close()
    return out


def _print_views(title: str, timings: list[tuple[str, int, float]], values: int) -> float:
    total = sum(t for _, _, t in timings)
    print(f"{title} ({values:,} values):")
    for view, rows, took in timings:
        print(f"  {view:<20} {rows:>12,} rows  {took:7.2f} s")
    print(f"  {'all indicators':<20} {'':>17}  {total:7.2f} s")
    return total


# ---- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
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
    quarters = _quarters(a.quarters)
    paths = Paths(work / "ingest")
    print(
        f"province: {a.districts} districts × {a.submitters} submitters ({a.streets} 街道), "
        f"{len(quarters)} quarters ({quarters[0]}–{quarters[-1]}); {os.cpu_count()} CPUs"
    )

    t = time.perf_counter()
    files = write_province(paths, subs, quarters, a.workers)
    size = sum(f.stat().st_size for f in files) / 1e6
    print(
        f"wrote {len(files):,} workbooks ({size:,.0f} MB) in {time.perf_counter() - t:.1f} s "
        "(not timed below)"
    )

    calamine_read(files[: min(len(files), 200)])  # warm-up: imports
    t = time.perf_counter()
    cells = calamine_read(files)
    bare = time.perf_counter() - t
    t = time.perf_counter()
    summaries, front = ingest(paths, quarters)
    full = time.perf_counter() - t
    n = len(files)
    returns = sum(s.returns for s in summaries)
    accepted = sum(s.accepted for s in summaries)
    values = sum(s.values for s in summaries)
    print(
        f"bare python-calamine read: {bare:8.1f} s  {n / bare:8.1f} workbooks/s  ({cells:,} cells)"
    )
    print(
        f"full ingest (jibao run):   {full:8.1f} s  {n / full:8.1f} workbooks/s  "
        f"({returns:,} returns, {accepted:,} accepted, {values:,} values)"
    )
    print(f"  of which the front door: {front:8.1f} s  {n / front:8.1f} workbooks/s")
    print(f"  archive, load, publish:  {full - front:8.1f} s")
    print(f"ratio ingest / bare read:  {full / bare:8.2f}   (goal ≤ 5)")
    print(f"ratio front door / bare:   {front / bare:8.2f}")

    ingested = _print_views(
        "indicators over the ingested warehouse", time_indicators(paths), values
    )

    bulk_total = None
    copies = math.ceil(a.bulk_values / values) if a.bulk_values > 0 and values else 0
    if copies > 1:
        _write_config(
            work / "config-bulk", _province(a.districts * copies, a.submitters, a.streets)
        )
        _use_config(work / "config-bulk")
        bulk = Paths(work / "bulk")
        t = time.perf_counter()
        loaded = build_bulk(bulk, paths, a.districts, copies)
        print(
            f"bulk warehouse: the ingested province × {copies} ({a.districts * copies:,} districts), "
            f"{loaded:,} values, built in {time.perf_counter() - t:.1f} s (not timed)"
        )
        bulk_total = _print_views(
            "indicators over the bulk warehouse", time_indicators(bulk), loaded
        )

    print()
    print(f"workbooks/s: ingest {n / full:.1f} vs bare read {n / bare:.1f} → {full / bare:.2f}×")
    print(f"every indicator: {ingested:.2f} s over {values:,} values", end="")
    if bulk_total is not None:
        print(f"; {bulk_total:.2f} s over {loaded:,} values (goal < 5 s for 30 million)")
    else:
        print()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
