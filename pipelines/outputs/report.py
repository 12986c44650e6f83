"""The leaders' quarterly progress report: one self-contained HTML file per quarter.

Every figure is read from the warehouse's indicator views (never recomputed from raw values
here), so the report, the notebooks and the consolidated return agree. Territorial (街道) and
sectoral (区安委会成员单位) figures are shown side by side and never added together. The file
embeds plotly.js once and references nothing outside itself, so it opens offline, on a phone,
and prints on A4.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import polars as pl

from pipelines import config, periods
from pipelines.forms import FORM_IDS, get_form
from pipelines.outputs import charts, tables
from pipelines.registry import DEPT, STREET, load_registry

TEMPLATES = Path(__file__).with_name("report_templates")
TYPES = (STREET, DEPT)
TYPE_LABEL = {STREET: "街道（属地口径）", DEPT: "区安委会成员单位（行业口径）"}
KIND_LABEL = {"self": "自查隐患", "inspect": "执法检查发现隐患", "penalty": "行政处罚隐患"}


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
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out


def render_report(
    con: duckdb.DuckDBPyConnection, quarter: str, *, today: dt.date | None = None
) -> str:
    """The report as one HTML string."""
    data = gather(con, quarter)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    context = _context(data, today or dt.date.today())
    return env.get_template("report.html.j2").render(**context)


# ---------------------------------------------------------------- reading the views


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pl.DataFrame:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return pl.DataFrame(rows, schema=cols, orient="row", infer_schema_length=None)


@dataclass
class ReportData:
    """What the report shows, read once from the warehouse."""

    quarter: periods.Quarter
    reporting: pl.DataFrame  # quarter ≤ this one: submitter, submitter_type, form, status, on_time
    targets: pl.DataFrame  # this quarter: submitter, measure, target, actual, share, pace, status
    risk: pl.DataFrame  # this and the previous quarter, 表一 own rows and 表四 categories
    closure: pl.DataFrame  # quarter ≤ this one
    scores: pl.DataFrame
    issues: pl.DataFrame  # open issues of this quarter's current submissions
    submitters: pl.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)


def gather(con: duckdb.DuckDBPyConnection, quarter: str) -> ReportData:
    q = periods.Quarter.parse(quarter)
    prev = str(q.prev())
    return ReportData(
        quarter=q,
        reporting=_frame(
            con,
            """select quarter, submitter, submitter_type, form, status, on_time,
                      first_received_at, submissions
               from reporting_status where quarter <= ?""",
            [quarter],
        ),
        targets=_frame(
            con,
            """select submitter, measure, target, actual, share, pace, status
               from target_progress where quarter = ?""",
            [quarter],
        ),
        risk=_frame(
            con,
            """select quarter, submitter, submitter_type, form, row_key,
                      base, red, orange, yellow, blue
               from risk_distribution
               where quarter in (?, ?)
                 and (form = 'form4' or row_key = case submitter_type when '街道' then 'street'
                                                                      else 'dept' end)""",
            [quarter, prev],
        ),
        closure=_frame(
            con,
            """select quarter, submitter, submitter_type, form, row_key, kind, found, fixed
               from hazard_closure
               where quarter <= ?
                 and (form = 'form4' or row_key = case submitter_type when '街道' then 'street'
                                                                      else 'dept' end)""",
            [quarter],
        ),
        scores=_frame(
            con,
            "select submitter, submitter_type, score from performance_scores where quarter = ?",
            [quarter],
        ),
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
            "select name as submitter, type as submitter_type from submitters "
            "where type in (?, ?)",
            list(TYPES),
        ),
    )
