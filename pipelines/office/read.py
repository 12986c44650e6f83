"""What the console, the report and the letters read about the office's work.

From the journal (always current, no warehouse needed): `decisions(paths, quarter, submitter)`,
`lock_state` (re-exported from decisions). From a read-only warehouse connection: `board` (the
quarter's reporting_status rows, as of a day), `versions` and `issues` of one return, and
`actions_for_report` (office_actions as the report's appendix lists them).

`set_as_of(con, day)` is how "today" reaches the views on a connection: reporting_status counts
deadlines from as_of_date() (sql/03_office.sql), the current date unless the session variable
jibao_today is set. Analysts leave it unset; the pipeline, the report and tests set it to their
`today`, so a letter and the view it was built from agree on what is due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.office import journal
from pipelines.office.decisions import LockState, is_locked, lock_state
from pipelines.office.journal import OfficeAction
from pipelines.paths import Paths

__all__ = [
    "LockState",
    "Version",
    "actions_for_report",
    "board",
    "decisions",
    "is_locked",
    "issues",
    "lock_state",
    "set_as_of",
    "versions",
]

AS_OF_VARIABLE = "jibao_today"


def set_as_of(con: duckdb.DuckDBPyConnection, day: dt.date | None) -> None:
    """Make this connection's views count deadlines as of `day` (None: the current date)."""
    if day is None:
        con.execute(f"reset variable {AS_OF_VARIABLE}")
    else:
        con.execute(f"set variable {AS_OF_VARIABLE} = ?::date", [day.isoformat()])


def decisions(
    paths: Paths, *, quarter: str | None = None, submitter: str | None = None
) -> list[OfficeAction]:
    """The office's decisions in the order taken (a quarter's close/reopen included when a
    submitter is asked for: they concern every return of it)."""
    out = journal.read_actions(paths, quarter)
    if submitter:
        out = [a for a in out if a.submitter in (submitter, None)]
    return out


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def board(
    con: duckdb.DuckDBPyConnection, quarter: str, *, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """One dict per reporting_status row of `quarter` (units × forms owed), in registry order:
    state, state_label, due, received_after_lock, versions, first times."""
    if today is not None:
        set_as_of(con, today)
    return _rows(
        con,
        """
        select r.* from reporting_status as r
        left join (select submitter, row_number() over () as position from submitters) as o
            using (submitter)
        where r.quarter = ? and r.expected
        order by o.position nulls last, r.submitter, r.form
        """,
        [quarter],
    )


@dataclass(frozen=True, slots=True)
class Version:
    submission_id: int
    original_name: str | None
    archive_path: str | None
    received_at: dt.datetime | None
    channel: str | None
    received_by: str | None
    status: str
    is_official: bool
    sent_back: bool
    received_after_lock: bool
    on_time: bool | None
    reason: str | None


def versions(
    con: duckdb.DuckDBPyConnection, submitter: str, form: str, quarter: str
) -> list[Version]:
    """Every version of one return, oldest first."""
    rows = con.execute(
        """
        select submission_id, original_name, archive_path, received_at, channel, received_by,
            status, coalesce(is_official, false), coalesce(sent_back, false),
            coalesce(received_after_lock, false), on_time, reason
        from submissions
        where submitter = ? and form = ? and quarter = ?
        order by received_at, submission_id
        """,
        [submitter, form, quarter],
    ).fetchall()
    return [Version(*r) for r in rows]


def issues(con: duckdb.DuckDBPyConnection, submission_id: int) -> list[dict[str, Any]]:
    """The issues of one version, in order: severity, rule, cell, value, message, status,
    explanation, and whether the office may explain it (`explainable`)."""
    from pipelines.office.policy import explainable_rules

    allowed = explainable_rules()
    out = _rows(
        con,
        """
        select issue_id, severity, rule, cell, row_key, column_id, value, message, status,
            explanation
        from validation_issues where submission_id = ? order by seq
        """,
        [submission_id],
    )
    for row in out:
        row["explainable"] = row["rule"] in allowed
    return out


def actions_for_report(con: duckdb.DuckDBPyConnection, quarter: str) -> list[dict[str, Any]]:
    """The quarter's decisions as the report's appendix lists them: when, who, what, which
    return (a send-back names the file it returned), the reason."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where table_name = 'office_actions'"
    ).fetchall()[0][0]
    if not exists:
        return []
    return _rows(
        con,
        """
        select a.seq, a.acted_at, a.actor, a.action, a.action_label, a.submitter, a.form,
            f.name as form_name, a.target, s.original_name as target_file, a.reason, a.source
        from office_actions as a
        left join forms as f on f.form = a.form
        left join submissions as s
            on a.action = 'send_back' and s.submission_id = try_cast(a.target as bigint)
        where a.quarter = ?
        order by a.seq
        """,
        [quarter],
    )
