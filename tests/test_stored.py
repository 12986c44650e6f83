"""Stored official figures (pipelines/warehouse/stored.py): every indicator view answers exactly
as it did when each query re-derived official values from the ledger, however the quarters were
loaded; a configuration change rebuilds them; integrity checks re-check what a build changed.

"Before" is main's own SQL (tests/data/views_before_stored.sql: official_values, unit_values and
new_activity as they were) put back on a copy of the same warehouse, so both sides see the same
ledger and the same day. Answers are compared as order-independent fingerprints (rows with
floats to nine significant digits, sorted, hashed): the type totals add floats in whatever order
a hash table yields, and only the last bit may differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import sample
from pipelines.forms.layout import layout
from pipelines.model import Issue, Value
from pipelines.periods import Quarter
from pipelines.registry import load_registry
from pipelines.warehouse import integrity, load_quarter, reference, schema, stored
from pipelines.warehouse.schema import INDICATOR_VIEWS
from pipelines.warehouse.synthetic import make_return, received_for

BEFORE_SQL = Path(__file__).parent / "data" / "views_before_stored.sql"
VIEWS = ("official_values", "unit_values", *INDICATOR_VIEWS)


def _quarters(first: Quarter, n: int) -> list[Quarter]:
    out = [first]
    while len(out) < n:
        out.append(out[-1].next())
    return out


QUARTERS = _quarters(Quarter(2025, 1), 6)  # 2025Q1 … 2026Q2: the windows restart in 2026Q1
OFFICE = "鲤城区安全生产委员会办公室"


def _norm(x: object) -> str:
    if isinstance(x, float):
        return f"{x:.9g}"
    return "\0" if x is None else str(x)


def fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, tuple, str]]:
    """view → (rows, columns, hash of the sorted normalised rows)."""
    out = {}
    for view in VIEWS:
        cur = con.execute(f"select * from {view}")
        columns = tuple(d[0] for d in cur.description)
        rows = sorted("\x1f".join(_norm(x) for x in r) for r in cur.fetchall())
        out[view] = (len(rows), columns, hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def before_and_after(file: Path, tmp: Path) -> tuple[dict, dict]:
    """Fingerprints of a copy of `file` with today's views, then with main's derivation."""
    copy = tmp / f"{file.stem}-compare.duckdb"
    shutil.copyfile(file, copy)
    con = duckdb.connect(str(copy))
    try:
        after = fingerprints(con)
        con.execute(BEFORE_SQL.read_text(encoding="utf-8"))
        before = fingerprints(con)
    finally:
        con.close()
    return before, after


def assert_same_answers(before: dict, after: dict) -> None:
    for view in VIEWS:
        assert after[view] == before[view], view


# ---- the sample --------------------------------------------------------------------------


def test_every_view_answers_as_before_on_the_sample(sample_warehouse, tmp_path):
    before, after = before_and_after(sample_warehouse.file, tmp_path)
    assert_same_answers(before, after)
    assert after["official_values"][0] > 10_000 and after["new_activity"][0] > 5_000


# ---- a generated warehouse, loaded out of order -------------------------------------------


def _versions(series, subs, q: Quarter, *, skip=(), bump: int = 0, version: int = 1):
    """Every return of `subs` for `q` (clean sample series; `bump` added to every value)."""
    out = []
    for s in subs:
        for form in s.forms:
            if (s.name, form) in skip:
                continue
            values = {k: v + bump for k, v in series[s.name][(q, form)].items()}
            name = f"{s.code}_{form}_{q}_v{version}.xlsx"
            out.append(make_return(form, s.name, str(q), values, file=name))
    return out


def _load(con, q: Quarter, results, at: dt.datetime) -> None:
    received = [received_for(r, at + dt.timedelta(minutes=i)) for i, r in enumerate(results)]
    load_quarter(con, str(q), received, results)


def _consolidated(q: Quarter) -> object:
    """The office's own 汇总表 (every row filled): official, but never a unit's figure."""
    result = make_return("form1", OFFICE, str(q), file=f"office_form1_{q}.xlsx")
    lay = layout("form1")
    result.values = [Value(rk, cid, 1000.0, lay.a1(rk, cid)) for rk, cid, _, _ in lay.value_cells()]
    return result


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """The registry's 街道 and departments over 2025Q1–2026Q2, loaded as an office would meet
    them: 2025Q3 before Q1 and Q2; two submitters missing in Q2, one sending only a rejected
    表一; later a corrected 2025Q2 表一 (its official values change, so 2025Q3's increments must
    follow) and a missing submitter's late 2025Q2 returns; the office's consolidated return."""
    file = tmp_path_factory.mktemp("stored") / "generated.duckdb"
    registry = load_registry()
    subs = [s for s in registry.submitters if s.type in ("街道", "区安委会成员单位")]
    cfg = sample.sample_config()
    series = {s.name: sample.simulate(s, QUARTERS, cfg, seed=11) for s in subs}
    due = {
        q: dt.datetime.combine(q.next().start, dt.time(9)) - dt.timedelta(days=3) for q in QUARTERS
    }
    q1, q2, q3, q4, q5, q6 = QUARTERS
    street, other_street, dept = subs[0], subs[1], subs[-1]
    con = duckdb.connect(str(file))
    try:
        schema.apply(con)
        reference.load(con)
        _load(con, q3, _versions(series, subs, q3), due[q3])
        _load(con, q1, _versions(series, subs, q1), due[q1])
        skip = {(street.name, f) for f in street.forms} | {(dept.name, "form3")}
        skip |= {(other_street.name, "form1")}
        rejected = make_return(
            "form1", other_street.name, str(q2), series[other_street.name][(q2, "form1")],
            file="rejected_form1.xlsx", status="rejected",
            issues=[Issue("error", "blank", "F7", "表一F7为空白。", "street", "ent_small")],
        )  # fmt: skip
        _load(con, q2, [*_versions(series, subs, q2, skip=skip), rejected], due[q2])
        for q in (q4, q5, q6):
            _load(con, q, [*_versions(series, subs, q), _consolidated(q)], due[q])
        corrected = _versions(series, subs[2:3], q2, bump=3, version=2)
        _load(con, q2, corrected, due[q2] + dt.timedelta(days=9))
        late = _versions(series, [street], q2, version=2)
        _load(con, q2, late, due[q2] + dt.timedelta(days=12))
    finally:
        con.close()
    return file


def test_every_view_answers_as_before_on_a_generated_warehouse(generated, tmp_path):
    before, after = before_and_after(generated, tmp_path)
    assert_same_answers(before, after)
    con = duckdb.connect(str(generated), read_only=True)
    try:
        bases = dict(
            con.execute(
                "select coalesce(basis, 'unknown'), count(*) from new_activity "
                "where level = 'submitter' group by all"
            ).fetchall()
        )
        offices = con.execute(
            "select count(*) from official_values where submitter = ?", [OFFICE]
        ).fetchall()[0][0]
    finally:
        con.close()
    # The storyline reaches every kind of increment, and the consolidated return is official.
    assert bases["difference"] and bases["window_start"] and bases["unknown"], bases
    assert offices > 0


def _tables(con) -> dict[str, list[tuple]]:
    return {
        t: sorted(con.execute(f"select * from {t}").fetchall(), key=repr)
        for t in ("stored_official_values", "stored_increments")
    }


def test_loading_quarter_by_quarter_gives_what_a_rebuild_gives(generated, tmp_path):
    copy = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(generated, copy)
    con = duckdb.connect(str(copy))
    try:
        maintained = _tables(con)
        stored.rebuild(con)
        assert _tables(con) == maintained
    finally:
        con.close()


def test_a_later_correction_moves_the_next_quarters_increments(generated):
    """The corrected 2025Q2 表一 (+3 everywhere) was loaded after 2025Q3: 2025Q3's increments
    read the corrected values."""
    con = duckdb.connect(str(generated), read_only=True)
    try:
        sub = load_registry().submitters[2].name
        rows = con.execute(
            """
            select q3.new_value, q3.value - ov.value
            from stored_increments as q3
            join official_values as ov
                on ov.quarter = '2025Q2' and ov.submitter = q3.submitter and ov.form = q3.form
                and ov.row_key = q3.row_key and ov.column_id = q3.column_id
            where q3.quarter = '2025Q3' and q3.submitter = ? and q3.form = 'form1'
                and q3.basis = 'difference'
            """,
            [sub],
        ).fetchall()
        versions = con.execute(
            "select original_name from submissions where submission_id in "
            "(select submission_id from official_values where quarter = '2025Q2' "
            "and submitter = ? and form = 'form1')",
            [sub],
        ).fetchall()
    finally:
        con.close()
    assert versions and versions[0][0].endswith("_v2.xlsx")
    assert rows and all(new == diff for new, diff in rows)


def test_a_configuration_change_rebuilds_the_stored_figures(generated, tmp_path):
    """The windows are configuration: when they change (here: 本年度累计 counted from mid-year),
    the next writer rebuilds, and the views again answer as the ledger says."""
    copy = tmp_path / "reconfigured.duckdb"
    shutil.copyfile(generated, copy)
    con = duckdb.connect(str(copy))
    try:
        assert not stored.ensure(con)
        con.execute(
            "update column_windows set window_start = make_date(campaign, 7, 1) "
            "where window_start is not null"
        )
        assert stored.ensure(con)
        assert not stored.ensure(con)
        moved = con.execute(
            "select count(*) from new_activity where quarter = '2025Q3' and basis = 'window_start'"
        ).fetchall()[0][0]
        after = fingerprints(con)
        con.execute(BEFORE_SQL.read_text(encoding="utf-8"))
        before = fingerprints(con)
    finally:
        con.close()
    assert moved > 0
    assert_same_answers(before, after)


# ---- integrity: what the last build changed ----------------------------------------------


@pytest.fixture
def planted(generated, tmp_path) -> tuple[Path, list[str], list[str]]:
    """A copy of the generated warehouse after two more builds: the same 2025Q2 return loaded again
    (changes nothing), then a new version (changes 2025Q2); then a breach planted in 2025Q2's
    official figures. Returns (file, changed by the no-op build, changed by the last build)."""
    copy = tmp_path / "integrity.duckdb"
    shutil.copyfile(generated, copy)
    sub = load_registry().submitters[0]
    series = sample.simulate(sub, QUARTERS, sample.sample_config(), 11)
    changed = []
    for name in ("_v2.xlsx", "v3.xlsx"):  # the first is the file the fixture loaded last
        con = duckdb.connect(str(copy))
        try:
            assert stored.changed_quarters(con) == []
            again = make_return("form1", sub.name, "2025Q2", series[(QUARTERS[1], "form1")],
                                file=f"{sub.code}_form1_2025Q2{name}")  # fmt: skip
            at = dt.datetime(2025, 7, 20 if name == "v3.xlsx" else 10, 9)  # v2: as loaded
            _load(con, QUARTERS[1], [again], at)
            changed.append(stored.changed_quarters(con))
        finally:
            con.close()
    con = duckdb.connect(str(copy))
    con.execute(
        "update stored_official_values set value = value + 1000 where quarter = '2025Q2' "
        "and form = 'form1' and column_id = 'hazards_fixed' and submitter = ?",
        [sub.name],
    ).fetchall()
    con.close()
    return copy, *changed


def test_integrity_rechecks_the_quarters_the_last_build_changed(planted):
    file, unchanged, changed = planted
    assert unchanged == [] and changed == ["2025Q2"]
    con = duckdb.connect(str(file))
    try:
        assert integrity.official_breaches(con, changed)
        assert integrity.official_breaches(con)
        assert not integrity.official_breaches(con, ["2025Q3"])
        assert not integrity.official_breaches(con, unchanged)
        with pytest.raises(integrity.IntegrityError, match="正式数据违反表内规则"):
            integrity.assert_publishable(con, changed)
    finally:
        con.close()


def test_the_blocking_check_rechecks_what_the_latest_materialisation_changed(planted, tmp_path):
    import dagster as dg

    from pipelines.assets.ingest import CHANGED_QUARTERS, warehouse_tables
    from pipelines.checks.form_rules import official_values_obey_form_rules
    from pipelines.resources import JibaoPaths, Warehouse

    file = planted[0]
    resources = {"jibao": JibaoPaths(home=str(tmp_path)), "warehouse_db": Warehouse(path=str(file))}
    outcomes = {}
    with dg.DagsterInstance.ephemeral() as instance:
        for changed in (["2025Q3"], ["2025Q2"]):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    warehouse_tables.key,
                    partition="2025Q2",
                    metadata={CHANGED_QUARTERS: dg.MetadataValue.json(changed)},
                )
            )
            context = dg.build_asset_check_context(resources=resources, instance=instance)
            result = official_values_obey_form_rules(context)
            outcomes[changed[0]] = (result.passed, result.metadata["quarters"].value)
    assert outcomes == {"2025Q3": (True, "2025Q3"), "2025Q2": (False, "2025Q2")}
