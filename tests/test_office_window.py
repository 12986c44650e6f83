"""The collection window is a state, not a failure: 未到期 before the last on-time day, 已报送 (on
time / late), 退回待重报, 未报送 once due; rates over due returns only; letters and reminders that
follow the states. Returns go through the real loader into a real DuckDB file; "today" reaches
the view through the session variable the pipeline sets (pipelines.office.read.set_as_of)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines import clock, config, periods
from pipelines.model import Issue
from pipelines.office.journal import OfficeAction
from pipelines.office.read import set_as_of
from pipelines.outputs import alerts
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.registry import load_registry
from pipelines.validate import validate_paths
from pipelines.warehouse import load_batches, publish, refresh
from pipelines.warehouse.frames import submission_id
from pipelines.warehouse.synthetic import make_return, received_for

Q = "2025Q3"  # due 2025-10-01, on time only before it: the last on-time day is 09-30
BLANK = Issue("error", "blank", "B7", "表一 街道行「企业基数（家）›小微企业」(B7)为空白", "street",
              "ent_small", "")  # fmt: skip


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day} 10:00")


class World:
    """Returns loaded with the journal (`actions`) through load_batches and publish."""

    def __init__(self, root: Path) -> None:
        self.paths = Paths(root)
        self.batches: dict[str, tuple[list, list]] = {}
        self.actions: list[OfficeAction] = []

    def add(self, quarter: str, submitter: str, form: str, when: str, **kw):
        result = make_return(form, submitter, quarter, file=f"{submitter}_{form}_{when}.xlsx", **kw)
        received, results = self.batches.setdefault(quarter, ([], []))
        received.append(received_for(result, at(when)))
        results.append(result)
        return result

    def send_back(self, result, when: str) -> None:
        sid = submission_id(result.sha256, result.sheet, result.form)
        self.actions.append(
            OfficeAction(f"b{len(self.actions)}", at(when), "黄文祥", "send_back",
                         result.quarter, result.submitter, result.form, str(sid), "数据需核实")
        )  # fmt: skip

    def load(self) -> None:
        batches = [(Quarter.parse(q), r, res, None) for q, (r, res) in self.batches.items()]
        publish(self.paths, lambda con: load_batches(con, batches, actions=self.actions))

    def connect(self, today: dt.date) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(self.paths.warehouse), read_only=True)
        set_as_of(con, today)
        return con

    def states(self, quarter: str, today: dt.date) -> dict[tuple[str, str], tuple]:
        with self.connect(today) as con:
            rows = con.execute(
                "select submitter, form, state, state_label, due, missing from reporting_status "
                "where quarter = ? and expected",
                [quarter],
            ).fetchall()
        return {(s, f): tuple(rest) for s, f, *rest in rows}

    def summary(self, quarter: str, today: dt.date, submitter_type: str = "街道") -> dict:
        with self.connect(today) as con:
            cur = con.execute(
                "select * from reporting_summary where quarter = ? and form is null "
                "and submitter_type = ?",
                [quarter, submitter_type],
            )
            names = [d[0] for d in cur.description]
            return dict(zip(names, cur.fetchall()[0], strict=True))


# ---- due dates per campaign ---------------------------------------------------------------------


def test_due_dates_follow_each_campaigns_schedule():
    q = Quarter.parse
    # 2025 (004): before the 1st of the next quarter's first month — the 1st itself is late.
    assert periods.due_date(q("2025Q3")) == dt.date(2025, 10, 1)
    assert periods.last_on_time_day(q("2025Q3")) == dt.date(2025, 9, 30)
    assert periods.is_on_time(q("2025Q3"), dt.date(2025, 9, 30))
    assert not periods.is_on_time(q("2025Q3"), dt.date(2025, 10, 1))
    assert periods.due_date(q("2025Q4")) == dt.date(2026, 1, 1)
    assert periods.due_words(q("2025Q3")) == "2025年10月1日前"
    assert periods.due_rule(q("2025Q3")) == "每季度首月1日前"
    # 2026 (000's task list): the month after the quarter, by its last day; Q4 in December.
    assert periods.due_date(q("2026Q1")) == dt.date(2026, 4, 30)
    assert periods.is_on_time(q("2026Q1"), dt.date(2026, 4, 30))
    assert periods.due_date(q("2026Q3")) == dt.date(2026, 10, 31)
    assert periods.due_date(q("2026Q4")) == dt.date(2026, 12, 31)
    assert periods.due_words(q("2026Q1")) == "2026年4月30日（含当日）前"
    # Due: once the last on-time day has passed.
    assert not periods.is_due(q("2026Q1"), dt.date(2026, 4, 30))
    assert periods.is_due(q("2026Q1"), dt.date(2026, 5, 1))
    # A campaign the calendar does not list uses the latest one before it, never crashes.
    assert periods.due_date(q("2027Q2")) == dt.date(2027, 7, 31)


def test_on_time_boundary_is_a_setting(tmp_path: Path, monkeypatch):
    folder = tmp_path / "config"
    shutil.copytree(config.DEFAULT_DIR, folder)
    cal = yaml.safe_load((folder / "calendar.yaml").read_text(encoding="utf-8"))
    cal["due"]["on_time_inclusive"] = True  # the office reads 「1日前」 as 「1日（含）前」
    (folder / "calendar.yaml").write_text(yaml.safe_dump(cal, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("JIBAO_CONFIG_DIR", str(folder))
    assert periods.is_on_time(Quarter.parse(Q), dt.date(2025, 10, 1))
    assert periods.due_words(Quarter.parse(Q)) == "2025年10月1日（含当日）前"
    world = World(tmp_path / "home")
    world.add(Q, "开元街道", "form1", "2025-10-01")
    world.load()
    assert world.states(Q, dt.date(2025, 10, 10))[("开元街道", "form1")][:2] == (
        "on_time",
        "按时报送",
    )


# ---- states -----------------------------------------------------------------------------------


@pytest.fixture
def window(tmp_path: Path) -> World:
    """2025Q3: 常泰 on the last on-time day; 开元 on the due date (late); 鲤中 rejected only;
    海滨 nothing; 临江 accepted on time, then sent back by the office (before the due date)."""
    w = World(tmp_path / "home")
    w.add(Q, "常泰街道", "form1", "2025-09-30")
    w.add(Q, "开元街道", "form1", "2025-10-01")
    w.add(Q, "鲤中街道", "form1", "2025-09-25", status="rejected", issues=[BLANK])
    back = w.add(Q, "临江街道", "form1", "2025-09-26")
    w.send_back(back, "2025-09-27")
    w.load()
    return w


def test_states_across_the_collection_window(window: World):
    before, boundary, after = dt.date(2025, 9, 29), dt.date(2025, 9, 30), dt.date(2025, 10, 1)
    expect = {
        # the last on-time day: on time whenever you look
        ("常泰街道", "form1"): {d: ("on_time", "按时报送") for d in (before, boundary, after)},
        # received on the due date itself: late (the notice's 「1日前」)
        ("开元街道", "form1"): {d: ("late", "逾期报送") for d in (before, boundary, after)},
        # the latest (only) version failed validation: 退回待重报, due or not
        ("鲤中街道", "form1"): {d: ("sent_back", "退回待重报") for d in (before, boundary, after)},
        # sent back by the office before the due date: 退回待重报 as well
        ("临江街道", "form1"): {d: ("sent_back", "退回待重报") for d in (before, boundary, after)},
        # nothing: 未到期 up to the last on-time day, 未报送 from the due date on
        ("海滨街道", "form1"): {before: ("not_due", "未到期"), boundary: ("not_due", "未到期"),
                             after: ("missing", "未报送")},
    }  # fmt: skip
    for day in (before, boundary, after):
        got = window.states(Q, day)
        for key, by_day in expect.items():
            assert got[key][:2] == by_day[day], (key, day)
            assert got[key][2] is (day >= after), (key, day)  # due
    assert window.states(Q, after)[("鲤中街道", "form1")][3] is True  # counts as missing now
    assert window.states(Q, before)[("鲤中街道", "form1")][3] is False


def test_rejected_then_resubmitted_counts_from_the_accepted_version(window: World):
    window.add(Q, "鲤中街道", "form1", "2025-10-03")  # corrected, after the due date
    window.load()
    assert window.states(Q, dt.date(2025, 10, 10))[("鲤中街道", "form1")][:2] == (
        "late",
        "逾期报送",
    )
    window.add(Q, "海滨街道", "form1", "2025-09-30")  # late to be loaded, yet received on time
    window.load()
    assert window.states(Q, dt.date(2025, 10, 10))[("海滨街道", "form1")][:2] == (
        "on_time", "按时报送")  # fmt: skip


def test_rates_count_only_what_is_due(window: World):
    # Before the due date nothing is due: no rate yet (not 0 %, not 100 %).
    early = window.summary(Q, dt.date(2025, 9, 29))
    assert (early["expected"], early["due"], early["accepted"]) == (32, 0, 2)
    assert early["reporting_rate"] is None and early["on_time_rate"] is None
    assert early["not_due"] == 32 - 2 - 2  # two accepted, two sent back
    # From the due date: 8 街道 × 4 forms due; 常泰 and 开元 表一 accepted, 常泰 on time.
    late = window.summary(Q, dt.date(2025, 10, 1))
    assert (late["due"], late["accepted"], late["on_time"], late["late"]) == (32, 2, 1, 1)
    assert late["missing"] == 30 and late["sent_back"] == 2 and late["not_due"] == 0
    assert late["reporting_rate"] == pytest.approx(2 / 32)
    assert late["on_time_rate"] == pytest.approx(1 / 32)
    with window.connect(dt.date(2025, 9, 29)) as con:
        unit = con.execute(
            "select distinct forms_expected, forms_due, reporting_rate from reporting_status "
            "where quarter = ? and submitter = '常泰街道'",
            [Q],
        ).fetchall()
    assert unit == [(4, 0, None)]


def test_analysts_see_the_current_date_unless_they_set_one(window: World):
    with duckdb.connect(str(window.paths.warehouse), read_only=True) as con:
        today = con.execute("select as_of_date()").fetchall()[0][0]
        assert today == clock.now().date()  # the office's date, whatever the machine's zone
        con.execute("set variable jibao_today = date '2025-09-29'")
        assert con.execute("select as_of_date()").fetchall()[0][0] == dt.date(2025, 9, 29)


# ---- letters follow the states ---------------------------------------------------------------


def test_letters_never_call_a_return_missing_before_it_is_due(window: World):
    with window.connect(dt.date(2025, 9, 29)) as con:
        early = {a.submitter: a for a in alerts.build_alerts(con, Q, today=dt.date(2025, 9, 29))}
        reminders = {
            a.submitter: a for a in alerts.build_reminders(con, Q, today=dt.date(2025, 9, 29))
        }
    assert "海滨街道" not in early  # nothing yet, nothing due: no alert
    assert not any(a.missing for a in early.values())
    assert [p.rule for p in early["鲤中街道"].errors] == ["blank"]  # its errors, to correct
    assert [r.form for r in early["临江街道"].sent_back] == ["form1"]  # the office's send-back
    assert [r.form for r in reminders["海滨街道"].returns] == ["form1", "form2", "form3", "form4"]
    assert [r.form for r in reminders["常泰街道"].returns] == ["form2", "form3", "form4"]
    assert "开元街道" in reminders and "form1" not in {
        r.form for r in reminders["开元街道"].returns
    }

    with window.connect(dt.date(2025, 10, 2)) as con:
        after = {a.submitter: a for a in alerts.build_alerts(con, Q, today=dt.date(2025, 10, 2))}
        assert alerts.build_reminders(con, Q, today=dt.date(2025, 10, 2)) == []
    assert [r.form for r in after["海滨街道"].missing] == ["form1", "form2", "form3", "form4"]
    assert [r.form for r in after["开元街道"].returns if r.status == "late"] == ["form1"]


def test_a_quarter_with_no_files_gets_reminders_not_missing_alerts(tmp_path: Path):
    paths = Paths(tmp_path / "home")
    paths.raw_quarter("2026Q2").mkdir(parents=True)  # configured, nothing received yet
    refresh(paths, ["2026Q2"], validate_paths)
    owed = [s.name for s in load_registry().submitters if s.forms]
    in_window, after_due = dt.date(2026, 7, 20), dt.date(2026, 8, 3)  # due 2026-07-31
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        set_as_of(con, in_window)
        states = con.execute(
            "select distinct state_label from reporting_status where quarter = '2026Q2'"
        ).fetchall()
        assert states == [("未到期",)]
        reminders = alerts.build_reminders(con, "2026Q2", today=in_window)
        assert [a.submitter for a in reminders] == owed
        assert alerts.build_alerts(con, "2026Q2", today=in_window) == []
        assert alerts.build_alerts(con, "2026Q2", today=after_due)[0].missing
        assert alerts.build_reminders(con, "2026Q2", today=after_due) == []
