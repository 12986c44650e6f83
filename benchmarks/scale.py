"""Scale benchmark: a simulated province loaded into the warehouse, then every indicator view.

    uv run python benchmarks/scale.py            # 100 districts × 40 submitters × 4 quarters
    uv run python benchmarks/scale.py --small    # a quick run
    uv run python benchmarks/scale.py --districts 900   # ≈ 30 million values

What is timed is the warehouse: ledger + values (Arrow insert) + history rules + official flags
per quarter, publishing (checkpoint + atomic rename), and a full evaluation of each indicator
view. Values are generated directly as frames (load_quarter_frame), not read from workbooks; the
workbook-read part belongs to the front door. Cumulative columns grow every quarter and stocks
stay put, so history rules run in full but flag nothing.

A synthetic registry (each district's 街道 and departments, with 十百千万 targets) is written to
a temporary configuration folder (JIBAO_CONFIG_DIR) so that every view has real work to do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import yaml

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "pipelines" / "config"
VIEWS = (
    "official_values",
    "reporting_status",
    "reporting_summary",
    "target_progress",
    "risk_distribution",
    "hazard_closure",
    "measure_coverage",
    "star_mix",
    "new_activity",
    "performance_scores",
)
STREET, DEPT = "街道", "区安委会成员单位"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--districts", type=int, default=100)
    p.add_argument("--submitters", type=int, default=40, help="per district")
    p.add_argument(
        "--streets", type=int, default=16, help="街道 per district (the rest are departments)"
    )
    p.add_argument("--quarters", type=int, default=4, help="consecutive quarters from 2025Q1")
    p.add_argument("--small", action="store_true", help="5 districts: a quick run")
    p.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed)")
    a = p.parse_args(argv)
    if a.small:
        a.districts = 5
    return a


def _write_config(folder: Path, districts: int, per: int, streets: int) -> list[dict]:
    """A copy of the configuration with a synthetic province registry and targets."""
    shutil.copytree(
        DEFAULT_CONFIG,
        folder,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("*.py", "__pycache__"),
    )
    raw = yaml.safe_load((DEFAULT_CONFIG / "submitters.yaml").read_text(encoding="utf-8"))
    subs = []
    for d in range(districts):
        for i in range(per):
            kind = STREET if i < streets else DEPT
            name = f"D{d:04d}{'街道' if kind == STREET else '部门'}{i:02d}"
            subs.append({"name": name, "code": name.lower(), "type": kind, "aliases": []})
    raw["submitters"] = subs
    (folder / "submitters.yaml").write_text(
        yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8"
    )
    targets = yaml.safe_load((DEFAULT_CONFIG / "targets.yaml").read_text(encoding="utf-8"))
    per_street = {
        "model_street": 0,
        "benchmark_enterprise": 2,
        "reviewed_enterprise": 5,
        "model_post": 40,
    }
    targets["campaigns"] = {
        year: {s["name"]: per_street for s in subs if s["type"] == STREET} for year in (2025, 2026)
    }
    (folder / "targets.yaml").write_text(
        yaml.safe_dump(targets, allow_unicode=True), encoding="utf-8"
    )
    return subs


def _templates() -> pl.DataFrame:
    """Every input cell per (form, submitter type), with whether the column is a stock."""
    from pipelines.forms import FORM_IDS, get_form
    from pipelines.warehouse.synthetic import own_cells

    rows = []
    for fid in FORM_IDS:
        form = get_form(fid)
        for kind in (STREET, DEPT):
            for row, col, cell in own_cells(fid, kind):
                rows.append((fid, kind, row, col, cell, form.column(col).is_stock))
    return pl.DataFrame(
        rows, schema=["form", "type", "row_key", "column_id", "cell", "is_stock"], orient="row"
    )


def _quarter_batch(subs: list[dict], quarter: str, q_index: int, templates: pl.DataFrame):
    """ReturnResults (without values), ReceivedFiles and the values frame of one quarter."""
    from pipelines.model import ReturnResult
    from pipelines.registry import load_registry
    from pipelines.warehouse.synthetic import fake_sha, received_for

    registry = load_registry()
    results, received, meta = [], [], []
    due = dt.datetime(2025, 1, 1) + dt.timedelta(days=91 * (q_index + 1) - 5)
    for s in subs:
        for form in registry.by_name(s["name"]).forms:
            name = f"{quarter}/{s['name']}_{form}.xlsx"
            r = ReturnResult(
                name,
                form,
                form,
                s["name"],
                quarter,
                "accepted",
                sha256=fake_sha(name),
                campaign=int(quarter[:4]),
            )
            meta.append((len(results), s["name"], s["type"], form))
            results.append(r)
            received.append(received_for(r, due))
    returns = pl.DataFrame(
        meta, schema=["result", "submitter", "type", "form"], orient="row"
    ).with_columns(pl.col("result").cast(pl.Int32))
    key = pl.concat_str("submitter", "row_key", "column_id")
    values = (
        returns.join(templates, on=["form", "type"])
        .with_columns(
            base=(key.hash(7) % 40).cast(pl.Float64),
            growth=(key.hash(11) % 10).cast(pl.Float64),
        )
        .with_columns(
            value=pl.when(pl.col("is_stock"))
            .then(pl.col("base") + 100)
            .otherwise(pl.col("base") + (q_index + 1) * pl.col("growth"))
        )
        .select("result", "row_key", "column_id", "value", "cell")
    )
    return results, received, values


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    work = a.dir or Path(tempfile.mkdtemp(prefix="jibao-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["JIBAO_CONFIG_DIR"] = str(work / "config")
    os.environ["JIBAO_HOME"] = str(work)
    os.environ.pop("JIBAO_WAREHOUSE", None)
    subs = _write_config(work / "config", a.districts, a.submitters, a.streets)

    from pipelines.paths import Paths
    from pipelines.periods import Quarter
    from pipelines.warehouse import connect_published, load_quarter_frame, publishing, reference

    paths = Paths.from_env()
    templates = _templates()
    quarters = []
    q = Quarter(2025, 1)
    for _ in range(a.quarters):
        quarters.append(str(q))
        q = q.next()

    print(
        f"province: {a.districts} districts × {a.submitters} submitters ({a.streets} 街道), {len(quarters)} quarters"
    )
    t0 = time.perf_counter()
    batches = [_quarter_batch(subs, qs, i, templates) for i, qs in enumerate(quarters)]
    total = sum(b[2].height for b in batches)
    print(f"generated {total:,} values in {time.perf_counter() - t0:.1f} s (not timed below)")

    timings: list[tuple[str, float]] = []
    start = time.perf_counter()
    with publishing(paths) as con:
        reference.load(con)
        for qs, (results, received, values) in zip(quarters, batches, strict=True):
            t = time.perf_counter()
            s = load_quarter_frame(con, qs, received, results, values)
            timings.append(
                (f"load {qs} ({s.values:,} values, {s.returns:,} returns)", time.perf_counter() - t)
            )
        t = time.perf_counter()
    timings.append(("publish (checkpoint, close, rename)", time.perf_counter() - t))
    load_total = time.perf_counter() - start

    con = connect_published(paths)
    view_total = 0.0
    for view in VIEWS:
        t = time.perf_counter()
        rows = con.execute(
            f"create or replace temp table _bench as select * from {view}"
        ).fetchall()
        rows = con.execute("select count(*) from _bench").fetchall()[0][0]
        took = time.perf_counter() - t
        view_total += took
        timings.append((f"view {view} ({rows:,} rows)", took))
    con.close()

    width = max(len(n) for n, _ in timings)
    for name, took in timings:
        print(f"  {name:<{width}}  {took:7.2f} s")
    size = paths.warehouse.stat().st_size / 1e6
    print(
        f"load + publish: {load_total:.2f} s for {total:,} values ({total / load_total / 1e6:.2f} M values/s)"
    )
    print(f"all indicator views: {view_total:.2f} s")
    print(f"warehouse: {size:,.0f} MB at {paths.warehouse}")
    if a.dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
