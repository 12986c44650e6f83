"""Indicator views (sql/20–27) against figures worked out by hand.

A small province goes through the real load path (synthetic returns shaped like the front door's
→ pipelines.warehouse.load_quarter → a DuckDB file): three 街道 (开元, 金龙, 临江) and two member
departments (区卫健局, 区教育局) over 2025Q3, 2025Q4 and 2026Q1, where the 本年度累计 windows
restart. The storyline:

2025Q3  区教育局 表一 late (10-08); 临江街道 表四 missing; 临江街道 表一 carries a warning;
        the office's consolidated 表一 (huge figures on both rows) must count nowhere.
2025Q4  金龙街道 表一 resubmitted after the due date (v1 on time, v2 official);
        开元街道 表二 v1 rejected (on time), v2 accepted late; 区卫健局 表三 v2 rejected after an
        accepted v1; 临江街道 表四 only rejected.
2026Q1  区卫健局 sends nothing; 金龙街道 表二 arrives on 04-01 (on time: 2026's returns are due
        by the end of April, calendar.yaml).

Every expected figure below is a literal with its arithmetic beside it, from DOMAIN.md's
definitions — not recomputed with the view's own SQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines import config
from pipelines.model import Issue, Value

S1, S2, S3 = "开元街道", "金龙街道", "临江街道"
D1, D2 = "区卫健局", "区教育局"
OFFICE = "鲤城区安全生产委员会办公室"
STREET, DEPT = "街道", "区安委会成员单位"
QUARTERS = ("2025Q3", "2025Q4", "2026Q1")
ON_TIME = {  # a few days before each due date (2025-10-01, 2026-01-01, 2026-04-30)
    "2025Q3": dt.datetime(2025, 9, 28, 9),
    "2025Q4": dt.datetime(2025, 12, 29, 9),
    "2026Q1": dt.datetime(2026, 3, 29, 9),
}


# ---- the returns ---------------------------------------------------------------------------


def f1(ent, three_lists, hazards, colours, stars) -> dict[str, float]:
    """表一, own row: 企业基数 (small, medium, large), 三张清单, (自查, 整改), 四色, 星级 5…1."""
    return {
        "ent_small": ent[0],
        "ent_medium": ent[1],
        "ent_large": ent[2],
        "ent_total": sum(ent),
        "three_lists": three_lists,
        "hazards_found": hazards[0],
        "hazards_fixed": hazards[1],
        **dict(zip(("risk_red", "risk_orange", "risk_yellow", "risk_blue"), colours, strict=True)),
        "star_total": sum(stars),
        **dict(zip(("star_5", "star_4", "star_3", "star_2", "star_1"), stars, strict=True)),
    }


def f3(inspection, penalty) -> dict[str, float]:
    """表三, own row: (发现, 督促整改), (行政处罚隐患数量, 隐患整改数量)."""
    return {
        "hazards_inspect_found": inspection[0],
        "hazards_urged_fixed": inspection[1],
        "penalty_hazards": penalty[0],
        "penalty_hazards_fixed": penalty[1],
    }


def f4(**categories: dict) -> dict[tuple[str, str], float]:
    """表四: per category base, 三张清单, 四色, (自查, 整改), (发现, 督促整改), (处罚隐患, 整改);
    the 总数 row is the column sums, as the rules require."""
    out: dict[tuple[str, str], float] = {}
    colours = ("risk_red", "risk_orange", "risk_yellow", "risk_blue")
    for category, c in categories.items():
        row = {"venues_base": c["base"], "three_lists": c["tl"]}
        row |= dict(zip(colours, c["colours"], strict=True))
        row |= {"hazards_found": c["self"][0], "hazards_fixed": c["self"][1]}
        row |= f3(c["insp"], c["pen"])
        for col, v in row.items():
            out[(category, col)] = v
            out[("total", col)] = out.get(("total", col), 0) + v
    return out


def cat(base, tl, colours, self_, insp=(0, 0), pen=(0, 0)) -> dict:
    """One 表四 category: base, 三张清单, 四色, (自查, 整改), (发现, 督促整改), (处罚隐患, 整改)."""
    return {"base": base, "tl": tl, "colours": colours, "self": self_, "insp": insp, "pen": pen}


# 表二, 街道 rows: levels street_city / street_district / street_street; 万岗达标 under `street`.
F2 = {
    (S1, "2025Q3"): {("street_district", "top100_large"): 1,
                     ("street", "posts_party"): 1, ("street", "posts_worker"): 1},
    (S1, "2025Q4"): {("street_district", "top100_large"): 1, ("street_city", "review_medium"): 1,
                     ("street", "posts_party"): 2, ("street", "posts_worker"): 1,
                     ("street", "posts_youth"): 1, ("street", "posts_women"): 1},
    (S1, "2026Q1"): {("street", "posts_party"): 1, ("street", "posts_worker"): 1},
    (S2, "2025Q3"): {("street_city", "top10_count"): 1,
                     ("street_city", "top100_large"): 1, ("street_district", "top100_medium"): 1,
                     ("street_district", "review_large"): 2, ("street_street", "review_small"): 2,
                     ("street", "posts_party"): 10, ("street", "posts_worker"): 10,
                     ("street", "posts_youth"): 10, ("street", "posts_women"): 10},
    (S2, "2025Q4"): {("street_city", "top10_count"): 1,
                     ("street_city", "top100_large"): 1, ("street_district", "top100_medium"): 1,
                     ("street_street", "top100_small"): 1,
                     ("street_district", "review_large"): 2, ("street_street", "review_small"): 3,
                     ("street_district", "review_medium"): 1,
                     ("street", "posts_party"): 15, ("street", "posts_worker"): 15,
                     ("street", "posts_youth"): 15, ("street", "posts_women"): 15},
    (S2, "2026Q1"): {("street_street", "top100_small"): 1, ("street_street", "review_small"): 2,
                     ("street", "posts_party"): 5, ("street", "posts_worker"): 5,
                     ("street", "posts_youth"): 5, ("street", "posts_women"): 5},
    (S3, "2025Q3"): {("street_street", "top100_small"): 1},
    (S3, "2025Q4"): {("street_street", "top100_small"): 1, ("street_street", "review_small"): 1,
                     ("street", "posts_party"): 2},
    (S3, "2026Q1"): {("street_street", "top100_small"): 1, ("street", "posts_party"): 1},
    # Departments fill their own 表二 rows; none of it may reach 十百千万 (targets are per 街道).
    (D1, "2025Q3"): {("dept_city", "top100_large"): 5, ("dept_district", "review_large"): 7,
                     ("dept", "posts_party"): 100},
    (D1, "2025Q4"): {("dept_city", "top100_large"): 6, ("dept_district", "review_large"): 8,
                     ("dept", "posts_party"): 120},
    (D2, "2025Q3"): {("dept_street", "review_small"): 3},
    (D2, "2025Q4"): {("dept_street", "review_small"): 4},
    (D2, "2026Q1"): {("dept_street", "review_small"): 1},
}  # fmt: skip

F1 = {
    (S1, "2025Q3"): f1((40, 10, 2), 30, (100, 80), (1, 4, 15, 20), (1, 2, 3, 2, 2)),
    (S1, "2025Q4"): f1((40, 10, 2), 36, (150, 135), (1, 5, 16, 22), (1, 2, 4, 3, 2)),
    (S1, "2026Q1"): f1((40, 10, 2), 40, (30, 12), (2, 5, 17, 24), (2, 3, 4, 3, 3)),
    (S2, "2025Q3"): f1((200, 30, 9), 150, (400, 300), (3, 12, 80, 105), (5, 10, 15, 10, 10)),
    (S2, "2025Q4"): f1((200, 30, 9), 170, (520, 468), (4, 13, 86, 117), (6, 12, 18, 14, 10)),
    (S2, "2026Q1"): f1((200, 30, 9), 175, (80, 60), (4, 14, 88, 119), (6, 12, 18, 15, 11)),
    (S3, "2025Q3"): f1((8, 3, 1), 6, (20, 20), (0, 1, 3, 4), (0, 0, 0, 0, 0)),
    (S3, "2025Q4"): f1((8, 3, 1), 7, (25, 24), (0, 1, 3, 5), (0, 0, 0, 0, 0)),
    (S3, "2026Q1"): f1((8, 3, 1), 8, (0, 0), (0, 1, 4, 5), (0, 0, 1, 1, 0)),
    (D1, "2025Q3"): f1((100, 20, 5), 60, (200, 150), (2, 8, 40, 50), (2, 4, 6, 4, 4)),
    (D1, "2025Q4"): f1((100, 20, 5), 70, (260, 208), (2, 8, 45, 55), (3, 5, 7, 5, 5)),
    (D2, "2025Q3"): f1((50, 10, 0), 30, (50, 45), (0, 2, 18, 20), (0, 0, 0, 0, 0)),
    (D2, "2025Q4"): f1((50, 10, 0), 36, (80, 76), (0, 2, 20, 24), (0, 0, 0, 0, 0)),
    (D2, "2026Q1"): f1((50, 10, 0), 40, (10, 10), (0, 2, 21, 25), (0, 0, 0, 0, 0)),
}
# 金龙街道's first 2025Q4 表一, on time, then replaced by the official one above.
F1_S2_Q4_V1 = f1((200, 30, 9), 160, (500, 380), (3, 12, 85, 110), (5, 10, 15, 15, 10))

F3 = {
    (S1, "2025Q3"): f3((50, 40), (10, 8)),
    (S1, "2025Q4"): f3((80, 72), (12, 12)),
    (S1, "2026Q1"): f3((10, 5), (0, 0)),
    (S2, "2025Q3"): f3((200, 150), (30, 20)),
    (S2, "2025Q4"): f3((300, 270), (40, 36)),
    (S2, "2026Q1"): f3((40, 30), (5, 4)),
    (S3, "2025Q3"): f3((10, 10), (0, 0)),
    (S3, "2025Q4"): f3((15, 12), (2, 1)),
    (S3, "2026Q1"): f3((0, 0), (0, 0)),
    (D1, "2025Q3"): f3((120, 100), (20, 15)),
    (D1, "2025Q4"): f3((180, 150), (25, 20)),
    (D2, "2025Q3"): f3((40, 36), (4, 4)),
    (D2, "2025Q4"): f3((60, 57), (6, 6)),
    (D2, "2026Q1"): f3((15, 15), (1, 1)),
}

F4 = {
    (S1, "2025Q3"): f4(
        restaurant=cat(20, 12, (0, 1, 5, 10), (30, 25), (8, 6), (2, 1)),
        shop=cat(30, 20, (0, 0, 10, 15), (20, 20), (4, 4)),
    ),
    (S1, "2025Q4"): f4(
        restaurant=cat(20, 14, (0, 1, 6, 11), (40, 36), (10, 9), (3, 3)),
        shop=cat(30, 22, (0, 0, 11, 16), (26, 24), (6, 6), (1, 0)),
    ),
    (S1, "2026Q1"): f4(
        restaurant=cat(21, 15, (0, 1, 6, 12), (5, 2), (2, 1)),
        shop=cat(30, 23, (0, 0, 12, 16), (3, 3)),
    ),
    (S2, "2025Q3"): f4(
        restaurant=cat(60, 40, (1, 3, 20, 30), (90, 70), (30, 24), (6, 5)),
        shop=cat(40, 25, (0, 2, 10, 20), (40, 36), (10, 10), (2, 2)),
    ),
    (S2, "2025Q4"): f4(
        restaurant=cat(60, 44, (1, 3, 22, 31), (120, 108), (40, 36), (8, 8)),
        shop=cat(40, 28, (0, 2, 11, 21), (50, 50), (12, 12), (2, 2)),
    ),
    (S2, "2026Q1"): f4(
        restaurant=cat(62, 45, (1, 3, 23, 32), (20, 10), (5, 4), (1, 1)),
        shop=cat(40, 28, (0, 2, 11, 22), (6, 6), (1, 1)),
    ),
    (S3, "2026Q1"): f4(restaurant=cat(10, 5, (0, 0, 4, 4), (6, 3))),
}
# 临江街道's only 2025Q4 表四: 整改 12 > 自查 9, rejected.
F4_S3_Q4_REJECTED = f4(restaurant=cat(10, 5, (0, 0, 4, 4), (9, 12)))


def _versions() -> list[dict]:
    """Every file version received: quarter, submitter, form, received_at, status, values."""
    out = []

    def add(quarter, who, form, values, *, at=None, status="accepted", issues=(), tag=""):
        out.append(
            {
                "quarter": quarter,
                "submitter": who,
                "form": form,
                "values": values,
                "at": at or ON_TIME[quarter],
                "status": status,
                "issues": list(issues),
                "file": f"{who}_{form}_{quarter}{tag}.xlsx",
            }
        )

    for q in QUARTERS:
        for who in (S1, S2, S3, D1, D2):
            for form, table in (("form1", F1), ("form2", F2), ("form3", F3), ("form4", F4)):
                if form == "form4" and who in (D1, D2):
                    continue
                if (who, q) == (D1, "2026Q1"):
                    continue  # 区卫健局 sends nothing for 2026Q1
                if (who, form, q) in {(S3, "form4", "2025Q3"), (S3, "form4", "2025Q4")}:
                    continue  # 临江街道 表四: missing in Q3; only rejected in Q4 (below)
                values = table.get((who, q), {})
                if (who, form, q) == (S2, "form1", "2025Q4"):
                    add(q, who, form, F1_S2_Q4_V1, at=dt.datetime(2025, 12, 28, 9), tag="_v1")
                    add(q, who, form, values, at=dt.datetime(2026, 1, 5, 9), tag="_v2")
                elif (who, form, q) == (S1, "form2", "2025Q4"):
                    bad = {("street_district", "top100_large"): 9, ("street", "posts_party"): 50}
                    error = Issue("error", "blank", "D9", "表二「区级」行「规上企业」(D9) 为空白")
                    add(q, who, form, bad, at=dt.datetime(2025, 12, 30, 9), status="rejected",
                        issues=[error], tag="_v1")  # fmt: skip
                    add(q, who, form, values, at=dt.datetime(2026, 1, 3, 9), tag="_v2")
                elif (who, form, q) == (D1, "form3", "2025Q4"):
                    add(q, who, form, values, tag="_v1")
                    error = Issue("error", "form3.fixed_le_found", "E7", "督促整改隐患大于发现隐患")
                    add(q, who, form, f3((999, 1000), (99, 1)), at=dt.datetime(2026, 1, 2, 9),
                        status="rejected", issues=[error], tag="_v2")  # fmt: skip
                elif (who, form, q) == (D2, "form1", "2025Q3"):
                    add(q, who, form, values, at=dt.datetime(2025, 10, 8, 9))  # late
                elif (who, form, q) == (S3, "form1", "2025Q3"):
                    warning = Issue("warning", "number_as_text", "H7", "H7 的数字以文本形式保存")
                    add(q, who, form, values, issues=[warning])
                elif (who, form, q) == (S2, "form2", "2026Q1"):
                    add(q, who, form, values, at=dt.datetime(2026, 4, 1, 16))  # on the due date
                else:
                    add(q, who, form, values)
    add("2025Q4", S3, "form4", F4_S3_Q4_REJECTED, status="rejected",
        issues=[Issue("error", "form4.fixed_le_found", "F10", "整改隐患数量大于自查隐患数量")])  # fmt: skip
    add("2025Q3", OFFICE, "form1", None, tag="_汇总")
    return out


def _result(v: dict):
    from pipelines.warehouse.synthetic import make_return, own_cells

    res = make_return(
        v["form"], v["submitter"], v["quarter"], v["values"], file=v["file"], status=v["status"],
        issues=v["issues"],
    )  # fmt: skip
    if v["submitter"] == OFFICE:  # the consolidated return fills both types' rows
        res.values = [
            Value(row, col, 1000.0, cell)
            for kind in (STREET, DEPT)
            for row, col, cell in own_cells(v["form"], kind)
        ]
    return res


def _config(folder: Path) -> Path:
    """The real configuration, cut down to this storyline's units and quarters."""
    shutil.copytree(
        config.DEFAULT_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    keep = {S1, S2, S3, D1, D2, OFFICE}

    def edit(name: str, change) -> None:
        raw = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        change(raw)
        (folder / name).write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    edit("submitters.yaml", lambda r: r.update(submitters=[s for s in r["submitters"] if s["name"] in keep]))  # fmt: skip
    edit("calendar.yaml", lambda r: r.update(quarters=list(QUARTERS)))
    edit(
        "targets.yaml",
        lambda r: r.update(
            campaigns={
                y: {s: t for s, t in c.items() if s in keep} for y, c in r["campaigns"].items()
            }
        ),
    )
    return folder


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> Iterator[duckdb.DuckDBPyConnection]:
    from pipelines.warehouse import load_quarter, reference, schema
    from pipelines.warehouse.synthetic import received_for

    root = tmp_path_factory.mktemp("indicators")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JIBAO_CONFIG_DIR", str(_config(root / "config")))
        con = duckdb.connect(str(root / "warehouse.duckdb"))
        schema.apply(con)
        reference.load(con)
        versions = _versions()
        for q in QUARTERS:
            batch = [v for v in versions if v["quarter"] == q]
            results = [_result(v) for v in batch]
            received = [received_for(r, v["at"]) for r, v in zip(results, batch, strict=True)]
            load_quarter(con, q, received, results)
        yield con
        con.close()


def rows(con, sql: str, *params) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def one(con, sql: str, *params) -> dict:
    found = rows(con, sql, *params)
    assert len(found) == 1, found
    return found[0]


approx = pytest.approx


# ---- the load itself -------------------------------------------------------------------------


def test_only_the_planned_versions_are_rejected_or_superseded(wh):
    got = rows(
        wh,
        """select submitter, form, quarter, status, is_official from submissions
           where status <> 'accepted' or not is_official order by quarter, submitter, form""",
    )
    assert [tuple(r.values()) for r in got] == [
        (S3, "form4", "2025Q4", "rejected", False),
        (D1, "form3", "2025Q4", "rejected", False),  # v2, after an accepted v1
        (S1, "form2", "2025Q4", "rejected", False),  # v1, before an accepted v2
        (S2, "form1", "2025Q4", "accepted", False),  # v1, superseded by v2
    ]
    # No history rule fired on an accepted version: the series are consistent by design.
    assert one(
        wh,
        """select count(*) as n from validation_issues i join submissions s using (submission_id)
           where i.source = 'history' and s.status = 'accepted'""",
    ) == {"n": 0}


# ---- reporting_status ------------------------------------------------------------------------


def test_reporting_status_per_submitter_form_and_quarter(wh):
    def status(who, form, q):
        return one(
            wh,
            """select expected, received, accepted, on_time, late, missing, versions, status_label
               from reporting_status where submitter = ? and form = ? and quarter = ?""",
            who, form, q,
        )  # fmt: skip

    flags = ("expected", "received", "accepted", "on_time", "late", "missing")

    def f(who, form, q):
        r = status(who, form, q)
        return tuple(k for k in flags if r[k]), r["versions"], r["status_label"]

    # 10-08 is after the due date 2025-10-01.
    assert f(D2, "form1", "2025Q3") == (("expected", "received", "accepted", "late"), 1, "逾期报送")
    # Nothing received.
    assert f(S3, "form4", "2025Q3") == (("expected", "missing"), 0, "未报送")
    # Only a rejected version received: received, yet missing — the state is 退回待重报.
    assert f(S3, "form4", "2025Q4") == (
        ("expected", "received", "missing"), 1, "退回待重报")  # fmt: skip
    # v1 rejected on 12-30, v2 accepted on 01-03: the first accepted version is late.
    assert f(S1, "form2", "2025Q4") == (
        ("expected", "received", "accepted", "late"), 2, "逾期报送")  # fmt: skip
    # v1 accepted on 12-28, v2 (a correction) on 01-05: on time, as the first accepted was.
    assert f(S2, "form1", "2025Q4") == (
        ("expected", "received", "accepted", "on_time"), 2, "按时报送")  # fmt: skip
    # Received 2026-04-01: on time (2026's schedule: by the end of April, calendar.yaml).
    assert f(S2, "form2", "2026Q1") == (
        ("expected", "received", "accepted", "on_time"), 1, "按时报送")  # fmt: skip
    # The office's consolidated return is owed by nobody.
    assert f(OFFICE, "form1", "2025Q3") == (("received", "accepted", "on_time"), 1, "按时报送")
    # 3 quarters × (3 街道 × 4 forms + 2 departments × 3 forms) = 54 returns owed.
    assert one(wh, "select count(*) filter (where expected) as n from reporting_status") == {
        "n": 54
    }


def test_reporting_rates_as_dhis2(wh):
    """reporting rate = accepted ÷ expected; on-time rate = accepted by the due date ÷ expected."""

    def unit(who, q):
        r = one(
            wh,
            """select distinct forms_expected, reporting_rate, on_time_rate
               from reporting_status where submitter = ? and quarter = ?""",
            who, q,
        )  # fmt: skip
        return r["forms_expected"], r["reporting_rate"], r["on_time_rate"]

    assert unit(D2, "2025Q3") == (3, 1.0, approx(2 / 3))  # 3 accepted, 表一 late
    assert unit(S1, "2025Q4") == (4, 1.0, 0.75)  # 4 accepted, 表二 late: 3 ÷ 4
    assert unit(S3, "2025Q4") == (4, 0.75, 0.75)  # 表四 rejected only: 3 ÷ 4
    assert unit(D1, "2026Q1") == (3, 0.0, 0.0)  # nothing received

    summary = {
        (r["quarter"], r["submitter_type"]): (
            r["expected"], r["received"], r["accepted"], r["on_time"], r["late"], r["missing"],
            r["reporting_rate"], r["on_time_rate"],
        )
        for r in rows(wh, "select * from reporting_summary where form is null")
    }  # fmt: skip
    assert summary == {
        # 12 owed; 临江 表四 missing → 11 accepted, all on time.
        ("2025Q3", STREET): (12, 11, 11, 11, 0, 1, approx(11 / 12), approx(11 / 12)),
        # 6 owed, 6 accepted; 区教育局 表一 late → 5 on time.
        ("2025Q3", DEPT): (6, 6, 6, 5, 1, 0, 1.0, approx(5 / 6)),
        # 12 received (临江 表四 rejected only) → 11 accepted; 开元 表二 late → 10 on time.
        ("2025Q4", STREET): (12, 12, 11, 10, 1, 1, approx(11 / 12), approx(10 / 12)),
        ("2025Q4", DEPT): (6, 6, 6, 6, 0, 0, 1.0, 1.0),
        ("2026Q1", STREET): (12, 12, 12, 12, 0, 0, 1.0, 1.0),
        # 区卫健局 sends nothing: 3 of 6.
        ("2026Q1", DEPT): (6, 3, 3, 3, 0, 3, 0.5, 0.5),
    }


# ---- target_progress -------------------------------------------------------------------------


def _progress(con, quarter: str) -> dict:
    return {
        (r["submitter"], r["measure"]): (
            r["actual"],
            r["target"],
            r["share"],
            r["pace"],
            r["status"],
        )
        for r in rows(con, "select * from target_progress where quarter = ?", quarter)
    }


DISTRICT = "全区（街道合计）"
AHEAD, SLOW, BEHIND = "达到进度", "略慢于进度", "落后于进度"


def test_target_progress_2025q3_against_pace(wh):
    """Pace 75 %; status by share ÷ pace: ≥ 1 达到, ≥ 0.8 略慢, else 落后. 表二 levels summed."""
    p = _progress(wh, "2025Q3")
    # 开元: 标杆 1 (区级 规上) of 1 → 1 ÷ .75 = 1.33; 岗位 1 + 1 = 2 of 5 → .4 ÷ .75 = .53.
    assert p[(S1, "benchmark_enterprise")] == (1, 1, 1.0, 0.75, AHEAD)
    assert p[(S1, "reviewed_enterprise")] == (0, 1, 0.0, 0.75, BEHIND)
    assert p[(S1, "model_post")] == (2, 5, approx(0.4), 0.75, BEHIND)
    # A target of 0 has nothing to reach: no share, no status.
    assert p[(S1, "model_street")] == (0, 0, None, 0.75, None)
    # 金龙: 标杆 1 (市级) + 1 (区级) = 2 of 3 → .667 ÷ .75 = .89 → 略慢;
    # 评审 2 + 2 = 4 of 7 → .571 ÷ .75 = .76; 岗位 4 × 10 = 40 of 70 → .76.
    assert p[(S2, "model_street")] == (1, 1, 1.0, 0.75, AHEAD)
    assert p[(S2, "benchmark_enterprise")] == (2, 3, approx(2 / 3), 0.75, SLOW)
    assert p[(S2, "reviewed_enterprise")] == (4, 7, approx(4 / 7), 0.75, BEHIND)
    assert p[(S2, "model_post")] == (40, 70, approx(4 / 7), 0.75, BEHIND)
    # District = 街道 only (the departments' 表二 — 5 标杆, 7 评审, 100 岗位 — never added):
    # 标杆 1 + 2 + 1 = 4 of 1 + 3 + 1 = 5 → .8 ÷ .75 = 1.07 → 达到;
    # 评审 0 + 4 + 0 = 4 of 9 → .444 ÷ .75 = .59; 岗位 2 + 40 + 0 = 42 of 77 → .545 ÷ .75 = .73.
    assert p[(DISTRICT, "model_street")] == (1, 1, 1.0, 0.75, AHEAD)
    assert p[(DISTRICT, "benchmark_enterprise")] == (4, 5, approx(0.8), 0.75, AHEAD)
    assert p[(DISTRICT, "reviewed_enterprise")] == (4, 9, approx(4 / 9), 0.75, BEHIND)
    assert p[(DISTRICT, "model_post")] == (42, 77, approx(42 / 77), 0.75, BEHIND)
    assert len(p) == 4 * 4  # 3 街道 + district, 4 measures


def test_target_progress_counts_only_the_official_version(wh):
    """开元's rejected 2025Q4 表二 (标杆 9, 岗位 50) is ignored; its accepted v2 counts."""
    p = _progress(wh, "2025Q4")  # pace 100 %
    assert p[(S1, "benchmark_enterprise")] == (1, 1, 1.0, 1.0, AHEAD)  # 1 ÷ 1 = 1.0, inclusive
    assert p[(S1, "reviewed_enterprise")] == (1, 1, 1.0, 1.0, AHEAD)
    assert p[(S1, "model_post")] == (5, 5, 1.0, 1.0, AHEAD)  # 2 + 1 + 1 + 1
    # 金龙: 评审 2 + 3 + 1 = 6 of 7 = .857 → 略慢; 岗位 4 × 15 = 60 of 70 → 略慢.
    assert p[(S2, "reviewed_enterprise")] == (6, 7, approx(6 / 7), 1.0, SLOW)
    assert p[(S2, "model_post")] == (60, 70, approx(6 / 7), 1.0, SLOW)
    # District: 标杆 1 + 3 + 1 = 5 of 5; 评审 1 + 6 + 1 = 8 of 9; 岗位 5 + 60 + 2 = 67 of 77.
    assert p[(DISTRICT, "benchmark_enterprise")] == (5, 5, 1.0, 1.0, AHEAD)
    assert p[(DISTRICT, "reviewed_enterprise")] == (8, 9, approx(8 / 9), 1.0, SLOW)
    assert p[(DISTRICT, "model_post")] == (67, 77, approx(67 / 77), 1.0, SLOW)


def test_target_progress_restarts_with_the_2026_campaign(wh):
    """表二 counts from 2026-01-01 in 2026: Q1 figures are the new year's, pace 25 %."""
    p = _progress(wh, "2026Q1")
    # 金龙: 样板 0 of 1; 标杆 1 of 3 → .333 ÷ .25 = 1.33; 岗位 4 × 5 = 20 of 70 → .286 ÷ .25 = 1.14.
    assert p[(S2, "model_street")] == (0, 1, 0.0, 0.25, BEHIND)
    assert p[(S2, "benchmark_enterprise")] == (1, 3, approx(1 / 3), 0.25, AHEAD)
    assert p[(S2, "model_post")] == (20, 70, approx(2 / 7), 0.25, AHEAD)
    # 开元: 岗位 1 + 1 = 2 of 5 → .4 ÷ .25 = 1.6.
    assert p[(S1, "model_post")] == (2, 5, approx(0.4), 0.25, AHEAD)
    # District: 评审 0 + 2 + 0 = 2 of 9 → .222 ÷ .25 = .89 → 略慢; 岗位 2 + 20 + 1 = 23 of 77.
    assert p[(DISTRICT, "reviewed_enterprise")] == (2, 9, approx(2 / 9), 0.25, SLOW)
    assert p[(DISTRICT, "model_post")] == (23, 77, approx(23 / 77), 0.25, AHEAD)


# ---- risk_distribution ---------------------------------------------------------------------


def test_risk_distribution_enterprises_per_unit_and_type(wh):
    def risk(who, q="2025Q4"):
        r = one(
            wh,
            """select base, red, orange, yellow, blue, assessed, red_share, coverage
               from risk_distribution where form = 'form1' and submitter = ? and quarter = ?""",
            who, q,
        )  # fmt: skip
        return tuple(r.values())

    # 金龙's official 2025Q4 表一 is v2: 4 + 13 + 86 + 117 = 220 of 239 (v1 had 210).
    assert risk(S2) == (239, 4, 13, 86, 117, 220, approx(4 / 220), approx(220 / 239))
    # 街道合计: red 1 + 4 + 0 = 5, orange 5 + 13 + 1 = 19, yellow 16 + 86 + 3 = 105,
    # blue 22 + 117 + 5 = 144 → 273 of 52 + 239 + 12 = 303.
    assert risk(f"{STREET}合计") == (303, 5, 19, 105, 144, 273, approx(5 / 273), approx(273 / 303))
    # 成员单位合计: (2, 8, 45, 55) + (0, 2, 20, 24) = (2, 10, 65, 79) = 156 of 125 + 60 = 185.
    assert risk(f"{DEPT}合计") == (185, 2, 10, 65, 79, 156, approx(2 / 156), approx(156 / 185))
    # The office's consolidated 表一 (1000 everywhere) counts nowhere.
    assert one(wh, "select max(red) as m from risk_distribution where quarter = '2025Q3'") == {
        "m": 4  # the largest is 街道合计 1 + 3 + 0; the office's would be 2000
    }


def test_risk_distribution_of_venues_by_category(wh):
    def venues(who, category, q="2025Q4"):
        r = one(
            wh,
            """select population, category_label, base, red, orange, yellow, blue, coverage
               from risk_distribution
               where form = 'form4' and submitter = ? and category = ? and quarter = ?""",
            who, category, q,
        )  # fmt: skip
        return tuple(r.values())

    # 小餐饮 over 街道 (临江's 表四 was rejected): (0,1,6,11) + (1,3,22,31) = (1,4,28,42)
    # = 75 assessed of 20 + 60 = 80 → 93.75 %.
    assert venues(f"{STREET}合计", "restaurant") == (
        "九小场所", "小餐饮", 80, 1, 4, 28, 42, approx(75 / 80))  # fmt: skip
    # 总数 row of 开元: (0,1,6,11) + (0,0,11,16) = (0,1,17,27) = 45 of 50.
    assert venues(S1, "total") == ("九小场所", "总数", 50, 0, 1, 17, 27, approx(0.9))
    # No department owes 表四: there is no 成员单位 row for venues.
    assert one(
        wh, "select count(*) as n from risk_distribution where form = 'form4' and submitter_type = ?",
        DEPT,
    ) == {"n": 0}  # fmt: skip


# ---- hazard_closure --------------------------------------------------------------------------


def _closure(con, q: str) -> dict:
    return {
        (r["submitter"], r["form"], r["kind"]): (r["found"], r["fixed"], r["rate"])
        for r in rows(con, "select * from hazard_closure where quarter = ?", q)
    }


def test_hazard_closure_three_rates(wh):
    c = _closure(wh, "2025Q3")
    # 自查 (表一): 开元 80 ÷ 100; 金龙 300 ÷ 400; 临江 20 ÷ 20.
    assert c[(S1, "form1", "self_inspection")] == (100, 80, 0.8)
    assert c[(S3, "form1", "self_inspection")] == (20, 20, 1.0)
    # 街道合计 (80 + 300 + 20) ÷ (100 + 400 + 20) = 400 ÷ 520 — the office's 1000s left out.
    assert c[(f"{STREET}合计", "form1", "self_inspection")] == (520, 400, approx(400 / 520))
    # 成员单位合计 (150 + 45) ÷ (200 + 50) = 195 ÷ 250.
    assert c[(f"{DEPT}合计", "form1", "self_inspection")] == (250, 195, 0.78)

    c = _closure(wh, "2025Q4")
    # 金龙 v2 is official: 468 ÷ 520 = .9 (v1: 380 ÷ 500).
    assert c[(S2, "form1", "self_inspection")] == (520, 468, approx(0.9))
    # 督促整改 (表三): 区卫健局 v1 150 ÷ 180 (its rejected v2, 1000 ÷ 999, ignored);
    # 成员单位合计 (150 + 57) ÷ (180 + 60) = 207 ÷ 240.
    assert c[(D1, "form3", "inspection")] == (180, 150, approx(150 / 180))
    assert c[(f"{DEPT}合计", "form3", "inspection")] == (240, 207, approx(207 / 240))
    # 处罚隐患整改 (表三): 街道合计 (12 + 36 + 1) ÷ (12 + 40 + 2) = 49 ÷ 54.
    assert c[(f"{STREET}合计", "form3", "penalty")] == (54, 49, approx(49 / 54))
    # 表四 总数 row: 自查 开元 36 + 24 = 60 of 40 + 26 = 66; 金龙 108 + 50 = 158 of 170;
    # 临江 rejected → 街道合计 218 ÷ 236; 督促 (9 + 6) + (36 + 12) = 63 of (10 + 6) + (40 + 12) = 68.
    assert c[(f"{STREET}合计", "form4", "self_inspection")] == (236, 218, approx(218 / 236))
    assert c[(f"{STREET}合计", "form4", "inspection")] == (68, 63, approx(63 / 68))
    assert c[(f"{STREET}合计", "form4", "penalty")] == (
        14,
        13,
        approx(13 / 14),
    )  # (3+0)+(8+2) ÷ (3+1)+(8+2)

    c = _closure(wh, "2026Q1")
    # Nothing found: no rate (not 0, not 100 %).
    assert c[(S3, "form1", "self_inspection")] == (0, 0, None)
    # The 2026 window: 开元 12 ÷ 30 — not (135 + 12) ÷ (150 + 30).
    assert c[(S1, "form1", "self_inspection")] == (30, 12, 0.4)
    # 区卫健局 sent nothing: 成员单位合计 is 区教育局 alone, 10 ÷ 10.
    assert c[(f"{DEPT}合计", "form1", "self_inspection")] == (10, 10, 1.0)


# ---- measure_coverage ------------------------------------------------------------------------


def test_measure_coverage_three_lists_over_base(wh):
    def cov(who, form, category=None, q="2025Q4"):
        r = one(
            wh,
            """select count, base, coverage from measure_coverage
               where submitter = ? and form = ? and measure = 'three_lists' and quarter = ?
                 and category is not distinct from ?""",
            who, form, q, category,
        )  # fmt: skip
        return tuple(r.values())

    assert cov(S2, "form1") == (170, 239, approx(170 / 239))  # v2's 170, not v1's 160
    # 街道合计 36 + 170 + 7 = 213 of 52 + 239 + 12 = 303; 成员单位 70 + 36 = 106 of 185.
    assert cov(f"{STREET}合计", "form1") == (213, 303, approx(213 / 303))
    assert cov(f"{DEPT}合计", "form1") == (106, 185, approx(106 / 185))
    # 九小场所 小餐饮: 14 + 44 = 58 of 20 + 60 = 80.
    assert cov(f"{STREET}合计", "form4", "restaurant") == (58, 80, approx(0.725))


# ---- star_mix --------------------------------------------------------------------------------


def test_star_mix_shares_and_rated_coverage(wh):
    def star(who, stars, q="2025Q4"):
        r = one(
            wh,
            """select enterprises, star_total, ent_total, share, rated_coverage from star_mix
               where submitter = ? and stars = ? and quarter = ?""",
            who, stars, q,
        )  # fmt: skip
        return tuple(r.values())

    # 金龙 v2: 三星 18 of 6 + 12 + 18 + 14 + 10 = 60 → .3; 60 rated of 239.
    assert star(S2, 3) == (18, 60, 239, approx(0.3), approx(60 / 239))
    # 街道合计 五星 1 + 6 + 0 = 7 of 12 + 60 + 0 = 72; 72 of 303.
    assert star(f"{STREET}合计", 5) == (7, 72, 303, approx(7 / 72), approx(72 / 303))
    # 成员单位合计 五星 3 + 0 of 25 + 0; 25 of 185.
    assert star(f"{DEPT}合计", 5) == (3, 25, 185, approx(3 / 25), approx(25 / 185))
    # 临江 rates nobody: no share.
    assert star(S3, 1) == (0, 0, 12, None, 0.0)


# ---- new_activity ----------------------------------------------------------------------------


def test_new_activity_inside_one_window_and_reset_at_its_start(wh):
    def new(who, col, q, form="form1", row=None):
        r = one(
            wh,
            """select value, prev_value, basis, new_value from new_activity
               where submitter = ? and form = ? and column_id = ? and quarter = ?
                 and (? is null or row_key = ?)""",
            who, form, col, q, row, row,
        )  # fmt: skip
        return tuple(r.values())

    # 本年度累计 inside 2025: 150 − 100 = 50.
    assert new(S1, "hazards_found", "2025Q4") == (150, 100, "difference", 50)
    # The 2026 window opens in 2026Q1: everything counted is new, 30 — not 30 − 150 = −120.
    assert new(S1, "hazards_found", "2026Q1") == (30, None, "window_start", 30)
    # 2021年8月以来累计 does not restart: 三张清单 40 − 36 = 4 across the year end.
    assert new(S1, "three_lists", "2026Q1") == (40, 36, "difference", 4)
    # 金龙 2025Q4 official v2: 520 − 400 = 120 (v1 would give 100).
    assert new(S2, "hazards_found", "2025Q4") == (520, 400, "difference", 120)
    # No official 2025Q2 return: 2025Q3's activity cannot be told.
    assert new(S1, "hazards_found", "2025Q3") == (100, None, None, None)
    # 临江 表四 2026Q1 after a rejected 2025Q4: 自查 (本年度累计) opens now → 6; 三张清单 (2024年2月以来)
    # has no previous official value → unknown.
    assert new(S3, "hazards_found", "2026Q1", "form4", "restaurant") == (6, None, "window_start", 6)
    assert new(S3, "three_lists", "2026Q1", "form4", "restaurant") == (5, None, None, None)


def test_new_activity_type_totals_count_known_units_only(wh):
    def total(kind, q):
        r = one(
            wh,
            """select new_value, units_counted from new_activity
               where submitter = ? and form = 'form1' and column_id = 'hazards_found'
                 and quarter = ?""",
            f"{kind}合计", q,
        )  # fmt: skip
        return tuple(r.values())

    # 街道 2025Q4: 开元 50 + 金龙 120 + 临江 (25 − 20) 5 = 175.
    assert total(STREET, "2025Q4") == (175, 3)
    # 成员单位 2025Q4: 区卫健局 260 − 200 = 60, 区教育局 80 − 50 = 30 → 90.
    assert total(DEPT, "2025Q4") == (90, 2)
    # 成员单位 2026Q1: only 区教育局 reported, window opens → 10.
    assert total(DEPT, "2026Q1") == (10, 1)


# ---- performance_scores ----------------------------------------------------------------------


def test_performance_scores_weighted_from_configuration(wh):
    """Weights (scoring.yaml): timeliness 20, data quality 20, target pace 30, hazard closure 20,
    risk coverage 10; a component that does not apply drops out with its weight."""

    def score(who, q):
        r = one(
            wh,
            """select timeliness, data_quality, target_pace, hazard_closure, risk_coverage,
                      weight_applied, score
               from performance_scores where submitter = ? and quarter = ?""",
            who, q,
        )  # fmt: skip
        return tuple(r.values())

    # 开元 2025Q4: on time 3 of 4 (表二 late); clean 4 of 5 versions (表二 v1 rejected);
    # pace: 标杆, 评审, 岗位 each min(1, 1 ÷ 1) = 1 (样板 target 0 left out); 整改 135 ÷ 150 = .9;
    # 四色 44 ÷ 52. Score 20 × .75 + 20 × .8 + 30 × 1 + 20 × .9 + 10 × 44/52 = 87.46.
    assert score(S1, "2025Q4") == (
        0.75, 0.8, 1.0, approx(0.9), approx(44 / 52), 100, approx(15 + 16 + 30 + 18 + 440 / 52)
    )  # fmt: skip
    # 区教育局 2025Q3: on time 2 of 3; clean 3 of 3; no targets (weight 30 drops out);
    # 整改 45 ÷ 50 = .9; 四色 40 ÷ 60. (20 × 2/3 + 20 + 18 + 10 × 2/3) ÷ 70 × 100 = 82.86.
    assert score(D2, "2025Q3") == (
        approx(2 / 3), 1.0, None, approx(0.9), approx(2 / 3), 70, approx(5800 / 70)
    )  # fmt: skip
    # 临江 2025Q3: on time 3 of 4 (表四 missing); clean 2 of 3 (表一 has an open warning);
    # pace .75: 标杆 1 ÷ 1 → 1, 评审 0, 岗位 0 → 1/3; 整改 20 ÷ 20 = 1; 四色 8 ÷ 12.
    # 20 × .75 + 20 × 2/3 + 30 × 1/3 + 20 × 1 + 10 × 2/3 = 15 + 13.33 + 10 + 20 + 6.67 = 65.
    assert score(S3, "2025Q3") == (
        0.75, approx(2 / 3), approx(1 / 3), 1.0, approx(2 / 3), 100, approx(65)
    )  # fmt: skip
    # 临江 2026Q1: nothing found, so 整改 drops out (weight 20); pace .25: 标杆 1 → 1, 评审 0,
    # 岗位 1 of 2 → .5 ÷ .25 → 1: 2/3. (20 + 20 + 30 × 2/3 + 10 × 10/12) ÷ 80 × 100 = 85.42.
    assert score(S3, "2026Q1") == (
        1.0, 1.0, approx(2 / 3), None, approx(10 / 12), 80, approx((60 + 100 / 12) / 0.8)
    )  # fmt: skip
    # 区卫健局 2026Q1 sent nothing: every component that applies is 0.
    assert score(D1, "2026Q1") == (0.0, 0.0, None, 0.0, 0.0, 70, 0.0)
    # The office is scored nowhere.
    assert one(wh, "select count(*) as n from performance_scores where submitter = ?", OFFICE) == {
        "n": 0
    }


# ---- never mixed -----------------------------------------------------------------------------

TYPED_VIEWS = (
    "risk_distribution",
    "hazard_closure",
    "measure_coverage",
    "star_mix",
    "new_activity",
)


@pytest.mark.parametrize("view", TYPED_VIEWS)
def test_type_totals_add_their_own_type_only(wh, view):
    """Each type total is the sum of its own units; no row adds 街道 and departments together."""
    measure = {
        "risk_distribution": "assessed",
        "hazard_closure": "found",
        "measure_coverage": "count",
        "star_mix": "enterprises",
        "new_activity": "new_value",
    }[view]
    levels = {r["level"] for r in rows(wh, f"select distinct level from {view}")}
    assert levels == {"submitter", "type_total"}
    totals = {
        r["submitter"]
        for r in rows(wh, f"select distinct submitter from {view} where level = 'type_total'")
    }
    assert totals <= {f"{STREET}合计", f"{DEPT}合计"}
    keys = {
        "risk_distribution": "quarter, form, category",
        "hazard_closure": "quarter, form, kind",
        "measure_coverage": "quarter, form, category, measure",
        "star_mix": "quarter, stars",
        "new_activity": "quarter, form, row_key, column_id",
    }[view]
    mismatched = rows(
        wh,
        f"""
        with units as (
            select submitter_type, {keys}, sum({measure}) as s from {view}
            where level = 'submitter' group by all
        ),
        totals as (
            select submitter_type, {keys}, {measure} as s from {view} where level = 'type_total'
        )
        (select * from totals except select * from units)
        union all
        (select * from units except select * from totals)
        """,
    )
    assert mismatched == []
    assert one(wh, f"select count(*) as n from {view} where submitter = ?", OFFICE) == {"n": 0}


def test_no_grand_total_across_types(wh):
    """Every summary row names one type; the district row of 十百千万 is the 街道 alone."""
    assert one(wh, "select count(*) as n from reporting_summary where submitter_type is null") == {
        "n": 0
    }
    assert {r["submitter"] for r in rows(wh, "select distinct submitter from target_progress")} == {
        S1, S2, S3, DISTRICT
    }  # fmt: skip
    for view in (*TYPED_VIEWS, "performance_scores"):
        kinds = {r["t"] for r in rows(wh, f"select distinct submitter_type as t from {view}")}
        assert kinds == {STREET, DEPT}, view


def test_views_and_columns_are_commented(wh):
    views = ("reporting_status", "reporting_summary", "target_progress", "risk_distribution",
             "hazard_closure", "measure_coverage", "star_mix", "new_activity",
             "performance_scores")  # fmt: skip
    from pipelines.warehouse import schema

    assert views == schema.INDICATOR_VIEWS  # what the pipeline checks and the benchmark times
    for view in views:
        assert one(wh, "select comment from duckdb_views() where view_name = ?", view)["comment"]
        bare = rows(
            wh,
            "select column_name from duckdb_columns() where table_name = ? and comment is null",
            view,
        )
        assert bare == [], view
