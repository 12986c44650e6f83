"""What the progress report shows, read once per quarter from the warehouse's views.

Every figure comes from an indicator view (never recomputed from raw values here), so the report,
the notebooks and the consolidated return agree. Frames are typed from the query, so a quarter
with little or nothing in it (early in its collection window) reads like a full one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from pipelines import clock, config, periods
from pipelines.outputs import tables
from pipelines.outputs.unassigned import UnassignedFile, unassigned_files
from pipelines.registry import DEPT, STREET

TYPES = (STREET, DEPT)

# reporting_status.state, in display order (the words: calendar.yaml › collection.states).
STATES = ("on_time", "late", "sent_back", "missing", "not_due")


def state_words() -> dict[str, str]:
    """state → the office's word for it (calendar.yaml › collection.states)."""
    return dict(config.load("calendar.yaml")["collection"]["states"])


_DTYPES = {
    "VARCHAR": pl.String,
    "BOOLEAN": pl.Boolean,
    "DOUBLE": pl.Float64,
    "FLOAT": pl.Float64,
    "DATE": pl.Date,
    "TIMESTAMP": pl.Datetime("us"),
    **dict.fromkeys(("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"), pl.Int64),
}


def _dtype(duck_type: object) -> pl.DataType | None:
    name = str(duck_type).upper()
    return pl.Float64 if name.startswith("DECIMAL") else _DTYPES.get(name)


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pl.DataFrame:
    """A query as a frame whose column types come from the query, so that an empty result (a
    quarter with no 表四 yet) still joins and filters like a full one."""
    cur = con.execute(sql, params)
    schema = {d[0]: _dtype(d[1]) for d in cur.description}
    rows = cur.fetchall()
    if all(t is not None for t in schema.values()):
        return pl.DataFrame(rows, schema=schema, orient="row")
    return pl.DataFrame(rows, schema=list(schema), orient="row", infer_schema_length=None)


@dataclass
class ReportData:
    """What the report shows, read once from the warehouse views."""

    quarter: periods.Quarter
    today: dt.date
    reporting: pl.DataFrame  # reporting_status, returns owed, quarters up to this one
    targets: pl.DataFrame  # target_progress, this quarter, 街道 and district rows
    risk: pl.DataFrame  # risk_distribution, this and the previous quarter
    closure: pl.DataFrame  # hazard_closure, quarters up to this one
    venue_hazards: pl.DataFrame  # 表四 self-inspection per category (unit_values), this quarter
    scores: pl.DataFrame  # performance_scores, this quarter
    issues: pl.DataFrame  # open issues of this quarter's current returns
    submitters: pl.DataFrame  # the registry's 街道 and member departments
    unassigned: list[UnassignedFile]  # files of this quarter with no recognised submitter

    @property
    def official(self) -> bool:
        """Whether any return of the quarter is official yet (figures exist to show)."""
        now = self.reporting.filter(pl.col("quarter") == str(self.quarter))
        return bool(now["accepted"].any()) if now.height else False


def _reporting(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    """reporting_status rows owed up to `quarter`, with their collection-window state."""
    return frame(
        con,
        """select quarter, submitter, submitter_type, form, received, accepted, on_time, late,
                  missing, versions, state, state_label, due, received_after_lock
           from reporting_status where expected and quarter <= ?""",
        [quarter],
    )


def gather(
    con: duckdb.DuckDBPyConnection, quarter: str, *, today: dt.date | None = None
) -> ReportData:
    from pipelines.office import read as office

    q = periods.Quarter.parse(quarter)
    today = today or clock.today()
    office.set_as_of(con, today)  # the views count deadlines as of the report's date
    return ReportData(
        quarter=q,
        today=today,
        reporting=_reporting(con, quarter),
        targets=frame(
            con,
            """select level, submitter, measure, measure_label, unit, actual, target, share,
                      pace, status, district_goal
               from target_progress where quarter = ?""",
            [quarter],
        ),
        risk=frame(
            con,
            """select level, quarter, submitter_type, submitter, form, category, category_label,
                      base, red, orange, yellow, blue, assessed, coverage
               from risk_distribution where quarter in (?, ?)""",
            [quarter, str(q.prev())],
        ),
        closure=frame(
            con,
            """select level, quarter, submitter_type, submitter, form, kind, found, fixed, rate
               from hazard_closure where quarter <= ?""",
            [quarter],
        ),
        venue_hazards=frame(
            con,
            """select row_key as category,
                      sum(value) filter (where column_id = 'hazards_found') as found,
                      sum(value) filter (where column_id = 'hazards_fixed') as fixed
               from unit_values
               where quarter = ? and form = 'form4' and submitter_type = ?
               group by row_key""",
            [quarter, STREET],
        ),
        scores=frame(
            con,
            f"""select submitter, submitter_type, {", ".join(tables.SCORE_PARTS)}, score,
                       rank_in_type
                from performance_scores where quarter = ?""",
            [quarter],
        ),
        issues=frame(
            con,
            """select s.submitter, s.form, s.original_name, i.severity, i.cell, i.message
               from validation_issues i join submissions s using (submission_id)
               where s.quarter = ? and i.status = 'open' and s.superseded_by is null
               order by s.submitter nulls last, s.form, i.severity, i.cell""",
            [quarter],
        ),
        submitters=frame(
            con,
            "select submitter, submitter_type from submitters where submitter_type in (?, ?)",
            list(TYPES),
        ),
        unassigned=unassigned_files(con, quarter),
    )
