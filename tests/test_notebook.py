"""The analyst notebook runs top to bottom against a warehouse built from the real sample, opens
it read-only, and its three answers agree with SQL written here a different way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "analyst.ipynb"

# Appended to a copy of the notebook: hands the answers back to the test.
EXPORT = """
import json as _json
print("ANSWERS=" + _json.dumps({
    "quarter": QUARTER,
    "behind": behind.select("submitter", "measure").rows(),
    "restaurant": restaurant.select("quarter", "found", "fixed", "rate").rows(),
    "resubmits": resubmits.select("submitter", "resubmissions").rows(),
}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def executed(sample_warehouse, tmp_path_factory):
    """The notebook executed with nbclient (kernel python3 of this venv), while this process holds
    a read-only connection: a read-write open by the notebook would fail on DuckDB's file lock."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(EXPORT))
    mp = pytest.MonkeyPatch()
    mp.setenv("JIBAO_WAREHOUSE", str(sample_warehouse.file))
    holder = sample_warehouse.connect()
    try:
        client = nbclient.NotebookClient(
            nb,
            kernel_name="python3",
            timeout=180,
            resources={"metadata": {"path": str(tmp_path_factory.mktemp("nb"))}},
        )
        client.execute()
    finally:
        holder.close()
        mp.undo()
    return nb


def _stream(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _answers(nb) -> dict:
    text = _stream(nb.cells[-1])
    return json.loads(text.split("ANSWERS=", 1)[1])


def test_notebook_runs_without_errors_and_explains_in_chinese(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(o.output_type != "error" for c in code for o in c.outputs)
    printed = "".join(_stream(c) for c in code)
    assert "个街道有指标落后于时序进度" in printed
    assert "小餐饮自查隐患整改率" in printed
    assert "重报最多" in printed
    markdown = " ".join(c.source for c in executed.cells if c.cell_type == "markdown")
    for question in ("落后于时序进度", "小餐饮", "重报最多", "read-only"):
        assert question in markdown


def test_behind_pace_matches_sql(executed, sample_warehouse):
    answers = _answers(executed)
    con = sample_warehouse.connect()
    try:
        (latest,) = con.execute("select max(quarter) from target_progress").fetchone()
        (on_track,) = con.execute(
            "select min_ratio from target_status_bands where status = '略慢于进度'"
        ).fetchone()
        # Recomputed from the targets table and pace, not from the view's status column.
        expected = con.execute(
            """
            select p.submitter, p.measure
            from target_progress p
            join targets t on t.submitter = p.submitter and t.measure = p.measure
                and t.campaign = p.campaign
            where p.level = 'submitter' and p.quarter = ? and t.target > 0
                and p.actual is not null and p.actual / t.target / p.pace < ?
            order by p.submitter, p.measure
            """,
            [latest, on_track],
        ).fetchall()
    finally:
        con.close()
    assert answers["quarter"] == latest
    assert answers["behind"], "the sample has 街道 behind pace"
    assert [tuple(r) for r in answers["behind"]] == [tuple(r) for r in expected]


def test_restaurant_trend_matches_sql(executed, sample_warehouse):
    answers = _answers(executed)
    con = sample_warehouse.connect()
    try:
        # From the ledger and the long values, official versions of 街道 only.
        expected = con.execute(
            """
            select s.quarter,
                sum(v.value) filter (where v.column_id = 'hazards_found'),
                sum(v.value) filter (where v.column_id = 'hazards_fixed')
            from return_values v
            join submissions s using (submission_id)
            where s.is_official and s.form = 'form4' and s.submitter_type = '街道'
                and v.row_key = 'restaurant'
            group by s.quarter order by s.quarter
            """
        ).fetchall()
    finally:
        con.close()
    got = answers["restaurant"]
    assert [r[0] for r in got] == [r[0] for r in expected] == list(sample_warehouse.quarters)
    for (q, found, fixed, rate), (_, e_found, e_fixed) in zip(got, expected, strict=True):
        assert (found, fixed) == (e_found, e_fixed), q
        assert rate == pytest.approx(e_fixed / e_found)
        assert 0 < rate <= 1


def test_resubmissions_match_sql(executed, sample_warehouse):
    answers = _answers(executed)
    con = sample_warehouse.connect()
    try:
        # Versions beyond the first, per submitter, from reporting_status's version counts.
        expected = con.execute(
            """
            select submitter, sum(versions - 1)::int as n
            from reporting_status where versions > 1
            group by submitter order by n desc, submitter
            """
        ).fetchall()
    finally:
        con.close()
    assert answers["resubmits"], "the sample has resubmissions"
    assert [tuple(r) for r in answers["resubmits"]] == [tuple(r) for r in expected]
