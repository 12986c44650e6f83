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

from pipelines import config, periods
from pipelines.outputs import tables
from pipelines.outputs.unassigned import UnassignedFile, unassigned_files
from pipelines.registry import DEPT, STREET

TYPES = (STREET, DEPT)

# reporting_status.state, in display order, and the words shown when the view has no
# state_label yet (calendar.yaml › collection.states is the configured source).
STATES = ("on_time", "late", "sent_back", "missing", "not_due")
_STATE_WORDS = {
    "not_due": "未到期",
    "on_time": "按时报送",
    "late": "逾期报送",
    "sent_back": "退回待重报",
    "missing": "未报送",
}


def state_words() -> dict[str, str]:
    """state → the office's word for it (calendar.yaml › collection.states)."""
    configured = config.load("calendar.yaml").get("collection", {}).get("states") or {}
    return {**_STATE_WORDS, **configured}


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


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where table_name = ?", [relation]
        ).fetchall()
    }


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
    actions: pl.DataFrame  # the office's decisions on this quarter (office_actions), if any

    @property
    def official(self) -> bool:
        """Whether any return of the quarter is official yet (figures exist to show)."""
        now = self.reporting.filter(pl.col("quarter") == str(self.quarter))
        return bool(now["accepted"].any()) if now.height else False


def _reporting(con: duckdb.DuckDBPyConnection, quarter: str, today: dt.date) -> pl.DataFrame:
    """reporting_status rows owed up to `quarter`, with the collection-window columns `state`,
    `state_label`, `due`, `received_after_lock`. Where the view does not have them yet they are
    derived here from the older columns by the same rule (due: the due date is past)."""
    have = _columns(con, "reporting_status")
    window = [c for c in ("state", "state_label", "due", "received_after_lock") if c in have]
    cols = ["quarter", "submitter", "submitter_type", "form", "received", "accepted", "on_time",
            "late", "missing", "versions", *window]  # fmt: skip
    out = frame(
        con,
        f"select {', '.join(cols)} from reporting_status where expected and quarter <= ?",
        [quarter],
    )
    if "state" not in out.columns:
        due = [not periods.is_on_time(periods.Quarter.parse(q), today) for q in out["quarter"]]
        out = out.with_columns(due=pl.Series(due, dtype=pl.Boolean)).with_columns(
            state=pl.when(pl.col("on_time"))
            .then(pl.lit("on_time"))
            .when(pl.col("late"))
            .then(pl.lit("late"))
            .when(pl.col("received") & ~pl.col("accepted"))
            .then(pl.lit("sent_back"))
            .when(pl.col("due"))
            .then(pl.lit("missing"))
            .otherwise(pl.lit("not_due")),
        )
        out = out.with_columns(missing=pl.col("due") & ~pl.col("accepted"))
    words = state_words()
    if "state_label" not in out.columns:
        out = out.with_columns(state_label=pl.col("state").replace_strict(words, default=None))
    if "received_after_lock" not in out.columns:
        out = out.with_columns(received_after_lock=pl.lit(False))
    return out


def _actions(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    cols = _columns(con, "office_actions")
    if not {"acted_at", "actor", "action", "quarter"} <= cols:
        return pl.DataFrame()
    label = "action_label" if "action_label" in cols else "action"
    return frame(
        con,
        f"""select acted_at, actor, {label} as action, submitter, form, target, reason
            from office_actions where quarter = ? order by acted_at""",
        [quarter],
    )


def gather(
    con: duckdb.DuckDBPyConnection, quarter: str, *, today: dt.date | None = None
) -> ReportData:
    q = periods.Quarter.parse(quarter)
    today = today or dt.date.today()
    # The views count deadlines from as_of_date(), the session's jibao_today when set: the report
    # is dated `today`, so its states are those of that day.
    con.execute(f"set variable jibao_today = date '{today.isoformat()}'")
    return ReportData(
        quarter=q,
        today=today,
        reporting=_reporting(con, quarter, today),
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
        actions=_actions(con, quarter),
    )
