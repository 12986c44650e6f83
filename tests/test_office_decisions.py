"""The office's decisions end to end: decided through pipelines.office.decisions, then taken into
account by the real loader (front door, history, integrity, publish) on real workbooks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines import clock
from pipelines.model import Issue
from pipelines.office import decisions, journal
from pipelines.office.decisions import NotAllowed, UnknownTarget
from pipelines.office.journal import OfficeAction
from pipelines.outputs import alerts
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.registry import load_registry
from pipelines.warehouse import load_batches, publish
from pipelines.warehouse.integrity import (
    IntegrityError,
    assert_publishable,
    official_breaches,
)
from pipelines.warehouse.synthetic import make_return, received_for
from tests.office_fixtures import (
    BLANK_CELL,
    URGED_CELL,
    OfficeHome,
    Q,
    build_home,
    copy_home,
    ledger,
    query,
    rerun,
    state,
    street1,
    write_received,
)
from tests.returns import write_return

AFTER_DUE = dt.date(2025, 10, 10)
CLERK = "黄文祥"


@pytest.fixture(scope="session")
def office_home(tmp_path_factory: pytest.TempPathFactory) -> OfficeHome:
    return OfficeHome(build_home(tmp_path_factory.mktemp("office") / "home"))


@pytest.fixture
def paths(office_home: OfficeHome, tmp_path: Path) -> Paths:
    return copy_home(office_home, tmp_path / "home")


def official_figures(paths: Paths) -> list[tuple]:
    return query(
        paths,
        "select submitter, form, row_key, column_id, value from official_values "
        "where quarter = ? order by all",
        [Q],
    )


# ---- 强制上报 ---------------------------------------------------------------------------------


def test_explained_form3_urged_above_found_is_official_published_and_shown_explained(paths):
    assert ledger(paths, "常泰街道", "form3") == [
        ("常泰街道_表三.xlsx", "rejected", False, False, False)
    ]
    text = "督促整改的隐患含2024年检查发现、本年度整改完成的10条"
    action = decisions.accept(
        paths, "常泰街道办事处", "表三", Q, cell=URGED_CELL.lower(), reason=text, by=CLERK
    )
    assert (action.action, action.target, action.actor) == ("accept", URGED_CELL, CLERK)

    rerun(paths)  # refresh runs assert_publishable inside the build, as the Dagster asset does

    assert ledger(paths, "常泰街道", "form3") == [
        ("常泰街道_表三.xlsx", "accepted", True, False, False)
    ]
    issue = query(
        paths,
        "select i.rule, i.cell, i.status, i.explanation from validation_issues i "
        "join submissions s using (submission_id) where s.submitter = '常泰街道' and s.form = 'form3'",
    )
    assert issue == [("form3.urged_le_found", URGED_CELL, "explained", text)]
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        assert official_breaches(con) == []  # the Dagster check on the published file agrees
    finally:
        con.close()
    assert state(paths, "常泰街道", "form3", AFTER_DUE)[:2] == ("on_time", "按时报送")
    assert query(paths, "select actor, action_label, target, reason from office_actions") == [
        (CLERK, "强制上报", URGED_CELL, text)
    ]


def test_an_explained_cell_is_skipped_and_any_other_breach_still_refuses(tmp_path: Path):
    """A build whose official figures break a rule is refused — except exactly the cell the
    office explained. A second, unexplained breach in the same return, or in another one,
    still stops publication (the front door is bypassed here to produce such figures)."""
    paths = Paths(tmp_path)
    when = dt.datetime(2025, 9, 28, 9)
    urged = Issue("error", "form3.urged_le_found", URGED_CELL, "督促整改 60 大于发现 50",
                  "street", "hazards_urged_fixed", "60")  # fmt: skip
    explained = make_return(
        "form3", "常泰街道", Q, {"hazards_inspect_found": 50, "hazards_urged_fixed": 60},
        status="rejected", issues=[urged], file="常泰_表三.xlsx",
    )  # fmt: skip
    # 整改 9 > 处罚隐患 5 as well, which the (bypassed) front door did not report.
    both = make_return(
        "form3", "江南街道", Q,
        {"hazards_inspect_found": 50, "hazards_urged_fixed": 60,
         "penalty_hazards": 5, "penalty_hazards_fixed": 9},
        status="rejected", issues=[urged], file="江南_表三.xlsx",
    )  # fmt: skip
    at = dt.datetime(2025, 10, 2, 9)

    def accept(submitter: str, n: int) -> OfficeAction:
        return OfficeAction(f"a{n}", at, CLERK, "accept", Q, submitter, "form3", URGED_CELL, "属实")

    def build(results, actions):
        def run(con):
            batch = (Quarter.parse(Q), [received_for(r, when) for r in results], results, None)
            load_batches(con, [batch], actions=actions)
            assert_publishable(con)

        return run

    publish(paths, build([explained], [accept("常泰街道", 1)]))  # published
    with pytest.raises(IntegrityError) as raised:
        publish(paths, build([explained, both], [accept("常泰街道", 1), accept("江南街道", 2)]))
    message = str(raised.value)
    assert "江南_表三.xlsx" in message and "隐患整改数量" in message  # the unexplained one
    assert "常泰_表三.xlsx" not in message
    # Without its explanation 江南's return stays rejected, so nothing official breaks a rule.
    publish(paths, build([explained, both], [accept("常泰街道", 1)]))
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        officials = con.execute(
            "select submitter, status from submissions where is_official order by 1"
        ).fetchall()
    finally:
        con.close()
    assert officials == [("常泰街道", "accepted")]


def test_explaining_a_blank_or_a_total_is_refused_with_the_reason(paths):
    with pytest.raises(NotAllowed) as raised:
        decisions.accept(paths, "临江街道", "表一", Q, cell=BLANK_CELL, reason="无", by=CLERK)
    assert "为空白" in str(raised.value) and "更正后重新报送" in str(raised.value)
    with pytest.raises(NotAllowed, match="不能以情况说明强制上报"):
        decisions.accept(
            paths, "临江街道", "表一", Q, rule="form1.ent_total_sum", reason="属实", by=CLERK
        )
    with pytest.raises(UnknownTarget, match="规则「form1.fixed_le_foud」不存在，是否为"):
        decisions.accept(
            paths, "临江街道", "表一", Q, rule="form1.fixed_le_foud", reason="属实", by=CLERK
        )
    with pytest.raises(UnknownTarget, match="没有需要说明的问题"):
        decisions.accept(paths, "常泰街道", "表一", Q, cell="K7", reason="属实", by=CLERK)
    with pytest.raises(UnknownTarget, match="不在报送单位名录中"):
        decisions.accept(paths, "常泰街道X", "表一", Q, cell="K7", reason="属实", by=CLERK)
    with pytest.raises(UnknownTarget, match="无需报送表四"):
        decisions.accept(paths, "区卫健局", "表四", Q, cell="K7", reason="属实", by=CLERK)
    with pytest.raises(UnknownTarget, match="不在报送日历中"):
        decisions.accept(paths, "常泰街道", "表三", "2027Q1", cell="D8", reason="属实", by=CLERK)
    with pytest.raises(NotAllowed, match="请填写情况说明"):
        decisions.accept(paths, "常泰街道", "表三", Q, cell=URGED_CELL, reason="  ", by=CLERK)
    assert journal.read_actions(paths) == []  # nothing refused was recorded

    # And whatever a CSV line says, a blank is never explained.
    (paths.raw_quarter(Q) / "explanations.csv").write_text(
        f"submitter,form,cell_or_rule,text\n临江街道,表一,{BLANK_CELL},本单位无小微企业\n",
        encoding="utf-8",
    )
    rerun(paths)
    assert ledger(paths, "临江街道", "form1")[0][1:3] == ("rejected", False)
    assert query(paths, "select status from validation_issues where rule = 'blank'") == [("open",)]


# ---- 退回 ---------------------------------------------------------------------------------------


def test_send_back_makes_the_return_unofficial_restores_nothing_and_letters_say_why(paths):
    before = ledger(paths, "金龙街道", "form1")
    assert [v[2] for v in before] == [False, True]  # v2 is official
    reason = "企业基数与泉州市平台统计不一致，请核实后重报"
    decisions.send_back(paths, "金龙街道", "form1", Q, reason=reason, by=CLERK)
    with pytest.raises(NotAllowed, match="已于 .* 由 黄文祥 退回"):
        decisions.send_back(paths, "金龙街道", "form1", Q, reason="再次", by=CLERK)
    rerun(paths)

    after = ledger(paths, "金龙街道", "form1")
    # v2 sent back: rejected, not official; v1 (accepted earlier) is NOT made official again.
    assert after == [
        ("金龙街道_表一.xlsx", "accepted", False, False, False),
        ("金龙街道_表一_更正.xlsx", "rejected", False, True, False),
    ]
    assert state(paths, "金龙街道", "form1", AFTER_DUE)[:2] == ("sent_back", "退回待重报")
    reason_text = query(paths, "select reason from submissions where sent_back")[0][0]
    assert reason in reason_text and CLERK in reason_text

    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        letters = {a.submitter: a for a in alerts.build_alerts(con, Q, today=AFTER_DUE)}
    finally:
        con.close()
    letter = letters["金龙街道"]
    assert [(r.form, r.reason, r.file) for r in letter.sent_back] == [
        ("form1", reason, "金龙街道_表一_更正.xlsx")
    ]
    assert "form1" not in {r.form for r in letter.missing}  # named once: sent back, not missing
    md, html = alerts.render_letter(letter)
    for text in (md, html):
        assert "退回的报表" in text and "企业基数与泉州市平台统计不一致" in text
        assert "金龙街道_表一_更正.xlsx" in text

    # A new version arrives (late): it is official, the return is 逾期报送.
    folder = paths.raw_quarter(Q)
    jinlong = {"ent_small": 400, "ent_medium": 70, "ent_large": 25, "ent_total": 495}
    write_return(
        folder / "金龙街道_表一_重报.xlsx", "form1", "金龙街道", street1(**jinlong, mgmt_body=122)
    )
    write_received(folder, {"金龙街道_表一_重报.xlsx": "2025-10-12 10:00"})
    rerun(paths)
    assert [v[2] for v in ledger(paths, "金龙街道", "form1")] == [False, False, True]
    assert state(paths, "金龙街道", "form1", dt.date(2025, 10, 20))[:2] == ("late", "逾期报送")


def test_send_back_needs_an_official_version(paths):
    with pytest.raises(NotAllowed, match="没有已采用的正式版本"):
        decisions.send_back(paths, "临江街道", "表一", Q, reason="空白", by=CLERK)


def test_the_consoles_read_api(paths):
    from pipelines.office import read

    decisions.send_back(paths, "金龙街道", "表一", Q, reason="请核实", by=CLERK)
    decisions.close_quarter(paths, Q, by=CLERK)
    rerun(paths)
    assert read.lock_state(paths, Q).locked and read.lock_state(paths, Q).changed_by == CLERK
    assert [a.action for a in read.decisions(paths, quarter=Q, submitter="金龙街道")] == [
        "send_back", "close"]  # fmt: skip
    assert read.decisions(paths, quarter="2025Q4") == []
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        board = read.board(con, Q, today=AFTER_DUE)
        versions = read.versions(con, "金龙街道", "form1", Q)
        sid = query(paths, "select submission_id from submissions where form = 'form3'")[0][0]
        form3 = read.issues(con, sid)
        blank = read.issues(con, query(paths, "select submission_id from submissions where "
                                       "submitter = '临江街道'")[0][0])  # fmt: skip
        early = read.board(con, Q, today=dt.date(2025, 9, 1))
    finally:
        con.close()
    owed = sum(len(s.forms) for s in load_registry().submitters if s.forms)
    assert len(board) == owed and board[0]["submitter"] == load_registry().submitters[0].name
    cell = {(r["submitter"], r["form"]): r for r in board}
    assert cell[("金龙街道", "form1")]["state_label"] == "退回待重报"
    assert cell[("海滨街道", "form1")]["state_label"] == "未报送"
    assert {(r["submitter"], r["form"]): r for r in early}[("海滨街道", "form1")][
        "state"
    ] == "not_due"
    assert [(v.original_name, v.sent_back, v.is_official) for v in versions] == [
        ("金龙街道_表一.xlsx", False, False), ("金龙街道_表一_更正.xlsx", True, False)]  # fmt: skip
    assert "请核实" in versions[1].reason
    assert [(i["rule"], i["explainable"]) for i in form3] == [("form3.urged_le_found", True)]
    assert [(i["rule"], i["explainable"]) for i in blank] == [("blank", False)]


# ---- 审核锁定 / 重新开放 -----------------------------------------------------------------------


def test_close_keeps_the_figures_lists_a_later_file_and_reopen_takes_it(paths):
    figures = official_figures(paths)
    decisions.close_quarter(paths, Q, by=CLERK, reason="季度数据已审核")
    assert decisions.is_locked(paths, Q)
    with pytest.raises(NotAllowed, match="已于 .* 由 黄文祥 审核锁定"):
        decisions.close_quarter(paths, Q, by=CLERK)
    with pytest.raises(NotAllowed, match="请先重新开放该季度"):
        decisions.send_back(paths, "金龙街道", "表一", Q, reason="x", by=CLERK)
    rerun(paths)

    # A correction arrives after the close: archived, listed as 锁定后收到, figures unchanged.
    folder = paths.raw_quarter(Q)
    late = folder / "常泰街道_表一_更正.xlsx"
    write_return(late, "form1", "常泰街道", street1(mgmt_body=150))
    arrived = clock.now() + dt.timedelta(minutes=5)  # after the close (the office's clock)
    write_received(folder, {late.name: arrived.strftime("%Y-%m-%d %H:%M")})
    rerun(paths)
    versions = ledger(paths, "常泰街道", "form1")
    assert versions == [
        ("常泰街道_表一.xlsx", "accepted", True, False, False),
        ("常泰街道_表一_更正.xlsx", "accepted", False, False, True),
    ]
    assert query(
        paths, "select count(*) from submissions where original_name = ? and archive_path like ?",
        [late.name, f"{paths.archive}%"],
    ) == [(1,)]  # fmt: skip
    assert state(paths, "常泰街道", "form1", AFTER_DUE) == ("on_time", "按时报送", True, True)
    assert official_figures(paths) == figures
    assert (
        "锁定后收到"
        in query(paths, "select reason from submissions where original_name = ?", [late.name])[0][0]
    )

    with pytest.raises(NotAllowed, match="请填写重新开放的理由"):
        decisions.reopen_quarter(paths, Q, reason="", by=CLERK)
    decisions.reopen_quarter(paths, Q, reason="常泰街道更正管理机构数", by=CLERK)
    rerun(paths)
    assert [v[2] for v in ledger(paths, "常泰街道", "form1")] == [False, True]
    changed = dict(((s, f, r, c), v) for s, f, r, c, v in official_figures(paths))
    assert changed[("常泰街道", "form1", "street", "mgmt_body")] == 150
    assert state(paths, "常泰街道", "form1", AFTER_DUE)[3] is False
    assert [a.action for a in journal.read_actions(paths)] == ["close", "reopen"]
    with pytest.raises(NotAllowed, match="未审核锁定"):
        decisions.reopen_quarter(paths, Q, reason="再次", by=CLERK)


def test_report_appendix_lists_the_decisions(sample_warehouse, tmp_path: Path):
    """On the real sample (the report needs a full quarter): a send-back and a close, with who and
    when, in the appendix of the quarter's report."""
    import shutil

    from pipelines.outputs.report import render_report

    paths = Paths(tmp_path / "home")
    shutil.copytree(sample_warehouse.paths.root, paths.root)
    quarter = "2025Q3"
    submitter, form = query(
        paths,
        "select submitter, form from submissions where is_official and quarter = ? "
        "and submitter_type = '街道' order by submitter, form limit 1",
        [quarter],
    )[0]
    decisions.send_back(paths, submitter, form, quarter, reason="企业基数需与市平台核对", by=CLERK)
    decisions.close_quarter(paths, quarter, by="李明", reason="审核完毕")
    rerun(paths, quarter)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        html = render_report(con, quarter, today=AFTER_DUE)
    finally:
        con.close()
    appendix = html[html.index('id="decisions"') :]
    for text in ("附录三 办公室决定", "退回", "企业基数需与市平台核对", CLERK, submitter,
                 "审核锁定", "李明", "审核完毕"):  # fmt: skip
        assert text in appendix, text
