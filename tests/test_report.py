"""The leaders' progress report: first-screen figures match SQL over the ledger (not the views
they come from), findings name the units, nothing external, submitter text escaped, printable."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipelines import config
from pipelines.outputs.report import write_report
from pipelines.registry import load_registry

HOSTILE = "<script>alert(1)</script>"
HOSTILE_FILE = '<img src=x onerror="alert(2)">.xlsx'
QUARTERS = ("2025Q1", "2025Q2", "2025Q3")
QUARTER = "2025Q3"

CATEGORIES = ("small_factory", "beauty_bath", "internet_cafe", "karaoke", "hotel", "restaurant",
              "shop", "clinic", "school")  # fmt: skip
RESTAURANT_CLOSURE = {1: 0.6, 2: 0.75, 3: 0.85}
PROGRESS = {"常泰街道": 0.33, "浮桥街道": 0.9}  # share of pace reached; others 1.1
LOW_CLOSURE = {"金龙街道": 0.5, "区住建局": 0.6}  # self-inspection closure; others 0.92


def _street_values(name: str, i: int, base: int, q: int) -> dict[str, dict[tuple[str, str], float]]:
    assessed = round(base * (0.5 + 0.15 * q))
    red = max(1, round(base * 0.05)) + (4 if (name, q) == ("江南街道", 3) else 0)
    orange = round(assessed * 0.15)
    yellow = round(assessed * 0.3)
    found = round(base * q * 0.8)
    small, medium = round(base * 0.8), round(base * 0.15)
    form1 = {"ent_small": small, "ent_medium": medium, "ent_large": base - small - medium,
             "ent_total": base, "risk_red": red, "risk_orange": orange, "risk_yellow": yellow,
             "risk_blue": max(0, assessed - red - orange - yellow), "hazards_found": found,
             "hazards_fixed": round(found * LOW_CLOSURE.get(name, 0.92))}  # fmt: skip
    form3 = {"hazards_inspect_found": 10 * q + i, "hazards_urged_fixed": round((10 * q + i) * 0.85),
             "penalty_hazards": 2 * q, "penalty_hazards_fixed": q}  # fmt: skip
    out = {
        "form1": {("street", k): v for k, v in form1.items()},
        "form3": {("street", k): v for k, v in form3.items()},
    }
    targets = config.load("targets.yaml")["campaigns"][2025][name]
    factor = PROGRESS.get(name, 1.1)
    done = {m: round(t * q / 4 * factor) for m, t in targets.items()}
    out["form2"] = {
        ("street_district", "top10_count"): done["model_street"],
        ("street_district", "top100_large"): done["benchmark_enterprise"],
        ("street_district", "review_large"): done["reviewed_enterprise"],
        ("street", "posts_party"): done["model_post"],
    }
    form4: dict[tuple[str, str], float] = {}
    for k, cat in enumerate(CATEGORIES):
        vbase = 5 + (i + k) % 7
        vfound = 3 * q + k
        rate = RESTAURANT_CLOSURE[q] if cat == "restaurant" else 0.9
        row = {"venues_base": vbase, "risk_red": k % 2, "risk_orange": 1, "risk_yellow": 1,
               "risk_blue": 1, "hazards_found": vfound, "hazards_fixed": round(vfound * rate)}  # fmt: skip
        form4 |= {(cat, c): v for c, v in row.items()}
    for c in ("venues_base", "risk_red", "risk_orange", "risk_yellow", "risk_blue",
              "hazards_found", "hazards_fixed"):  # fmt: skip
        form4[("total", c)] = sum(form4[(cat, c)] for cat in CATEGORIES)
    out["form4"] = form4
    return out


def _dept_values(name: str, j: int, q: int) -> dict[str, dict[tuple[str, str], float]]:
    base = 30 + 5 * j
    found = 12 * q + j
    form1 = {"ent_total": base, "risk_red": 1 + j % 2, "risk_orange": 3, "risk_yellow": 5,
             "risk_blue": base - 12, "hazards_found": found,
             "hazards_fixed": round(found * LOW_CLOSURE.get(name, 0.92))}  # fmt: skip
    form3 = {"hazards_inspect_found": 6 * q, "hazards_urged_fixed": 5 * q,
             "penalty_hazards": q, "penalty_hazards_fixed": q}  # fmt: skip
    return {
        "form1": {("dept", k): v for k, v in form1.items()},
        "form2": {("dept_district", "top100_large"): 0, ("dept", "posts_party"): 0},
        "form3": {("dept", k): v for k, v in form3.items()},
    }


_SUBMISSION_COLS = (
    "submission_id, sha256, original_path, original_name, received_at, received_at_source, "
    "submitter, submitter_type, form, quarter, campaign, sheet, validated_status, status, "
    "is_official, superseded_by, on_time, submitter_text"
)
_ids = iter(range(1, 1_000_000))


def _submit(con, quarter, submitter, sub_type, form, values, *, received, status="accepted",
            name=None, superseded_by=None) -> int:  # fmt: skip
    """One return version in the ledger, as the warehouse loader records it."""
    sid = next(_ids)
    due = dt.datetime.fromisoformat(
        {"1": "2025-04-01", "2": "2025-07-01", "3": "2025-10-01"}[quarter[-1]]
    )
    official = status == "accepted" and superseded_by is None
    name = name or f"{submitter}{form}.xlsx"
    con.execute(
        f"insert into submissions ({_SUBMISSION_COLS}) values "
        "(?, ?, ?, ?, ?, 'received.csv', ?, ?, ?, ?, ?, 'Sheet1', ?, ?, ?, ?, ?, ?)",
        [sid, f"{sid:064x}", f"data/raw/{quarter}/{name}", name, received, submitter, sub_type,
         form, quarter, int(quarter[:4]), status, status, official, superseded_by,
         received.date() <= due.date(), submitter],
    )  # fmt: skip
    con.executemany(
        "insert into return_values values (?, ?, ?, ?, null)",
        [[sid, rk, cid, v] for (rk, cid), v in values.items()],
    )
    return sid


def _issue(con, sid, severity, rule, cell, message, status="open") -> None:
    con.execute(
        "insert into validation_issues (issue_id, submission_id, seq, source, severity, rule, "
        "cell, message, status) values (?, ?, 1, 'validate', ?, ?, ?, ?, ?)",
        [next(_ids), sid, severity, rule, cell, message, status],
    )


def build_fixture_warehouse(path: Path) -> Path:
    """A small warehouse whose storyline the tests know: 2025Q1–Q3; 常泰街道 behind pace;
    金龙街道 and 区住建局 close few hazards; 江南街道's red count rises in Q3; 临江街道 misses
    表四 and 区民政局 everything in Q3; 区城管局 is late in Q3; 浮桥街道's 表一 is rejected then
    resubmitted; 常泰街道 sends 表二 three times in Q2; a hostile-named department reports."""
    from pipelines.warehouse import reference, schema, stored

    con = duckdb.connect(str(path))
    schema.apply(con)
    reference.load(con)
    con.execute(
        "insert into submitters values (?, 'hostile', ?, 'dept', ?, null, false, [], null)",
        [HOSTILE, "区安委会成员单位", ["form1", "form2", "form3"]],
    )
    subs = [s for s in load_registry().submitters if s.type in ("街道", "区安委会成员单位")]
    for qi, quarter in enumerate(QUARTERS, start=1):
        on_time = dt.datetime(2025, 3 * qi + 1, 1, 9) - dt.timedelta(days=3)
        streets = [s for s in subs if s.is_street]
        depts = [s for s in subs if not s.is_street]
        for i, s in enumerate(streets):
            values = _street_values(s.name, i, s.enterprise_base or 0, qi)
            for form in s.forms:
                if (s.name, form, quarter) == ("临江街道", "form4", "2025Q3"):
                    continue
                if (s.name, form, quarter) == ("浮桥街道", "form1", "2025Q3"):
                    bad = _submit(con, quarter, s.name, s.type, form, values[form],
                                  received=on_time - dt.timedelta(days=5), status="rejected")  # fmt: skip
                    _issue(con, bad, "error", "blank", "F7", "表一F7为空白。", status="resolved")
                if (s.name, form, quarter) == ("常泰街道", "form2", "2025Q2"):
                    newest = _submit(con, quarter, s.name, s.type, form, values[form],
                                     received=on_time)  # fmt: skip
                    for days in (6, 4):
                        _submit(con, quarter, s.name, s.type, form, values[form],
                                received=on_time - dt.timedelta(days=days), superseded_by=newest)  # fmt: skip
                    continue
                sid = _submit(con, quarter, s.name, s.type, form, values[form], received=on_time)
                if (s.name, form, quarter) == ("海滨街道", "form1", "2025Q3"):
                    _issue(con, sid, "warning", "number_as_text", "G7", "表一G7数字以文本形式保存")
        for j, s in enumerate(depts):
            if (s.name, quarter) == ("区民政局", "2025Q3"):
                continue
            late = (s.name, quarter) == ("区城管局", "2025Q3")
            received = on_time + dt.timedelta(days=8 if late else 0)
            values = _dept_values(s.name, j, qi)
            for form in s.forms:
                _submit(con, quarter, s.name, s.type, form, values[form], received=received)
        if quarter == "2025Q3":
            sid = _submit(con, quarter, HOSTILE, "区安委会成员单位", "form1",
                          _dept_values(HOSTILE, 0, qi)["form1"], received=on_time,
                          name=HOSTILE_FILE)  # fmt: skip
            _issue(con, sid, "warning", "stock_swing", "D7", "<b>变化幅度较大</b>，请确认")
    stored.rebuild(con)  # the loader maintains the stored official figures; here, by hand
    con.close()
    return path


# ---------------------------------------------------------------- reading the page


class _Page(HTMLParser):
    """What a browser would fetch and show: tag attributes (script bodies are not markup), style
    sheets, the text of every data-figure element, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.tags: list[str] = []
        self.styles: list[str] = []
        self.figures: dict[str, str] = {}
        self.text: list[str] = []
        self._figure: list[tuple[str, int]] = []
        self._depth = 0
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in.append(tag)
        self._depth += 1
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "poster", "data") and value:
                self.links.append((tag, name, value))
            if name == "data-figure":
                self._figure.append((value, self._depth))
                self.figures[value] = ""

    def handle_endtag(self, tag):
        if self._figure and self._figure[-1][1] == self._depth:
            self._figure.pop()
        self._depth -= 1
        if self._in:
            self._in.pop()

    def handle_data(self, data):
        if self._in and self._in[-1] == "style":
            self.styles.append(data)
        elif not (self._in and self._in[-1] == "script"):
            self.text.append(data)
        for name, _ in self._figure:
            self.figures[name] += data


def read_page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def pct(x: float) -> str:
    return f"{x:.1%}"


def num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


# ---------------------------------------------------------------- figures from the ledger


def ledger_figures(con, quarter: str) -> dict[str, str]:
    """The first screen's figures recomputed from the ledger tables (submissions, return_values)
    and the configuration tables, without any view, formatted as the page shows them."""
    owed = con.execute(
        """
        with owed as (
            select sub.submitter, f.form
            from submitters sub, unnest(sub.forms) as f(form)
            where sub.submitter_type in ('街道', '区安委会成员单位')
        ),
        judged as (
            select owed.submitter, owed.form,
                bool_or(s.is_official) as accepted,
                min(s.received_at) filter (where s.status = 'accepted') as first_accepted
            from owed
            left join submissions s
                on s.submitter = owed.submitter and s.form = owed.form and s.quarter = ?
            group by owed.submitter, owed.form
        )
        select count(*),
            count(*) filter (where accepted),
            count(*) filter (where accepted and first_accepted::date
                <= (select due_date from deadlines where quarter = ?))
        from judged
        """,
        [quarter, quarter],
    ).fetchone()
    n, accepted, on_time = owed

    def official_sum(form: str, column: str, sub_type: str, row_like: str) -> float | None:
        (v,) = con.execute(
            """
            select sum(v.value) from return_values v join submissions s using (submission_id)
            where s.is_official and s.quarter = ? and s.form = ? and v.column_id = ?
                and s.submitter_type = ? and v.row_key like ?
            """,
            [quarter, form, column, sub_type, row_like],
        ).fetchone()
        return v

    out = {"reporting_rate": pct(accepted / n), "on_time_rate": pct(on_time / n)}
    for sub_type, row in (("街道", "street"), ("区安委会成员单位", "dept")):
        out[f"red_{sub_type}"] = num(official_sum("form1", "risk_red", sub_type, row))
        out[f"orange_{sub_type}"] = num(official_sum("form1", "risk_orange", sub_type, row))
        found = official_sum("form1", "hazards_found", sub_type, row)
        fixed = official_sum("form1", "hazards_fixed", sub_type, row)
        out[f"closure_{sub_type}"] = pct(fixed / found)
    out["red_venues"] = num(official_sum("form4", "risk_red", "街道", "total"))
    out["orange_venues"] = num(official_sum("form4", "risk_orange", "街道", "total"))
    cfg = config.load("targets.yaml")
    campaign = int(quarter[:4])
    for measure, spec in cfg["measures"].items():
        actual = sum(
            official_sum("form2", column, "街道", "street%") or 0 for column in spec["columns"]
        )
        target = sum(t[measure] for t in cfg["campaigns"][campaign].values())
        out[f"target_{measure}"] = f"{num(actual)}/{num(target)} {spec['unit']}"
    return out


def assert_first_screen_matches(html: str, expected: dict[str, str]) -> None:
    shown = read_page(html).figures
    for key, value in expected.items():
        assert key in shown, f"figure {key} is not on the page"
        got = " ".join(shown[key].split())
        if key.startswith("target_"):
            assert got.startswith(value), (key, got, value)
        else:
            assert got == value, (key, got, value)


# ---------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def fixture_html(tmp_path_factory) -> str:
    db = build_fixture_warehouse(tmp_path_factory.mktemp("report") / "warehouse.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = write_report(con, QUARTER, db.parent / "reports", today=dt.date(2025, 10, 12))
        expected = ledger_figures(con, QUARTER)
    finally:
        con.close()
    assert out == db.parent / "reports" / QUARTER / f"进展报告_{QUARTER}.html"
    html = out.read_text(encoding="utf-8")
    assert_first_screen_matches(html, expected)
    return html


def test_first_screen_figures_match_the_ledger(fixture_html):
    shown = read_page(fixture_html).figures
    # The storyline: 8 街道 owe 4 forms, 13 departments and the hostile one 3: 74 returns;
    # 区民政局 (3), the hostile department (2) and 临江街道 (1) are missing.
    assert shown["reporting_rate"] == pct(68 / 74)
    assert shown["red_街道"] != "—" and shown["closure_街道"] != "—"


def test_findings_name_the_units_behind(fixture_html):
    text = "".join(read_page(fixture_html).text)
    findings = text[text.index("主要发现") : text.index("十百千万进度风险分级")]
    assert "常泰街道十百千万进度落后于时序进度" in findings
    assert "浮桥街道十百千万进度落后于时序进度" in findings
    assert "临江街道（表四）" in findings and "区民政局（表一、表二、表三）" in findings
    assert "逾期报送 3 份：区城管局" in findings
    assert "自查隐患整改率低于 80%：金龙街道（50.0%" in findings and "区住建局" in findings
    assert "红色风险企业较上季度增加：江南街道" in findings
    assert "海滨街道十百千万" not in findings  # ahead of pace: not a finding


def test_report_is_self_contained(fixture_html):
    page = read_page(fixture_html)
    external = [
        (tag, attr, value)
        for tag, attr, value in page.links
        if re.match(r"\s*(https?:)?//", value, re.I)
    ]
    assert external == []
    assert "link" not in page.tags  # no external style sheets
    scripts = re.findall(r"<script\b[^>]*>", fixture_html, re.I)
    assert scripts and all("src=" not in s for s in scripts)
    assert all(
        "@import" not in s and not re.search(r"url\(\s*['\"]?https?:", s) for s in page.styles
    )
    assert "Plotly.newPlot" in fixture_html and len(fixture_html) > 3_000_000  # plotly.js inline


def test_submitter_text_is_escaped(fixture_html):
    assert HOSTILE not in fixture_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fixture_html
    assert "<img src=x" not in fixture_html and "<b>变化幅度较大</b>" not in fixture_html
    text = "".join(read_page(fixture_html).text)
    assert HOSTILE in text and "<b>变化幅度较大</b>，请确认" in text  # shown as text


def test_fonts_print_and_phone(fixture_html):
    style = "".join(read_page(fixture_html).styles)
    assert re.search(r'font-family:[^;]*"Noto Sans CJK SC"[^;]*"Microsoft YaHei"', style) or (
        '"Noto Sans CJK SC"' in style and "font-family: var(--font)" in style
    )
    assert "@page { size: A4" in style and "@media print" in style
    assert '<meta name="viewport" content="width=device-width' in fixture_html


def test_appendix_lists_every_assumption_and_submitter(fixture_html):
    text = "".join(read_page(fixture_html).text)
    appendix = text[text.rindex("附录二 假设与参数") :]
    for item in config.load("assumptions.yaml")["assumptions"]:
        assert item["text"] in appendix
    quality = text[text.rindex("附录一 各单位数据质量") : text.rindex("附录二 假设与参数")]
    for sub in load_registry().submitters:
        if sub.type in ("街道", "区安委会成员单位"):
            assert sub.name in quality


def test_every_sample_quarter_matches_the_ledger(sample_warehouse, tmp_path):
    """On the warehouse the real pipeline built from the sample, every quarter's report shows
    the figures the ledger gives."""
    from pipelines import periods

    last = periods.Quarter.parse(sample_warehouse.quarters[-1])
    after_due = periods.due_date(last) + dt.timedelta(days=20)  # every sample quarter is due
    con = sample_warehouse.connect()
    try:
        for quarter in sample_warehouse.quarters:
            out = write_report(con, quarter, tmp_path, today=after_due)
            assert_first_screen_matches(
                out.read_text(encoding="utf-8"), ledger_figures(con, quarter)
            )
    finally:
        con.close()


def test_assumption_values_are_shown_in_words_not_configuration_keys():
    """A leader reads the appendix: no snake_case configuration key may leak into a value."""
    import re

    from pipelines.outputs.report import assumptions

    leaked = {a.key: a.value for a in assumptions() if re.search(r"[a-z]+_[a-z_]+", a.value)}
    assert leaked == {}
