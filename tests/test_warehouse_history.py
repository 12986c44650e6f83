"""Rules that need history: cumulatives that fall inside their window, stocks that swing, and
increments far from peers or from the submitter's own past. Returns made by hand
(pipelines.warehouse.synthetic) loaded into a real DuckDB file, then the realistic sample end to
end through the front door."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from pipelines import config
from pipelines.model import ReturnResult
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.registry import load_registry
from pipelines.sample import write_sample
from pipelines.validate import validate_paths
from pipelines.warehouse import load_batches, publish, refresh
from pipelines.warehouse.synthetic import make_return, received_for

STREET = "常泰街道"
STREETS = [s for s in load_registry().submitters if s.type == "街道"]
DEPTS = [s for s in load_registry().submitters if s.type == "区安委会成员单位"]
FORM1_STREET = {
    "ent_small": 300, "ent_medium": 70, "ent_large": 25, "ent_total": 395,
    "mgmt_body": 120, "resp_list": 380, "safety_staff": 90, "three_lists": 350,
    "hazards_found": 900, "hazards_fixed": 870,
}  # fmt: skip


def _load(tmp_path: Path, returns: list[ReturnResult]) -> duckdb.DuckDBPyConnection:
    """Load `returns` quarter by quarter (each received before its due date) into a warehouse
    file, publish it, and open it read-only."""
    by_quarter: dict[str, list[ReturnResult]] = {}
    for r in returns:
        by_quarter.setdefault(r.quarter, []).append(r)
    batches = []
    for q, results in by_quarter.items():
        at = dt.datetime.combine(Quarter.parse(q).end, dt.time(9)) - dt.timedelta(days=3)
        batches.append((q, [received_for(r, at) for r in results], results, None))
    paths = Paths(tmp_path)
    publish(paths, lambda con: load_batches(con, batches))
    return duckdb.connect(str(paths.warehouse), read_only=True)


def _issues(con: duckdb.DuckDBPyConnection, rule: str) -> list[dict]:
    cur = con.execute(
        """
        select s.quarter, s.submitter, s.form, s.status, i.severity, i.cell, i.column_id,
            i.message
        from validation_issues as i join submissions as s using (submission_id)
        where i.source = 'history' and i.rule = ?
        order by s.quarter, s.submitter, i.cell
        """,
        [rule],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _form1(submitter: str, quarter: str, **values: float) -> ReturnResult:
    return make_return("form1", submitter, quarter, FORM1_STREET | values)


# ---- cumulative_decrease ------------------------------------------------------------------


def test_cumulative_falling_inside_its_window_is_an_error_naming_both_values(
    tmp_path: Path,
) -> None:
    con = _load(
        tmp_path,
        [_form1(STREET, "2025Q1"), _form1(STREET, "2025Q2", hazards_found=880)],
    )
    (issue,) = _issues(con, "cumulative_decrease")
    assert (issue["quarter"], issue["severity"], issue["cell"]) == ("2025Q2", "error", "J7")
    assert issue["status"] == "rejected"  # an unexplained error rejects the return
    message = issue["message"]
    for text in ("自查隐患数量", "2025Q2", "880", "2025Q1", "900", "本年度累计"):
        assert text in message, (text, message)
    official = con.execute(
        "select quarter from submissions where is_official order by quarter"
    ).fetchall()
    assert official == [("2025Q1",)]


def test_no_cumulative_error_across_a_window_reset(tmp_path: Path) -> None:
    """calendar.yaml: campaign windows (表一 自查/整改隐患) restart on 1 January 2026; the
    2021-08-01 window of 表一 健全三张清单 does not."""
    con = _load(
        tmp_path,
        [
            _form1(STREET, "2025Q4", hazards_found=2400, hazards_fixed=2300),
            _form1(STREET, "2026Q1", hazards_found=500, hazards_fixed=450, three_lists=340),
        ],
    )
    (issue,) = _issues(con, "cumulative_decrease")
    assert (issue["quarter"], issue["column_id"]) == ("2026Q1", "three_lists")
    assert "2021年8月以来累计" in issue["message"]


# ---- stock_swing --------------------------------------------------------------------------


def test_a_stock_that_swings_is_a_warning_and_ordinary_change_is_not(tmp_path: Path) -> None:
    con = _load(
        tmp_path,
        [
            _form1(STREET, "2025Q1"),
            _form1(STREET, "2025Q2", ent_small=312, ent_total=407),  # +3 %: ordinary
            _form1(STREET, "2025Q3", ent_small=605, ent_total=700),  # +72 %
        ],
    )
    swings = _issues(con, "stock_swing")
    assert [(i["quarter"], i["column_id"]) for i in swings] == [
        ("2025Q3", "ent_small"),
        ("2025Q3", "ent_total"),
    ]
    total = swings[1]
    assert total["severity"] == "warning" and total["status"] == "accepted"
    for text in ("企业基数", "700", "2025Q2", "407", "增加 293"):
        assert text in total["message"], (text, total["message"])


# ---- outlier ------------------------------------------------------------------------------


def _series(
    bases: dict[str, int], planted: str | None = None, factor: float = 1.0, seed: int = 7
) -> list[ReturnResult]:
    """表一 for 2025Q1–Q2 of each submitter in `bases` (its 企业基数); 自查隐患 grows in
    proportion to the size (so raw increments differ 10- to 30-fold), except `planted`, whose Q2
    increment is `factor` × its base."""
    rng = random.Random(seed)
    out = []
    for name, base in bases.items():
        q1 = round(base * rng.uniform(0.6, 1.2))
        step = round(base * (factor if name == planted else rng.uniform(0.5, 1.3)))
        for q, found in (("2025Q1", q1), ("2025Q2", q1 + step)):
            out.append(
                make_return(
                    "form1", name, q, {"ent_small": base, "ent_total": base, "hazards_found": found}
                )
            )
    return out


STREET_BASES = {s.name: s.enterprise_base for s in STREETS}
DEPT_BASES = config.load("sample.yaml")["department_base"]  # 31 … 415 enterprises


def test_outlier_fires_for_a_planted_increment_and_not_for_ordinary_growth(
    tmp_path: Path,
) -> None:
    con = _load(tmp_path, _series(STREET_BASES, "江南街道", factor=6.0))
    outliers = _issues(con, "outlier")
    assert [(i["quarter"], i["submitter"], i["cell"]) for i in outliers] == [
        ("2025Q2", "江南街道", "J7")
    ]
    message = outliers[0]["message"]
    for text in (
        "自查隐患数量",
        "新增",
        "企业基数",
        "同类单位（街道，8 个）",
        "通常差距的",
        "请核实",
    ):
        assert text in message, (text, message)
    assert outliers[0]["status"] == "accepted"  # a warning, not an error


@pytest.mark.parametrize("bases", [STREET_BASES, DEPT_BASES], ids=["streets", "departments"])
def test_no_outlier_for_ordinary_growth_of_submitters_of_very_different_size(
    tmp_path: Path, bases: dict[str, int]
) -> None:
    returns = _series(bases)
    steps = {
        r.submitter: v.value
        for r in returns
        if r.quarter == "2025Q2"
        for v in r.values
        if v.column_id == "hazards_found"
    }
    assert max(steps.values()) > 10 * min(steps.values())  # raw figures are not comparable
    con = _load(tmp_path, returns)
    assert _issues(con, "outlier") == []


def test_own_history_and_peers_flag_one_spike_once(tmp_path: Path) -> None:
    """Seven departments over eight quarters (2025Q1–2026Q4), 设置安全生产管理机构 (a window
    since 2021) rising a little each quarter; one spike in 2026Q4. It is far from the
    department's own six earlier increments and from its peers: one warning naming both."""
    rng = random.Random(11)
    quarters = [f"{y}Q{i}" for y in (2025, 2026) for i in range(1, 5)]
    returns = []
    for d in DEPTS[:7]:
        base = 60 + 40 * DEPTS.index(d)
        level = round(base * 0.3)
        for q in quarters:
            spike = d is DEPTS[2] and q == "2026Q4"
            level += round(base * (0.6 if spike else rng.uniform(0.04, 0.08)))
            returns.append(
                make_return(
                    "form1",
                    d.name,
                    q,
                    {"ent_small": base, "ent_total": base, "mgmt_body": level},
                )
            )
    con = _load(tmp_path, returns)
    outliers = _issues(con, "outlier")
    assert [(i["quarter"], i["submitter"], i["column_id"]) for i in outliers] == [
        ("2026Q4", DEPTS[2].name, "mgmt_body")
    ]
    message = outliers[0]["message"]
    assert "本单位以往 6 个季度" in message and "同类单位（区安委会成员单位，7 个）" in message


# ---- the sample, end to end ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    paths = Paths(tmp_path_factory.mktemp("sample"))
    manifest = write_sample(paths.raw)
    refresh(paths, manifest.quarters, validate_paths)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    yield paths, manifest, con
    con.close()


def test_sample_planted_history_defects_are_all_found(sample) -> None:
    _paths, manifest, con = sample
    planted = {
        (f.quarter, f.submitter, d.form, d.cell, d.rule_expected)
        for f in manifest.files
        for d in f.defects
        if d.history_only
    }
    assert {p[-1] for p in planted} == {"cumulative_decrease", "stock_swing"}
    found = {
        (i["quarter"], i["submitter"], i["form"], i["cell"], rule)
        for rule in ("cumulative_decrease", "stock_swing")
        for i in _issues(con, rule)
    }
    assert planted <= found
    # no cumulative error that was not planted; swings only where a base was planted to jump
    assert {f for f in found if f[-1] == "cumulative_decrease"} == {
        p for p in planted if p[-1] == "cumulative_decrease"
    }
    assert {f[:3] for f in found if f[-1] == "stock_swing"} == {
        p[:3] for p in planted if p[-1] == "stock_swing"
    }


def test_sample_statuses_match_the_manifest_including_history(sample) -> None:
    paths, manifest, con = sample
    got = {
        (Path(p).relative_to(paths.raw.resolve()).as_posix(), form): status
        for p, form, status in con.execute(
            "select original_path, form, status from submissions where form is not null"
        ).fetchall()
    }
    expected = {(f.file, form): s for f in manifest.files for form, s in f.expected_status.items()}
    assert got == expected


def test_sample_outliers_are_few_and_one_per_cell(sample) -> None:
    _paths, manifest, con = sample
    per_quarter = Counter(
        q
        for (q,) in con.execute(
            """
            select s.quarter from validation_issues as i join submissions as s using (submission_id)
            where i.rule = 'outlier' and s.is_official
            """
        ).fetchall()
    )
    returns = dict(
        con.execute(
            "select quarter, count(*) from submissions where is_official group by quarter"
        ).fetchall()
    )
    for q in manifest.quarters:
        assert per_quarter[q] <= 8, (q, per_quarter[q], returns[q])
    doubled = con.execute(
        """
        select submission_id, cell, rule, count(*) from validation_issues
        where source = 'history' group by all having count(*) > 1
        """
    ).fetchall()
    assert doubled == []
