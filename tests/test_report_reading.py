"""The report reads as a leader reads it (issue 9 point 7): Chinese words only, no 「None」, no
statistics jargon, counts never fractional, one meaning per mark, the district judged against the
notice's own goals, the collection window shown as states, every appendix line a real setting,
and every file with no recognised submitter listed (issue 9 point 5)."""

from __future__ import annotations

import re

import polars as pl
import pytest

from pipelines import config
from pipelines.outputs import report, tables
from pipelines.outputs.appendix import NOT_CONFIGURED, assumptions
from pipelines.outputs.unassigned import summary_lines, unassigned_files, write_office_letter
from pipelines.paths import Paths
from tests.outputs_fixtures import sample_reports  # noqa: F401 (fixture)
from tests.test_report import read_page

# Text of submitters' files and of the configuration pointer is data, not wording.
_DATA = re.compile(r'<(td|div) class="(value|file|key|where)">.*?</\1>', re.S)
COUNT_UNITS = "人次|家次|场次|人|家|条|个|份"


def visible(html: str) -> str:
    return "".join(read_page(_DATA.sub("", html)).text)


def section(text: str, start: str, end: str | None = None) -> str:
    return text[text.index(start) : text.index(end) if end else None]


@pytest.fixture(scope="module")
def full(sample_reports) -> str:  # noqa: F811
    return sample_reports.full.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def early(sample_reports) -> str:  # noqa: F811
    return sample_reports.early.read_text(encoding="utf-8")


def test_no_none_and_no_english_a_leader_would_read(full, early):
    for html in (full, early):
        text = visible(html)
        assert "None" not in text and "null" not in text
        assert re.findall(r"[A-Za-z]{3,}", text) == []
        assert re.findall(r"\d{4}Q\d", text) == []  # quarters in words, not 2025Q3


def test_no_count_is_shown_with_a_fraction(full):
    assert re.findall(rf"\d+\.\d+\s*（?(?:{COUNT_UNITS})", visible(full)) == []


def test_charts_offer_a_chinese_toolbar_without_cloud_or_editing(full):
    assert '"showSendToCloud": false' in full and '"displaylogo": false' in full
    assert '"locale": "zh-CN"' in full and "Plotly.register(" in full
    assert '"modeBarButtons": [["toImage", "resetScale2d"]]' in full
    locale = charts_locale()
    assert locale["Download plot as a PNG"] and locale["Reset axes"]


def charts_locale() -> dict[str, str]:
    from pipelines.outputs.charts import LOCALE

    return LOCALE["dictionary"]


def test_outlier_messages_use_plain_words_and_whole_counts():
    from pipelines.warehouse import history

    t = history.Thresholds.from_config()
    row = {"form": "form2", "column_id": "training_people", "submitter_type": "区安委会成员单位",
           "points": 12, "median": 0.066, "z": -4.24, "scale": 66.0, "rate": 0.53,
           "expected": 4.38}  # fmt: skip
    for kind in ("outlier_peers", "outlier_own"):
        text = history._comparison(kind, row, t)
        assert "修正Z" not in text and "Z分数" not in text and "4.2 倍" in text
        assert "约应新增 4；" in text, text


def test_marks_distinguish_no_task_from_no_return(full):
    """「—」: nothing to show (no task); 「未报」: the unit owes 表二 and none was accepted."""
    page = read_page(full)
    text = "".join(page.text)
    targets = section(text, "一、十百千万引领工程进度", "二、企业四色安全风险分级")
    assert tables.NA in targets and tables.NO_RETURN in targets
    assert "「—」：无该项任务" in targets and "「未报」：表二尚未报送或未通过校验" in targets


def test_district_is_judged_against_the_notice_goal():
    """10 标杆企业 meets 「10家以上」 although it is behind the 附件1 sum of 14 at full pace."""
    frame = pl.DataFrame(
        [
            {
                "level": "district",
                "submitter": "全区",
                "measure": "benchmark_enterprise",
                "measure_label": "标杆企业",
                "unit": "家",
                "actual": 10.0,
                "target": 14.0,
                "share": 10 / 14,
                "pace": 1.0,
                "status": tables.STATUS_LABEL["behind"],
                "district_goal": 10.0,
            }
        ]  # fmt: skip
    )
    (row,) = report.district_targets(frame)
    assert row["goal_share"] == 1.0 and row["goal_status"] == "done"
    assert row["goal_status_label"] == tables.STATUS_LABEL["done"]
    assert row["status"] == tables.STATUS_LABEL["behind"]  # against 附件1, still shown


def test_first_screen_shows_both_the_goal_and_the_annex_sum(full):
    figures = read_page(full).figures
    goals = config.load("targets.yaml")["district_goals"]
    for measure, goal in goals.items():
        assert figures[f"goal_{measure}"].startswith(f"通知目标 {goal:,}"), figures
        assert "附件1任务合计" in figures[f"target_{measure}"]


def test_on_time_card_shows_the_on_time_split(full):
    text = visible(full)
    card = section(text, "按时报送率", "红色、橙色风险")
    assert "街道按时报送率" in card and "成员单位按时报送率" in card
    assert "报送率 " not in card.replace("按时报送率", "")


def test_a_quarter_with_nothing_yet_says_what_has_arrived(early, sample_reports):  # noqa: F811
    figures = read_page(early).figures
    assert figures["reporting_rate"] == "未到期" and figures["on_time_rate"] == "未到期"
    text = visible(early)
    assert "尚未到期" in text and "尚未收到本季度的报表" in text
    assert "份报表未报送" not in text and "0.0%" not in text


def test_every_appendix_line_resolves_to_a_setting():
    missing = [(a.file, a.key) for a in assumptions() if a.value == NOT_CONFIGURED]
    assert missing == []


def test_files_without_a_submitter_are_listed_everywhere(sample_warehouse, full, tmp_path):
    con = sample_warehouse.connect()
    try:
        files = unassigned_files(con, sample_warehouse.quarters[-1])
        paths = Paths(tmp_path)
        letter = write_office_letter(con, paths, sample_warehouse.quarters[-1])
    finally:
        con.close()
    assert files, "the sample has files whose 填报单位 is not registered"
    appendix = section("".join(read_page(full).text), "未识别报送单位的文件", "待处理的校验问题")
    md = letter.read_text(encoding="utf-8")
    html = letter.with_suffix(".html").read_text(encoding="utf-8")
    lines = "\n".join(summary_lines(files, sample_warehouse.quarters[-1]))
    for f in files:
        assert f.name in appendix
        assert f.name in html and f.reason and f.reason.split("，")[0] in md
        assert f.name in lines
    assert letter.parent.name == config.load("office.yaml")["short_name"]
