"""The leaders' quarterly progress report: one self-contained HTML file per quarter.

Every figure is read from the warehouse's indicator views (never recomputed from raw values
here), so the report, the notebooks and the consolidated return agree. Territorial (街道) and
sectoral (区安委会成员单位) figures are shown side by side and never added together. The file
embeds plotly.js once and references nothing outside itself, so it opens offline, on a phone,
and prints on A4.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import polars as pl

from pipelines import config, periods
from pipelines.forms import FORM_IDS, get_form
from pipelines.fsio import atomic_write_text
from pipelines.outputs import charts, tables
from pipelines.registry import DEPT, STREET, load_registry

TEMPLATES = Path(__file__).with_name("report_templates")
TYPES = (STREET, DEPT)
TYPE_LABEL = {STREET: "街道（属地口径）", DEPT: "区安委会成员单位（行业口径）"}
SHORT_TYPE = {STREET: "街道", DEPT: "成员单位"}


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
    html = render_report(con, quarter, today=today)
    return atomic_write_text(out, html)


def render_report(
    con: duckdb.DuckDBPyConnection, quarter: str, *, today: dt.date | None = None
) -> str:
    """The report as one HTML string."""
    from pipelines.office import read as office  # the office's decisions (appendix three)

    office.set_as_of(con, today)  # the views' "today" (reporting_status.due) is the report's date
    data = gather(con, quarter)
    context = _context(data, today or dt.date.today())
    context["office_actions"] = office.actions_for_report(con, quarter)
    return _environment().get_template("report.html.j2").render(**context)


@cache
def _environment() -> jinja2.Environment:
    """One environment per process, so the template is compiled once, not once per quarter
    (it still reloads when the file changes)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    return env


# ---------------------------------------------------------------- reading the views


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pl.DataFrame:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return pl.DataFrame(rows, schema=cols, orient="row", infer_schema_length=None)


@dataclass
class ReportData:
    """What the report shows, read once from the warehouse views."""

    quarter: periods.Quarter
    reporting: pl.DataFrame  # reporting_status, returns owed, quarters up to this one
    targets: pl.DataFrame  # target_progress, this quarter, 街道 and district rows
    risk: pl.DataFrame  # risk_distribution, this and the previous quarter
    closure: pl.DataFrame  # hazard_closure, quarters up to this one
    venue_hazards: pl.DataFrame  # 表四 self-inspection per category (unit_values), this quarter
    scores: pl.DataFrame  # performance_scores, this quarter
    issues: pl.DataFrame  # open issues of this quarter's current returns
    submitters: pl.DataFrame  # the registry's 街道 and member departments


def gather(con: duckdb.DuckDBPyConnection, quarter: str) -> ReportData:
    q = periods.Quarter.parse(quarter)
    return ReportData(
        quarter=q,
        reporting=_frame(
            con,
            """select quarter, submitter, submitter_type, form, received, accepted, on_time,
                      late, missing, versions, status_label
               from reporting_status where expected and quarter <= ?""",
            [quarter],
        ),
        targets=_frame(
            con,
            """select level, submitter, measure, measure_label, unit, actual, target, share,
                      pace, status
               from target_progress where quarter = ?""",
            [quarter],
        ),
        risk=_frame(
            con,
            """select level, quarter, submitter_type, submitter, form, category, category_label,
                      base, red, orange, yellow, blue, assessed, coverage
               from risk_distribution where quarter in (?, ?)""",
            [quarter, str(q.prev())],
        ),
        closure=_frame(
            con,
            """select level, quarter, submitter_type, submitter, form, kind, found, fixed, rate
               from hazard_closure where quarter <= ?""",
            [quarter],
        ),
        venue_hazards=_frame(
            con,
            """select row_key as category,
                      sum(value) filter (where column_id = 'hazards_found') as found,
                      sum(value) filter (where column_id = 'hazards_fixed') as fixed
               from unit_values
               where quarter = ? and form = 'form4' and submitter_type = ?
               group by row_key""",
            [quarter, STREET],
        ),
        scores=_scores(con, quarter),
        issues=_frame(
            con,
            """select s.submitter, s.form, s.original_name, i.severity, i.cell, i.message
               from validation_issues i join submissions s using (submission_id)
               where s.quarter = ? and i.status = 'open' and s.superseded_by is null
               order by s.submitter, s.form, i.severity, i.cell""",
            [quarter],
        ),
        submitters=_frame(
            con,
            "select submitter, submitter_type from submitters where submitter_type in (?, ?)",
            list(TYPES),
        ),
    )


def _scores(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    return _frame(
        con,
        f"""select submitter, submitter_type, {", ".join(tables.SCORE_PARTS)}, score,
                   rank_in_type
            from performance_scores where quarter = ?""",
        [quarter],
    )


# ---------------------------------------------------------------- figures and findings


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}%}"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


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


# target_progress.status (target_status_bands) → the CSS/table class
STATUS_KEY = {label: key for key, label in tables.STATUS_LABEL.items()}


def reporting_summary(reporting: pl.DataFrame, quarter: str) -> dict[str, Any]:
    """Returns owed this quarter: rates as in reporting_summary (accepted ÷ owed, on time ÷
    owed), counted over returns, which are the same thing for both submitter types."""
    now = reporting.filter(pl.col("quarter") == quarter)
    count = {c: now.filter(pl.col(c)).height for c in ("received", "accepted", "on_time", "late")}
    owed = now.height
    by_type = {
        t: _ratio(part.filter(pl.col("accepted")).height, part.height)
        for t in TYPES
        if (part := now.filter(pl.col("submitter_type") == t)).height
    }
    return {
        "owed": owed,
        **count,
        "not_received": owed - count["received"],
        "rejected": count["received"] - count["accepted"],
        "reporting_rate": _ratio(count["accepted"], owed),
        "on_time_rate": _ratio(count["on_time"], owed),
        "by_type": by_type,
    }


def district_targets(targets: pl.DataFrame) -> list[dict[str, Any]]:
    """The district rows of target_progress (the 街道 summed by the view)."""
    rows = targets.filter(pl.col("level") == "district").to_dicts()
    order = {k: i for i, k in enumerate(config.load("targets.yaml")["measures"])}
    rows.sort(key=lambda r: order.get(r["measure"], len(order)))
    return [{**r, "status_key": STATUS_KEY.get(r["status"] or "")} for r in rows]


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


def _report_cfg() -> dict[str, Any]:
    return config.load("assumptions.yaml")["report"]


def _form_names(forms: list[str]) -> str:
    return "、".join(get_form(f).name for f in sorted(forms))


def _per_unit(frame: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    groups = _sorted(frame).partition_by("submitter", as_dict=True, maintain_order=True)
    return [(name, part) for (name,), part in groups.items()]


def findings(data: ReportData) -> list[str]:
    """Plain-language findings, most pressing first; each names units and numbers."""
    q = str(data.quarter)
    out: list[str] = []

    behind = _units(data.targets).filter(pl.col("status") == tables.STATUS_LABEL["behind"])
    for name, part in _per_unit(behind):
        items = "；".join(
            f"「{r['measure_label']}」完成 {_num(r['actual'])}/{_num(r['target'])} "
            f"{r['unit']}（{_pct(r['share'], 0)}）"
            for r in part.iter_rows(named=True)
        )
        out.append(f"{name}十百千万进度落后于时序进度（{_pct(part['pace'].max(), 0)}）：{items}。")

    now = data.reporting.filter(pl.col("quarter") == q)
    absent = now.filter(~pl.col("received"))
    if absent.height:
        parts = [f"{n}（{_form_names(p['form'].to_list())}）" for n, p in _per_unit(absent)]
        out.append(f"{len(parts)} 个单位共 {absent.height} 份报表未报送：{'、'.join(parts)}。")
    rejected = now.filter(pl.col("received") & ~pl.col("accepted"))
    if rejected.height:
        parts = [f"{n}（{_form_names(p['form'].to_list())}）" for n, p in _per_unit(rejected)]
        out.append(f"{rejected.height} 份报表未通过校验、待更正后重报：{'、'.join(parts)}。")
    late = now.filter(pl.col("late"))
    if late.height:
        parts = [f"{n}（{_form_names(p['form'].to_list())}）" for n, p in _per_unit(late)]
        out.append(f"逾期报送 {late.height} 份：{'、'.join(parts)}。")

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
            f"{r['submitter']}（{_pct(r['rate'])}，{_num(r['found'] - r['fixed'])} 条未整改）"
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
                f"{r['submitter']} {_num(r['red_prev'])}→{_num(r['red'])} 家"
                for r in _sorted(rose).iter_rows(named=True)
            )
            out.append(f"{what}较上季度增加：{items}。")
    return out


# ---------------------------------------------------------------- tables and charts


def _first_by(frame: pl.DataFrame, *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The first row (as a dict) for each combination of `keys`: one pass over the frame
    instead of a filter per table cell."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in frame.iter_rows(named=True):
        out.setdefault(tuple(row[k] for k in keys), row)
    return out


def _target_wide(targets: pl.DataFrame) -> pl.DataFrame:
    rows = []
    streets = _sorted(_units(targets).select("submitter").unique())["submitter"].to_list()
    by_unit = _first_by(targets, "submitter", "measure")
    district = _first_by(targets.filter(pl.col("level") == "district"), "measure")
    measures = _measure_labels(targets)
    for name in [*streets, None]:
        row: dict[str, Any] = {"unit": name or "全区（街道合计）"}
        for key, _ in measures:
            r = district.get((key,), {}) if name is None else by_unit.get((name, key), {})
            has_task = bool(r.get("target"))
            row |= {
                f"{key}_actual": r.get("actual") if has_task else None,
                f"{key}_target": r.get("target") if has_task else None,
                f"{key}_share": r.get("share"),
                f"{key}_status": STATUS_KEY.get(r.get("status") or ""),
            }
        rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def _measure_labels(targets: pl.DataFrame) -> list[tuple[str, str]]:
    """(measure, 「label（unit）」) in configuration order."""
    labels = {
        r["measure"]: f"{r['measure_label']}（{r['unit']}）"
        for r in targets.select("measure", "measure_label", "unit").unique().to_dicts()
    }
    order = {k: i for i, k in enumerate(config.load("targets.yaml")["measures"])}
    return [(m, labels[m]) for m in sorted(labels, key=lambda m: (order.get(m, len(order)), m))]


KIND_FORMS = {"self_inspection": "form1", "inspection": "form3", "penalty": "form3"}


def _closure_wide(data: ReportData) -> pl.DataFrame:
    now = _first_by(
        data.closure.filter(pl.col("quarter") == str(data.quarter)),
        *("submitter_type", "submitter", "kind", "form"),
    )
    rows = []
    for t in TYPES:
        members = _sorted(data.submitters.filter(pl.col("submitter_type") == t))["submitter"]
        for name in [*members.to_list(), f"{t}合计"]:
            row: dict[str, Any] = {"unit": name, "unit_type": TYPE_LABEL[t]}
            for kind, form in KIND_FORMS.items():
                r = now.get((t, name, kind, form), {})
                row |= {
                    f"{kind}_found": r.get("found"),
                    f"{kind}_fixed": r.get("fixed"),
                    f"{kind}_rate": r.get("rate"),
                }
            rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def _venues_frame(data: ReportData) -> pl.DataFrame:
    """九小场所 per category over the 街道: risk from risk_distribution (type total), hazards
    from unit_values (hazard_closure keeps only the 总数 row)."""
    risk = _type_totals(data.risk).filter(
        (pl.col("quarter") == str(data.quarter))
        & (pl.col("form") == "form4")
        & (pl.col("submitter_type") == STREET)
    )
    keys = [r.key for r in get_form("form4").rows]
    frame = (
        pl.DataFrame({"category": keys, "label": [get_form("form4").row(k).label for k in keys]})
        .join(
            risk.select("category", "base", "red", "orange", "yellow", "blue", "coverage"),
            on="category",
            how="left",
        )
        .join(data.venue_hazards, on="category", how="left")
        .with_columns(rate=pl.col("fixed") / pl.col("found"))
    )
    return frame.drop("category").rename({"label": "category"})


def _scores_frame(data: ReportData) -> pl.DataFrame:
    return _sorted(data.scores).select(
        pl.col("submitter").alias("unit"),
        pl.col("submitter_type").replace_strict(TYPE_LABEL, default=None).alias("unit_type"),
        *(pl.col(c).cast(pl.Float64) for c in tables.SCORE_PARTS),
        pl.col("score").cast(pl.Float64),
        "rank_in_type",
    )


def _quality_frame(data: ReportData) -> pl.DataFrame:
    now = data.reporting.filter(pl.col("quarter") == str(data.quarter))
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for name, form, label in now.select("submitter", "form", "status_label").iter_rows():
        labels[name][form] = label
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
    return pl.DataFrame(rows, infer_schema_length=None)


def _unit_risk(data: ReportData, submitter_type: str) -> pl.DataFrame:
    part = _units(data.risk).filter(
        (pl.col("quarter") == str(data.quarter))
        & (pl.col("form") == "form1")
        & (pl.col("submitter_type") == submitter_type)
    )
    return _sorted(part).rename({"submitter": "unit"})


def _closure_series(data: ReportData) -> pl.DataFrame:
    totals = _type_totals(data.closure).filter(pl.col("kind") == "self_inspection")
    series = {
        ("form1", STREET): "街道·企业（表一）",
        ("form1", DEPT): "成员单位·企业（表一）",
        ("form4", STREET): "街道·九小场所（表四）",
    }
    rows = [
        {
            "quarter": r["quarter"],
            "series": series[(r["form"], r["submitter_type"])],
            "rate": r["rate"],
        }
        for r in totals.to_dicts()
        if (r["form"], r["submitter_type"]) in series and r["rate"] is not None
    ]
    return pl.DataFrame(
        rows, schema={"quarter": pl.String, "series": pl.String, "rate": pl.Float64}
    )


def _timeliness_frame(reporting: pl.DataFrame) -> pl.DataFrame:
    return (
        reporting.group_by("quarter")
        .agg(
            on_time=pl.col("on_time").sum(),
            late=pl.col("late").sum(),
            missing=pl.col("missing").sum(),
        )
        .sort("quarter")
    )


def _charts(data: ReportData) -> dict[str, str]:
    return {name: charts.to_div(fig, f"chart-{name}") for name, fig in figures(data).items()}


def figures(data: ReportData) -> dict[str, charts.Figure]:
    """The report's charts as plotly figure dicts, by name."""
    q = data.quarter
    pace = data.targets["pace"].max() or 0.0
    order = {m: i for i, (m, _) in enumerate(_measure_labels(data.targets))}
    progress = (
        _sorted(_units(data.targets).filter(pl.col("share").is_not_null()))
        .sort(pl.col("measure").replace_strict(order, default=len(order)), maintain_order=True)
        .select(pl.col("submitter").alias("unit"), "measure_label", "share")
    )
    return {
        "progress": charts.progress_vs_pace(progress, pace, f"{q.label}十百千万完成比例与时序进度"),
        "risk_street": charts.risk_by_street(
            _unit_risk(data, STREET), "各街道企业四色风险分级（表一，属地口径）"
        ),
        "risk_dept": charts.risk_by_street(
            _unit_risk(data, DEPT), "各成员单位企业四色风险分级（表一，行业口径）"
        ),
        "closure": charts.closure_trend(
            _closure_series(data), "自查隐患整改率走势（各季度末累计口径）"
        ),
        "timeliness": charts.timeliness(
            _timeliness_frame(data.reporting), "各季度应报报表的报送情况"
        ),
    }


# ---------------------------------------------------------------- assumptions


@dataclass(frozen=True)
class Assumption:
    text: str
    file: str
    key: str
    value: str


def _step(node: Any, segment: str) -> Any:
    """One step of an assumptions.yaml key: a mapping key, `[field=value]`, or a map over a list."""
    if segment.startswith("[") and segment.endswith("]"):
        fld, _, want = segment[1:-1].partition("=")
        return [x for x in node if isinstance(x, dict) and str(x.get(fld)) == want]
    if isinstance(node, list):
        picked = [_step(x, segment) for x in node if isinstance(x, dict)]
        flat = [y for x in picked for y in (x if isinstance(x, list) else [x])]
        return [x for x in flat if x is not None]
    if isinstance(node, dict):
        for k in (segment, int(segment) if segment.isdigit() else None):
            if k is not None and k in node:
                return node[k]
    return None


def resolve_key(data: Any, key: str) -> Any:
    node = data
    for segment in _split_key(key):
        node = _step(node, segment)
        if node is None:
            return None
    if isinstance(node, list) and len(node) == 1 and key.endswith("]"):
        return node[0]
    return node


def _split_key(key: str) -> list[str]:
    out, buf, depth = [], "", 0
    for ch in key:
        if ch == "[":
            if buf:
                out.append(buf)
            buf, depth = "[", 1
        elif ch == "]":
            out.append(buf + "]")
            buf, depth = "", 0
        elif ch == "." and not depth:
            if buf:
                out.append(buf)
            buf = ""
        else:
            buf += ch
    if buf:
        out.append(buf)
    return out


# Configuration keys shown in the appendix, in the words the office uses.
_WORDS = {
    **tables.STATUS_LABEL,
    **tables.SCORE_PARTS,
    "severity": "级别",
    "warning": "提示",
    "error": "错误",
    "max_relative_change": "变化幅度上限",
    "min_absolute_change": "变化量下限",
    "modified_z": "修正Z分数阈值",
    "min_points": "最少期数",
    "Q1": "第一季度",
    "Q2": "第二季度",
    "Q3": "第三季度",
    "Q4": "第四季度",
}


def _glossary() -> dict[str, str]:
    words = dict(_WORDS)
    words |= {f: get_form(f).name for f in FORM_IDS}
    words |= {c.id: c.display for c in get_form("form2").value_columns}  # 十百千万 measures
    words |= {k: v["label"] for k, v in config.load("targets.yaml")["measures"].items()}
    words |= {k: periods.window_label(k) for k in config.load("calendar.yaml")["windows"]}
    return words


def _show(value: Any, words: dict[str, str], limit: int = 240) -> str:
    if value is None:
        return "（未配置）"
    if isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, dict) and "label" in value:
        text = str(value["label"])  # a configured reference (e.g. a scale): its name says it
    elif isinstance(value, dict):
        text = "；".join(f"{words.get(str(k), k)}：{_show(v, words)}" for k, v in value.items())
    elif isinstance(value, list):
        text = "、".join(_show(v, words) for v in value)
    else:
        text = words.get(str(value), str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def assumptions() -> list[Assumption]:
    """Every assumption in assumptions.yaml with the value currently configured for it."""
    out, words = [], _glossary()
    for item in config.load("assumptions.yaml")["assumptions"]:
        value = resolve_key(config.load(item["file"]), str(item["key"]))
        out.append(Assumption(item["text"], item["file"], str(item["key"]), _show(value, words)))
    return out


def unlisted_assumption_files() -> list[str]:
    """Config files with an ASSUMPTION comment but no entry in assumptions.yaml: the report names
    them so that a new assumption cannot hide in a comment."""
    listed = {item["file"] for item in config.load("assumptions.yaml")["assumptions"]}
    root = config.config_dir()
    found = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.yaml")
        if "ASSUMPTION" in p.read_text(encoding="utf-8")
    )
    return [f for f in found if f not in listed and f != "assumptions.yaml"]


# ---------------------------------------------------------------- the page


def _context(data: ReportData, today: dt.date) -> dict[str, Any]:
    q = str(data.quarter)
    office = config.load("office.yaml")
    campaign = periods.campaign(data.quarter.campaign)
    issues = data.issues.head(60)
    cfg = _report_cfg()
    return {
        "title": f"{office['district']}安全生产标准化提升专项行动进展报告",
        "quarter": q,
        "quarter_label": data.quarter.label,
        "campaign_name": campaign.name,
        "office": office,
        "today": today.isoformat(),
        "due": periods.due_date(data.quarter).isoformat(),
        "reporting": reporting_summary(data.reporting, q),
        "targets": district_targets(data.targets),
        "risk": risk_summary(data.risk, q),
        "closure": closure_summary(data.closure, q),
        "findings": findings(data),
        "types": TYPES,
        "type_label": TYPE_LABEL,
        "short_type": SHORT_TYPE,
        "plotly_js": charts.plotly_js(),
        "charts": _charts(data),
        "tables": {
            "targets": tables.target_progress(
                _target_wide(data.targets),
                _measure_labels(data.targets),
                data.targets["pace"].max() or 0.0,
            ),
            "closure": tables.closure_rates(
                _closure_wide(data),
                float(cfg["low_closure_rate"]),
                float(cfg["min_hazards_for_closure"]),
            ),
            "venues": tables.venues(_venues_frame(data)),
            "scores": tables.scores(_scores_frame(data), config.load("scoring.yaml")["weights"])
            if data.scores.height
            else "",
            "quality": tables.data_quality(
                _quality_frame(data), [(f, get_form(f).name) for f in FORM_IDS]
            ),
        },
        "issues": issues.to_dicts(),
        "issues_more": data.issues.height - issues.height,
        "form_name": {f: get_form(f).name for f in FORM_IDS},
        "assumptions": assumptions(),
        "unlisted": unlisted_assumption_files(),
    }
