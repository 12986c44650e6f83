"""The leaders' quarterly progress report: one self-contained HTML file per quarter.

The figures come from the indicator views (`report_data.gather`); this module words them
(findings), shapes them into tables and charts and renders the page. Territorial (街道) and
sectoral (区安委会成员单位) figures are shown side by side and never added together. The file
embeds plotly.js once and references nothing outside itself, so it opens offline, on a phone, and
prints on A4 (report.css: no forced page breaks, headings kept with what follows).

Early in a collection window a quarter may have nothing accepted yet: the report then says what
has and has not arrived (未到期 / 已报送 / 退回待重报 …) instead of showing empty figures.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import polars as pl

from pipelines import clock, config, periods
from pipelines.forms import FORM_IDS, get_form
from pipelines.fsio import atomic_write_text
from pipelines.outputs import charts, tables
from pipelines.outputs.appendix import assumptions, unlisted_assumption_files
from pipelines.outputs.report_data import STATES, TYPES, ReportData, gather, state_words
from pipelines.outputs.tables import NA, NO_RETURN, count, percent
from pipelines.registry import DEPT, STREET, load_registry
from pipelines.sanitize import for_template

__all__ = ["ReportData", "figures", "findings", "gather", "render_report", "write_report"]

TEMPLATES = Path(__file__).with_name("report_templates")
TYPE_LABEL = {STREET: "街道（属地口径）", DEPT: "区安委会成员单位（行业口径）"}
SHORT_TYPE = {STREET: "街道", DEPT: "成员单位"}
UNKNOWN_UNIT = "（未识别单位）"
ISSUE_ROWS = 60  # issues listed in the appendix; the letters hold every one


def report_path(reports_dir: Path, quarter: str) -> Path:
    """data/reports/<quarter>/进展报告_<quarter>.html"""
    return reports_dir / quarter / f"进展报告_{quarter}.html"


def write_report(
    con: duckdb.DuckDBPyConnection, quarter: str, out_path: Path, *, today: dt.date | None = None
) -> Path:
    """Write the report for `quarter` and return its path. `out_path` is the .html file itself,
    the quarter's folder (named after the quarter), or the reports root (data/reports)."""
    out = Path(out_path)
    if out.suffix.lower() != ".html":
        out = out / f"进展报告_{quarter}.html" if out.name == quarter else report_path(out, quarter)
    return atomic_write_text(out, render_report(con, quarter, today=today))


def render_report(
    con: duckdb.DuckDBPyConnection, quarter: str, *, today: dt.date | None = None
) -> str:
    """The report as one HTML string."""
    from pipelines.office import read as office  # the office's decisions (appendix three)

    data = gather(con, quarter, today=today or clock.today())
    context = _context(data)
    context["office_actions"] = office.actions_for_report(con, quarter)
    return _environment().get_template("report.html.j2").render(**context)


@cache
def _environment() -> jinja2.Environment:
    """One environment per process, so the template is compiled once, not once per quarter
    (it still reloads when the file changes). Every value is made visible (sanitize) and
    escaped; None prints as nothing."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=for_template,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    env.filters["cn_date"] = _cn_date
    return env


# ---------------------------------------------------------------- small helpers


def _pct(value: float | None, digits: int = 1) -> str:
    return percent(value, digits)


def _num(value: float | None) -> str:
    return tables.amount(value)


def _cn_date(day: dt.date | dt.datetime | None) -> str:
    return "" if day is None else f"{day.year}年{day.month}月{day.day}日"


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num is not None and den else None


def _sorted(frame: pl.DataFrame, column: str = "submitter") -> pl.DataFrame:
    """Rows in registry order (the order the office lists its units in), others last."""
    order = {s.name: i for i, s in enumerate(load_registry().submitters)}
    key = pl.col(column).replace_strict(order, default=len(order), return_dtype=pl.Int64)
    return frame.sort(key, pl.col(column))


def _units(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("level") == "submitter")


def _type_totals(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("level") == "type_total")


def _now(data: ReportData) -> pl.DataFrame:
    return data.reporting.filter(pl.col("quarter") == str(data.quarter))


def _official(data: ReportData, form: str) -> set[str]:
    """Units with an accepted (official) return of `form` this quarter."""
    now = _now(data).filter((pl.col("form") == form) & pl.col("accepted"))
    return set(now["submitter"].to_list())


# target_progress.status (target_status_bands) → the CSS/table class
STATUS_KEY = {label: key for key, label in tables.STATUS_LABEL.items()}


def _band(ratio: float | None) -> str | None:
    """The status key of a share ÷ pace ratio, by targets.yaml › status."""
    if ratio is None:
        return None
    bands = config.load("targets.yaml")["status"]
    if ratio >= float(bands["ahead"]):
        return "ahead"
    return "on_track" if ratio >= float(bands["on_track"]) else "behind"


# ---------------------------------------------------------------- the first screen


def reporting_summary(reporting: pl.DataFrame, quarter: str) -> dict[str, Any]:
    """Returns owed this quarter, by collection-window state. Rates count only what is due
    (reporting_status.due): accepted ÷ due and on time ÷ due, None while nothing is due."""
    now = reporting.filter(pl.col("quarter") == quarter)
    due = now.filter(pl.col("due"))
    states = Counter(now["state"].to_list())
    by_type = {
        t: _ratio(part.filter(pl.col("state") == "on_time").height, part.height)
        for t in TYPES
        if (part := due.filter(pl.col("submitter_type") == t)).height
    }
    return {
        "owed": now.height,
        "due": due.height,
        "received": now.filter(pl.col("received")).height,
        "accepted": now.filter(pl.col("accepted")).height,
        "due_accepted": due.filter(pl.col("accepted")).height,
        "states": {s: states.get(s, 0) for s in STATES},
        "held": now.filter(pl.col("received_after_lock")).height,
        "reporting_rate": _ratio(due.filter(pl.col("accepted")).height, due.height),
        "on_time_rate": _ratio(due.filter(pl.col("state") == "on_time").height, due.height),
        "on_time_by_type": by_type,
    }


def district_targets(targets: pl.DataFrame) -> list[dict[str, Any]]:
    """The district rows of target_progress (the 街道 summed by the view), each also against the
    notice's district goal (「…以上」): goal_share and goal_status (done once reached), which is
    the status the report gives the district."""
    rows = targets.filter(pl.col("level") == "district").to_dicts()
    order = {k: i for i, k in enumerate(config.load("targets.yaml")["measures"])}
    rows.sort(key=lambda r: order.get(r["measure"], len(order)))
    out = []
    for r in rows:
        goal, actual, pace = r.get("district_goal"), r.get("actual"), r.get("pace")
        goal_share = _ratio(actual or 0.0, goal) if goal else None
        if goal_share is None:
            goal_status = STATUS_KEY.get(r["status"] or "")
        elif goal_share >= 1:
            goal_status = "done"
        else:
            goal_status = _band(_ratio(goal_share, pace))
        out.append(
            {
                **r,
                "status_key": STATUS_KEY.get(r["status"] or ""),
                "goal_share": goal_share,
                "goal_status": goal_status,
                "goal_status_label": tables.STATUS_LABEL.get(goal_status or "", "无任务"),
            }
        )
    return out


def risk_summary(risk: pl.DataFrame, quarter: str) -> dict[str, Any]:
    """Red/orange per type from 表一 and for the 九小场所 (表四 总数 row), never mixed."""
    now = _type_totals(risk.filter(pl.col("quarter") == quarter))
    ent = {r["submitter_type"]: r for r in now.filter(pl.col("form") == "form1").to_dicts()}
    venues = now.filter((pl.col("form") == "form4") & (pl.col("category") == "total"))
    return {"enterprises": ent, "venues": venues.to_dicts()[0] if venues.height else {}}


def closure_summary(closure: pl.DataFrame, quarter: str) -> dict[str, dict[str, Any]]:
    """Self-inspection closure (表一 整改 ÷ 自查) per type."""
    now = _type_totals(closure).filter(
        (pl.col("quarter") == quarter)
        & (pl.col("form") == "form1")
        & (pl.col("kind") == "self_inspection")
    )
    return {r["submitter_type"]: r for r in now.to_dicts()}


# ---------------------------------------------------------------- findings


def _report_cfg() -> dict[str, Any]:
    return config.load("assumptions.yaml")["report"]


def _form_names(forms: list[str]) -> str:
    return "、".join(get_form(f).name for f in sorted(forms))


def _per_unit(frame: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    groups = _sorted(frame).partition_by("submitter", as_dict=True, maintain_order=True)
    return [(name, part) for (name,), part in groups.items()]


def _unit_forms(frame: pl.DataFrame) -> list[str]:
    return [f"{n}（{_form_names(p['form'].to_list())}）" for n, p in _per_unit(frame)]


def findings(data: ReportData) -> list[str]:
    """Plain-language findings, most pressing first; each names units and numbers."""
    q = str(data.quarter)
    out: list[str] = []
    now = _now(data)

    waiting = now.filter(pl.col("state") == "not_due")
    if waiting.height:
        due = periods.due_date(data.quarter)
        got = now.filter(pl.col("received")).height
        head = f"本季度报送截止日为 {_cn_date(due)}，截至 {_cn_date(data.today)} 尚未到期"
        if got == 0:
            out.append(f"{head}，尚未收到本季度的报表（应报 {now.height} 份）。")
        else:
            parts = _unit_forms(waiting)
            out.append(
                f"{head}：应报 {now.height} 份，已收到 {got} 份；尚有 {len(parts)} 个单位的 "
                f"{waiting.height} 份报表未收到：{'、'.join(parts)}。"
            )

    behind = _units(data.targets).filter(pl.col("status") == tables.STATUS_LABEL["behind"])
    for name, part in _per_unit(behind):
        items = "；".join(
            f"「{r['measure_label']}」完成 {_num(r['actual'])}/{_num(r['target'])} "
            f"{r['unit']}（{_pct(r['share'], 0)}）"
            for r in part.iter_rows(named=True)
        )
        out.append(f"{name}十百千万进度落后于时序进度（{_pct(part['pace'].max(), 0)}）：{items}。")

    absent = now.filter(pl.col("state") == "missing")
    if absent.height:
        parts = _unit_forms(absent)
        out.append(f"{len(parts)} 个单位共 {absent.height} 份报表未报送：{'、'.join(parts)}。")
    sent_back = now.filter(pl.col("state") == "sent_back")
    if sent_back.height:
        parts = _unit_forms(sent_back)
        out.append(f"{sent_back.height} 份报表未通过校验、待更正后重报：{'、'.join(parts)}。")
    late = now.filter(pl.col("state") == "late")
    if late.height:
        out.append(f"逾期报送 {late.height} 份：{'、'.join(_unit_forms(late))}。")
    held = now.filter(pl.col("received_after_lock"))
    if held.height:
        out.append(
            f"本季度审核锁定后收到 {held.height} 份报表（重新开放前不采用）："
            f"{'、'.join(_unit_forms(held))}。"
        )
    if data.unassigned:
        out.append(
            f"{len(data.unassigned)} 个文件未能识别出报送单位，未计入任何单位，详见附录一"
            "「未识别报送单位的文件」。"
        )

    cfg = _report_cfg()
    low, floor = float(cfg["low_closure_rate"]), float(cfg["min_hazards_for_closure"])
    weak = _units(data.closure).filter(
        (pl.col("quarter") == q)
        & (pl.col("form") == "form1")
        & (pl.col("kind") == "self_inspection")
        & (pl.col("found") >= floor)
        & (pl.col("rate") < low)
    )
    if weak.height:
        items = "、".join(
            f"{r['submitter']}（{_pct(r['rate'])}，{count(r['found'] - r['fixed'])} 条未整改）"
            for r in _sorted(weak).iter_rows(named=True)
        )
        out.append(f"自查隐患整改率低于 {_pct(low, 0)}：{items}。")

    out.extend(_red_rises(data.risk, q, str(data.quarter.prev())))
    return out


def _red_rises(risk: pl.DataFrame, q: str, prev: str) -> list[str]:
    """Units whose red count rose against last quarter: 表一 enterprises and 表四 venues (the
    总数 row), each population on its own line. Red counts are long-running cumulative windows,
    so a rise is real even across a campaign year."""
    out = []
    units = _units(risk)
    for form, what in (("form1", "红色风险企业"), ("form4", "红色风险九小场所")):
        part = units.filter(pl.col("form") == form)
        if form == "form4":
            part = part.filter(pl.col("category") == "total")
        now = part.filter(pl.col("quarter") == q).select("submitter", "red")
        before = part.filter(pl.col("quarter") == prev).select("submitter", red_prev="red")
        rose = now.join(before, on="submitter").filter(pl.col("red") > pl.col("red_prev"))
        if rose.height:
            items = "、".join(
                f"{r['submitter']} {count(r['red_prev'])}→{count(r['red'])} 家"
                for r in _sorted(rose).iter_rows(named=True)
            )
            out.append(f"{what}较上季度增加：{items}。")
    return out


# ---------------------------------------------------------------- tables


def _first_by(frame: pl.DataFrame, *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The first row (as a dict) for each combination of `keys`: one pass over the frame
    instead of a filter per table cell."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in frame.iter_rows(named=True):
        out.setdefault(tuple(row[k] for k in keys), row)
    return out


def _measure_labels(targets: pl.DataFrame) -> list[tuple[str, str]]:
    """(measure, 「label（unit）」) in configuration order."""
    cfg = config.load("targets.yaml")["measures"]
    return [(m, f"{spec['label']}（{spec['unit']}）") for m, spec in cfg.items()]


def _target_cells(r: dict[str, Any], reported: bool) -> dict[str, str | None]:
    """One unit × measure of the targets table: 「—」 without a task, 「未报」 without 表二."""
    if not r.get("target"):
        return {"actual": NA, "target": NA, "share": NA, "status": None}
    if not reported:
        return {"actual": NO_RETURN, "target": count(r["target"]), "share": NO_RETURN,
                "status": None}  # fmt: skip
    return {
        "actual": count(r.get("actual")),
        "target": count(r["target"]),
        "share": percent(r.get("share")),
        "status": STATUS_KEY.get(r.get("status") or ""),
    }


def _target_wide(data: ReportData) -> pl.DataFrame:
    streets = _sorted(data.submitters.filter(pl.col("submitter_type") == STREET))["submitter"]
    reported = _official(data, "form2")
    by_unit = _first_by(data.targets, "submitter", "measure")
    district = {r["measure"]: r for r in district_targets(data.targets)}
    measures = _measure_labels(data.targets)
    rows = []
    for name in streets.to_list():
        row: dict[str, Any] = {"unit": name, "kind": "street"}
        for key, _ in measures:
            cells = _target_cells(by_unit.get((name, key), {}), name in reported)
            row |= {f"{key}_{part}": v for part, v in cells.items()}
        rows.append(row)
    total: dict[str, Any] = {"unit": "全区（附件1任务合计）", "kind": "district"}
    goal: dict[str, Any] = {"unit": "全区（通知目标）", "kind": "goal"}
    for key, _ in measures:
        r = district.get(key, {})
        cells = _target_cells(r, bool(reported))
        total |= {f"{key}_{part}": v for part, v in cells.items()}
        g = r.get("district_goal")
        goal |= {
            f"{key}_actual": count(r.get("actual")) if reported else NO_RETURN,
            f"{key}_target": f"≥{count(g)}" if g else NA,
            f"{key}_share": percent(r.get("goal_share")) if g and reported else NA,
            f"{key}_status": r.get("goal_status") if g and reported else None,
        }
    rows += [total, goal]
    return pl.DataFrame(rows, infer_schema_length=None)


KIND_FORMS = {"self_inspection": "form1", "inspection": "form3", "penalty": "form3"}


def _closure_wide(data: ReportData) -> pl.DataFrame:
    now = _first_by(
        data.closure.filter(pl.col("quarter") == str(data.quarter)),
        *("submitter_type", "submitter", "kind", "form"),
    )
    reported = {form: _official(data, form) for form in set(KIND_FORMS.values())}
    rows = []
    for t in TYPES:
        members = _sorted(data.submitters.filter(pl.col("submitter_type") == t))["submitter"]
        for name in [*members.to_list(), f"{t}合计"]:
            row: dict[str, Any] = {"unit": name, "unit_type": TYPE_LABEL[t]}
            for kind, form in KIND_FORMS.items():
                r = now.get((t, name, kind, form), {})
                is_total = name.endswith("合计")
                missing = NO_RETURN if not is_total and name not in reported[form] else NA
                if is_total and not reported[form]:
                    missing = NO_RETURN
                row |= {
                    f"{kind}_found": count(r.get("found"), missing),
                    f"{kind}_fixed": count(r.get("fixed"), missing),
                    f"{kind}_rate": percent(r.get("rate"), 1, missing),
                    f"{kind}_rate_value": r.get("rate"),
                    f"{kind}_found_value": r.get("found"),
                }
            rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def _venues_frame(data: ReportData) -> pl.DataFrame:
    """九小场所 per category over the 街道: risk from risk_distribution (type total), hazards
    from unit_values (hazard_closure keeps only the 总数 row); display texts."""
    risk = _first_by(
        _type_totals(data.risk).filter(
            (pl.col("quarter") == str(data.quarter))
            & (pl.col("form") == "form4")
            & (pl.col("submitter_type") == STREET)
        ),
        "category",
    )
    hazards = _first_by(data.venue_hazards, "category")
    form4 = get_form("form4")
    rows = []
    for r in form4.rows:
        k, h = risk.get((r.key,), {}), hazards.get((r.key,), {})
        found, fixed = h.get("found"), h.get("fixed")
        rows.append(
            {
                "category": r.label,
                **{c: count(k.get(c)) for c in ("base", "red", "orange", "yellow", "blue")},
                "coverage": percent(k.get("coverage"), 1),
                "found": count(found),
                "fixed": count(fixed),
                "rate": percent(_ratio(fixed, found), 1),
            }
        )
    return pl.DataFrame(rows)


def _scores_frame(data: ReportData) -> pl.DataFrame:
    rows = []
    for r in _sorted(data.scores).iter_rows(named=True):
        rows.append(
            {
                "unit": r["submitter"],
                "unit_type": TYPE_LABEL.get(r["submitter_type"], r["submitter_type"]),
                **{c: percent(r[c]) for c in tables.SCORE_PARTS},
                "score": NA if r["score"] is None else f"{r['score']:.1f}",
                "rank_in_type": count(r["rank_in_type"]),
            }
        )
    return pl.DataFrame(rows)


def _quality_frame(data: ReportData) -> pl.DataFrame:
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    held_word = config.load("calendar.yaml")["collection"]["received_after_lock"]
    for r in _now(data).iter_rows(named=True):
        label = r["state_label"] or ""
        if r["received_after_lock"]:
            label += f"（{held_word}）"
        labels[r["submitter"]][r["form"]] = label
    counts = Counter(data.issues.select("submitter", "severity").iter_rows())
    rows = []
    for t in TYPES:
        for name in _sorted(data.submitters.filter(pl.col("submitter_type") == t))["submitter"]:
            rows.append(
                {
                    "unit": name,
                    "unit_type": TYPE_LABEL[t],
                    **{f: labels[name].get(f) for f in FORM_IDS},
                    "errors": counts[name, "error"],
                    "warnings": counts[name, "warning"],
                }
            )
    return pl.DataFrame(
        rows,
        schema={"unit": pl.String, "unit_type": pl.String, **dict.fromkeys(FORM_IDS, pl.String),
                "errors": pl.Int64, "warnings": pl.Int64},
    )  # fmt: skip


# ---------------------------------------------------------------- charts


def _unit_risk(data: ReportData, submitter_type: str) -> pl.DataFrame:
    part = _units(data.risk).filter(
        (pl.col("quarter") == str(data.quarter))
        & (pl.col("form") == "form1")
        & (pl.col("submitter_type") == submitter_type)
    )
    return _sorted(part).rename({"submitter": "unit"})


def _quarter_label(quarter: str) -> str:
    return periods.Quarter.parse(quarter).label


def _closure_series(data: ReportData) -> pl.DataFrame:
    totals = _type_totals(data.closure).filter(pl.col("kind") == "self_inspection")
    series = {
        ("form1", STREET): "街道·企业（表一）",
        ("form1", DEPT): "成员单位·企业（表一）",
        ("form4", STREET): "街道·九小场所（表四）",
    }
    rows = [
        {
            "quarter": _quarter_label(r["quarter"]),
            "order": r["quarter"],
            "series": series[(r["form"], r["submitter_type"])],
            "rate": r["rate"],
        }
        for r in totals.to_dicts()
        if (r["form"], r["submitter_type"]) in series and r["rate"] is not None
    ]
    schema = {"quarter": pl.String, "order": pl.String, "series": pl.String, "rate": pl.Float64}
    return pl.DataFrame(rows, schema=schema).sort("order").drop("order")


def _timeliness_frame(reporting: pl.DataFrame) -> pl.DataFrame:
    counts = {s: pl.col("state").eq(s).sum().cast(pl.Int64).alias(s) for s in charts.TIMELINESS}
    frame = reporting.group_by("quarter").agg(*counts.values()).sort("quarter")
    return frame.with_columns(pl.col("quarter").map_elements(_quarter_label, pl.String))


def figures(data: ReportData) -> dict[str, charts.Figure]:
    """The report's charts as plotly figure dicts, by name (only those with data to show)."""
    q = data.quarter
    pace = data.targets["pace"].max() or 0.0
    order = {m: i for i, (m, _) in enumerate(_measure_labels(data.targets))}
    progress = (
        _sorted(_units(data.targets).filter(pl.col("share").is_not_null()))
        .sort(pl.col("measure").replace_strict(order, default=len(order)), maintain_order=True)
        .select(pl.col("submitter").alias("unit"), "measure_label", "share")
    )
    out: dict[str, charts.Figure] = {}
    if progress.height:
        shown = set(progress["unit"].to_list())
        streets = [s for s in _sorted(data.submitters)["submitter"] if s in shown]
        out["progress"] = charts.progress_vs_pace(
            progress, pace, f"{q.label}十百千万完成比例与时序进度", streets
        )
    for t, name, title in (
        (STREET, "risk_street", "各街道企业四色风险分级（表一，属地口径）"),
        (DEPT, "risk_dept", "各成员单位企业四色风险分级（表一，行业口径）"),
    ):
        if (frame := _unit_risk(data, t)).height:
            out[name] = charts.risk_by_street(frame, title)
    if (series := _closure_series(data)).height:
        out["closure"] = charts.closure_trend(series, "自查隐患整改率走势（各季度末累计口径）")
    out["timeliness"] = charts.timeliness(
        _timeliness_frame(data.reporting), "各季度应报报表的报送情况", state_words()
    )
    return out


# ---------------------------------------------------------------- the page


def _issues(data: ReportData) -> list[dict[str, Any]]:
    rows = data.issues.head(ISSUE_ROWS).to_dicts()
    for r in rows:
        r["unit"] = r["submitter"] or UNKNOWN_UNIT
        r["form_name"] = get_form(r["form"]).name if r["form"] else NA
    return rows


def _tables(data: ReportData) -> dict[str, str]:
    cfg = _report_cfg()
    out = {
        "quality": tables.data_quality(
            _quality_frame(data), [(f, get_form(f).name) for f in FORM_IDS]
        )
    }
    if not data.official:
        return out
    out["targets"] = tables.target_progress(
        _target_wide(data), _measure_labels(data.targets), data.targets["pace"].max() or 0.0
    )
    out["closure"] = tables.closure_rates(
        _closure_wide(data), float(cfg["low_closure_rate"]), float(cfg["min_hazards_for_closure"])
    )
    if _official(data, "form4"):
        out["venues"] = tables.venues(_venues_frame(data))
    if data.scores.height:
        out["scores"] = tables.scores(_scores_frame(data), config.load("scoring.yaml")["weights"])
    return out


def _context(data: ReportData) -> dict[str, Any]:
    q = str(data.quarter)
    office = config.load("office.yaml")
    campaign = periods.campaign(data.quarter.campaign)
    rendered = {name: charts.to_div(fig, f"chart-{name}") for name, fig in figures(data).items()}
    return {
        "title": f"{office['district']}安全生产标准化提升专项行动进展报告",
        "quarter": q,
        "quarter_label": data.quarter.label,
        "campaign_name": campaign.name,
        "office": office,
        "today": _cn_date(data.today),
        "due": _cn_date(periods.due_date(data.quarter)),
        "official": data.official,
        "reporting": reporting_summary(data.reporting, q),
        "state_words": state_words(),
        "targets": district_targets(data.targets),
        "risk": risk_summary(data.risk, q),
        "closure": closure_summary(data.closure, q),
        "findings": findings(data),
        "types": TYPES,
        "type_label": TYPE_LABEL,
        "short_type": SHORT_TYPE,
        "plotly_js": charts.plotly_js(),
        "charts": rendered,
        "tables": _tables(data),
        "issues": _issues(data),
        "issues_total": data.issues.height,
        "issues_more": max(0, data.issues.height - ISSUE_ROWS),
        "unassigned": data.unassigned,
        "form_name": {f: get_form(f).name for f in FORM_IDS},
        "assumptions": assumptions(),
        "unlisted": unlisted_assumption_files(),
        "na": NA,
    }
