"""The sample submissions: deterministic, complete, consistent series, every planted defect
recorded, clean returns satisfying every rule (read back with openpyxl/xlrd, independent of the
reader), and the front door's verdicts matching the manifest."""

from __future__ import annotations

import csv
import datetime as dt
import math
import time
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
import xlrd

from pipelines import config, periods
from pipelines.forms import get_form
from pipelines.forms.layout import layout
from pipelines.periods import Quarter
from pipelines.registry import load_registry
from pipelines.sample import DEFECT_KINDS, FILE_KINDS, FileEntry, Manifest, write_sample

SEED = 2025


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest, float]:
    root = tmp_path_factory.mktemp("sample")
    start = time.perf_counter()
    manifest = write_sample(root, seed=SEED)
    return root, manifest, time.perf_counter() - start


@pytest.fixture(scope="module")
def root(sample) -> Path:
    return sample[0]


@pytest.fixture(scope="module")
def manifest(sample) -> Manifest:
    return sample[1]


# ---------------------------------------------------------------- reading back, independently


def _grid(path: Path, sheet: str) -> list[list[object]]:
    if path.suffix == ".xls":
        sh = xlrd.open_workbook(str(path)).sheet_by_name(sheet)
        return [
            [
                None if c.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) else c.value
                for c in sh.row(r)
            ]
            for r in range(sh.nrows)
        ]
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    return [list(row) for row in ws.iter_rows(values_only=True)]


def _origin(grid: list[list[object]]) -> tuple[int, int]:
    """Where the title sits (tables may start at an offset)."""
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            if isinstance(v, str) and "季报表（" in v:
                return r, c
    raise AssertionError("no title")


def _cell(grid, r: int, c: int) -> object:
    return grid[r][c] if r < len(grid) and c < len(grid[r]) else None


def read_return(root: Path, entry: FileEntry, form_id: str) -> dict[tuple[str, str], object]:
    """Every input cell of the form as stored: (row_key, column_id) → raw value."""
    grid = _grid(root / entry.file, entry.sheets[form_id])
    r0, c0 = _origin(grid)
    return {
        (rk, col): _cell(grid, r + r0, c + c0) for rk, col, r, c in layout(form_id).value_cells()
    }


def _header(root: Path, entry: FileEntry, form_id: str) -> list[str]:
    grid = _grid(root / entry.file, entry.sheets[form_id])
    r0, _ = _origin(grid)
    return [v for v in grid[r0 + 1] if isinstance(v, str)], grid[r0][_origin(grid)[1]]


def _own(form_id: str, submitter_type: str) -> set[str]:
    rows = get_form(form_id).rows_of_type(submitter_type)
    return {r.key for r in rows} | {r.group for r in rows if r.group}


def _current(manifest: Manifest) -> list[FileEntry]:
    """The files that stand: not replaced by a later resubmission."""
    return [f for f in manifest.files if f.superseded_by is None]


def _content_defects(entry: FileEntry, form_id: str) -> list:
    return [d for d in entry.defects if d.form == form_id]


# ---------------------------------------------------------------- independent rule checks


def _breaks(rule: dict, row: dict[str, float], tol: float) -> bool:
    kind = rule["kind"]
    if kind == "sum":
        return not math.isclose(row[rule["total"]], sum(row[p] for p in rule["parts"]), abs_tol=tol)
    if kind == "le":
        return any(row[c] > row[rule["right"]] + tol for c in rule["left"])
    if kind == "le_sum":
        return sum(row[c] for c in rule["parts"]) > row[rule["right"]] + tol
    raise AssertionError(kind)


def _check_rules(form_id: str, values: dict[tuple[str, str], float]) -> list[str]:
    rules = config.load("rules.yaml")
    tol = rules["amount_tolerance"]
    form = get_form(form_id)
    broken = []
    for rule in (r for r in rules["rules"] if r["form"] == form_id):
        if rule["kind"] == "total_row":
            cats = [r.key for r in form.rows if not r.is_total]
            for col in form.value_columns:
                total = values["total", col.id]
                if not math.isclose(total, sum(values[k, col.id] for k in cats), abs_tol=tol):
                    broken.append(f"{rule['id']}:{col.id}")
            continue
        for row_key in {r for r, _ in values if not r.startswith(("dept_", "street_"))}:
            row = {c: v for (r, c), v in values.items() if r == row_key}
            if _breaks(rule, row, tol):
                broken.append(f"{rule['id']}:{row_key}")
    return broken


# ---------------------------------------------------------------- tests


def test_written_complete(sample, root: Path, manifest: Manifest) -> None:
    # (How long writing takes is measured by benchmarks/demo.py, not asserted here.)
    on_disk = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix != ".csv"
    } - {"manifest.json"}
    assert on_disk == {f.file for f in manifest.files}
    assert Manifest.load(root / "manifest.json") == manifest
    assert manifest.quarters == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    senders = {f.submitter for f in manifest.files}
    assert senders == {s.name for s in load_registry().submitters if s.forms}


def test_same_seed_same_bytes(root: Path, manifest: Manifest, tmp_path: Path) -> None:
    again = write_sample(tmp_path, seed=SEED)
    assert [f.file for f in again.files] == [f.file for f in manifest.files]
    for f in manifest.files:
        assert (tmp_path / f.file).read_bytes() == (root / f.file).read_bytes(), f.file
    assert [a.received_at for a in again.files] == [b.received_at for b in manifest.files]


def test_seed_defaults_to_the_configured_one(tmp_path: Path) -> None:
    one = ["2025Q1"]
    configured = write_sample(tmp_path / "a", quarters=one, config={"seed": 7})
    explicit = write_sample(tmp_path / "b", seed=7, quarters=one)
    other = write_sample(tmp_path / "c", seed=SEED, quarters=one)

    def contents(m: Manifest) -> dict[str, bytes]:
        return {f.file: (Path(m.root) / f.file).read_bytes() for f in m.files}

    assert configured.seed == 7
    assert contents(configured) == contents(explicit)
    assert contents(configured) != contents(other)


def test_manifest_covers_every_kind(manifest: Manifest) -> None:
    kinds = Counter(d.kind for f in manifest.files for d in f.defects)
    assert set(DEFECT_KINDS) | set(FILE_KINDS) <= set(kinds)
    assert set(manifest.defect_kinds) == set(DEFECT_KINDS) | set(FILE_KINDS)
    for d in (d for f in manifest.files for d in f.defects):
        assert d.history_only == (d.kind in ("cumulative_decrease", "stock_swing"))
        if d.kind in DEFECT_KINDS:
            assert d.form and d.row_key and d.column_id and d.cell and d.rule_expected
    assert any(f.late for f in manifest.files)
    assert len(manifest.missing) >= 2
    by_file = manifest.by_file()
    resubmitted = [(f, by_file[f.resubmission_of]) for f in manifest.files if f.resubmission_of]
    assert any("rejected" in old.expected_status.values() for _, old in resubmitted)
    fixes = [
        (new, old) for new, old in resubmitted if "rejected" not in old.expected_status.values()
    ]
    assert fixes, "an accepted file replaced by a corrected accepted one"
    for new, old in resubmitted:
        assert new.received_at > old.received_at and old.superseded_by == new.file
        assert set(new.expected_status.values()) == {"accepted"}


def test_missing_pairs_send_nothing(manifest: Manifest) -> None:
    sent = {(f.submitter, f.quarter) for f in manifest.files}
    for m in manifest.missing:
        assert (m["submitter"], m["quarter"]) not in sent


def test_received_csv_and_lateness(root: Path, manifest: Manifest) -> None:
    for q in manifest.quarters:
        with open(root / q / "received.csv", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        files = {p.name for p in (root / q).iterdir() if p.suffix != ".csv"}
        assert {r["file"] for r in rows} == files
        entries = {f.file: f for f in manifest.files if f.quarter == q}
        for r in rows:
            e = entries[f"{q}/{r['file']}"]
            received = dt.datetime.fromisoformat(r["received_at"])
            assert r["received_at"] == e.received_at
            assert e.late == (received.date() > periods.due_date(Quarter.parse(q)))


def test_header_line_and_title(root: Path, manifest: Manifest) -> None:
    lag = config.load("calendar.yaml")["header_date_lag_days"]
    for entry in manifest.files[::3]:
        q = Quarter.parse(entry.quarter)
        received = dt.datetime.fromisoformat(entry.received_at).date()
        for form_id in entry.forms:
            texts, title = _header(root, entry, form_id)
            assert title == get_form(form_id).title(q.campaign)
            assert texts[0] == f"填报单位（盖章）：{entry.header_text}"
            date = dt.datetime.strptime(texts[-1], "%Y年%m月%d日").date()
            assert received - dt.timedelta(days=2) <= date <= received
            assert Quarter.of_date(date - dt.timedelta(days=lag)) == q


def test_planted_cells_hold_what_the_manifest_says(root: Path, manifest: Manifest) -> None:
    for entry in manifest.files:
        for d in entry.defects:
            if d.kind not in ("blank", "placeholder", "number_as_text", "full_width_digits"):
                continue
            value = read_return(root, entry, d.form)[d.row_key, d.column_id]
            if d.written is None:
                assert value is None, (entry.file, d)
            else:
                assert value == d.written, (entry.file, d)
            assert d.written is None or isinstance(value, str)


def test_clean_returns_satisfy_every_rule(root: Path, manifest: Manifest) -> None:
    checked = 0
    for entry in manifest.files:
        sub = load_registry().by_name(entry.submitter)
        for form_id in entry.forms:
            if _content_defects(entry, form_id):
                continue
            raw = read_return(root, entry, form_id)
            own = _own(form_id, sub.type)
            values = {}
            for (rk, col), v in raw.items():
                if rk not in own:
                    assert v in (None, 0), (entry.file, rk, col, v)  # the other type: blank or 0
                    continue
                assert isinstance(v, int | float) and v >= 0, (entry.file, rk, col, v)
                if not get_form(form_id).column(col).is_amount:
                    assert float(v).is_integer(), (entry.file, rk, col, v)
                values[rk, col] = float(v)
            assert _check_rules(form_id, values) == [], entry.file
            checked += 1
    assert checked > 300


@pytest.fixture(scope="module")
def series(root: Path, manifest: Manifest) -> dict[tuple[str, str], dict[str, dict]]:
    """(submitter, form) → quarter → own values, from the standing, defect-free returns
    (read once per module: reading every return back with openpyxl is slow)."""
    out: dict[tuple[str, str], dict[str, dict]] = {}
    for entry in _current(manifest):
        sub = load_registry().by_name(entry.submitter)
        for form_id in entry.forms:
            if any(
                not d.history_only or d.kind == "cumulative_decrease"
                for d in _content_defects(entry, form_id)
            ):
                continue
            own = _own(form_id, sub.type)
            raw = read_return(root, entry, form_id)
            vals = {k: float(v) for k, v in raw.items() if k[0] in own}
            out.setdefault((entry.submitter, form_id), {})[entry.quarter] = vals
    return out


def test_cumulative_windows_rise_and_reset(series: dict) -> None:
    resets, pairs = 0, 0
    for (name, form_id), by_q in series.items():
        form = get_form(form_id)
        quarters = sorted(by_q, key=Quarter.parse)
        for a, b in zip(quarters, quarters[1:], strict=False):
            qa, qb = Quarter.parse(a), Quarter.parse(b)
            for key, vb in by_q[b].items():
                col = form.column(key[1])
                if col.is_stock or key not in by_q[a]:
                    continue
                if periods.same_window(col.window, qa, qb):
                    assert vb >= by_q[a][key] - 1e-9, (name, form_id, key, a, b)
                elif col.id in ("inspected", "hazards_found") and by_q[a][key] > 0:
                    pairs += 1
                    resets += vb < by_q[a][key]
    assert pairs > 20 and resets == pairs  # the campaign window restarts at 2026Q1


def test_stocks_drift_slowly_and_bases_hold(manifest: Manifest, series: dict) -> None:
    swings = {
        (f.submitter, f.quarter, d.form, d.row_key)
        for f in manifest.files
        for d in f.defects
        if d.kind == "stock_swing"
    }
    limits = config.load("rules.yaml")["history"]["stock_swing"]
    for (name, form_id), by_q in series.items():
        if form_id not in ("form1", "form4"):
            continue
        base_col = "ent_total" if form_id == "form1" else "venues_base"
        quarters = sorted(by_q, key=Quarter.parse)
        for a, b in zip(quarters, quarters[1:], strict=False):
            for (rk, col), vb in by_q[b].items():
                if col != base_col or (rk, col) not in by_q[a]:
                    continue
                va = by_q[a][rk, col]
                swing = abs(vb - va) > max(
                    limits["max_relative_change"] * va, limits["min_absolute_change"]
                )
                if (name, b, form_id, rk) in swings and Quarter.parse(a).next() == Quarter.parse(b):
                    assert swing, (name, b, rk, va, vb)
                elif Quarter.parse(a).next() == Quarter.parse(b):
                    assert not swing, (name, b, rk, va, vb)
    for s in load_registry().of_type("街道"):
        q1 = series.get((s.name, "form1"), {}).get("2025Q1")
        if q1:
            assert (
                0.9 * s.enterprise_base <= q1["street", "ent_total"] <= 1.1 * s.enterprise_base + 2
            )


def test_targets_progress_some_ahead_some_behind(series: dict) -> None:
    targets = config.load("targets.yaml")
    measures = targets["measures"]
    shares = []
    for (name, form_id), by_q in series.items():
        if form_id != "form2" or "2025Q3" not in by_q or name not in targets["campaigns"][2025]:
            continue
        vals = by_q["2025Q3"]
        target = targets["campaigns"][2025][name]["reviewed_enterprise"]
        done = sum(
            v for (rk, c), v in vals.items() if c in measures["reviewed_enterprise"]["columns"]
        )
        assert all(rk.startswith("street") for rk, _ in vals)
        shares.append(done / target / targets["pace"]["Q3"])
    assert shares and max(shares) >= 1.0 and min(shares) < 0.8


def test_front_door_verdicts_match_manifest(root: Path, manifest: Manifest) -> None:
    from pipelines.validate import validate_paths

    mismatches = []
    for q in manifest.quarters:
        results = validate_paths([root / q], quarter=q)
        got = {(Path(r.file).relative_to(root).as_posix(), r.form): r for r in results}
        assert all(r.status != "unreadable" for r in results)
        for entry in (f for f in manifest.files if f.quarter == q):
            for form_id in entry.forms:
                r = got.get((entry.file, form_id))
                expected = entry.front_door_status[form_id]
                history = any(d.history_only for d in _content_defects(entry, form_id))
                if not history:
                    assert expected == entry.expected_status[form_id]
                status = r.status if r else "missing"
                if status != expected:
                    mismatches.append(
                        (entry.file, form_id, expected, status, r and [i.message for i in r.issues])
                    )
                if r is not None and status == "rejected":
                    wanted = {
                        d.rule_expected
                        for d in _content_defects(entry, form_id)
                        if not d.history_only
                    }
                    wanted |= {
                        d.rule_expected for d in entry.defects if d.kind == "unknown_submitter"
                    }
                    assert wanted <= {i.rule for i in r.issues}, (entry.file, form_id, wanted)
        extra = {k for k in got} - {(f.file, form) for f in manifest.files for form in f.forms}
        assert not extra, extra
    assert not mismatches, mismatches
