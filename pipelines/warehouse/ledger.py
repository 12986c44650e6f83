"""Loading a quarter: the ledger rows, values and issues of the returns received, history rules,
and the official versions — in one transaction, idempotently.

Idempotent because every id derives from content (sha256, sheet, form): loading the same files
again replaces their rows with identical ones, and a re-run after the office adds an explanation
or a resubmission only changes what those change.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines import periods
from pipelines.model import ReturnResult
from pipelines.periods import Quarter
from pipelines.registry import load_registry
from pipelines.warehouse import explanations as expl
from pipelines.warehouse import history, official, reference
from pipelines.warehouse.archive import ReceivedFile
from pipelines.warehouse.frames import (
    insert_frame,
    query_frame,
    stable_id,
    submission_id,
    values_frame,
)


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """What one load did, for Dagster metadata and the CLI."""

    quarter: str
    files: int
    returns: int
    accepted: int
    rejected: int
    unreadable: int
    official: int
    values: int
    issues: int
    history_issues: int


def load_quarter(
    con: duckdb.DuckDBPyConnection,
    quarter: str | Quarter,
    received: Sequence[ReceivedFile],
    results: Sequence[ReturnResult],
    *,
    explanations: Sequence[expl.Explanation] | None = None,
) -> LoadSummary:
    """Load the returns found in `received` (the front door's `results`) for `quarter`.

    Each result is matched to its file by sha256, else by path. A received file without any
    result gets one unreadable row. `explanations` replaces the quarter's stored explanations;
    None keeps those stored by an earlier load.
    """
    return load_quarter_frame(
        con, quarter, received, results, values_frame(results), explanations=explanations
    )


def load_quarter_frame(
    con: duckdb.DuckDBPyConnection,
    quarter: str | Quarter,
    received: Sequence[ReceivedFile],
    results: Sequence[ReturnResult],
    values: pl.DataFrame,
    *,
    explanations: Sequence[expl.Explanation] | None = None,
) -> LoadSummary:
    """`load_quarter` with the values given as a frame (frames.VALUES_SCHEMA, `result` indexing
    `results`); the results' own `.values` are ignored. The bulk path for large loads."""
    q = str(quarter if isinstance(quarter, Quarter) else Quarter.parse(str(quarter)))
    rows, ids = _ledger_rows(q, received, results)
    con.execute("begin transaction")
    try:
        _keep_first_seen(con, rows)
        _delete_previous(con, {r["sha256"] for r in rows.values()}, list(rows))
        insert_frame(
            con, "submissions", pl.DataFrame(list(rows.values()), schema=_SUBMISSION_SCHEMA)
        )
        n_values = _insert_values(con, values, ids)
        front = _front_issues(results, ids)
        insert_frame(con, "validation_issues", _issue_frame(front))
        reference.load_quarters(con, extra=[q])
        if explanations is not None:
            expl.store(con, q, explanations)
        hist = _history_issues(con, front)
        insert_frame(con, "validation_issues", _issue_frame(hist))
        quarters = {r["quarter"] for r in rows.values()} | {q}
        official.settle(con, quarters)  # and the stored official figures of those quarters
        summary = _summary(con, q, len(received), n_values, len(front), len(hist))
        con.execute("drop table if exists load_batch")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return summary


# ---- ledger rows --------------------------------------------------------------------------

_SUBMISSION_SCHEMA = {
    "submission_id": pl.Int64,
    "sha256": pl.String,
    "original_path": pl.String,
    "original_name": pl.String,
    "archive_path": pl.String,
    "received_at": pl.Datetime("us"),
    "received_at_source": pl.String,
    "submitter": pl.String,
    "submitter_type": pl.String,
    "form": pl.String,
    "quarter": pl.String,
    "campaign": pl.Int32,
    "sheet": pl.String,
    "validated_status": pl.String,
    "status": pl.String,
    "is_official": pl.Boolean,
    "superseded_by": pl.Int64,
    "reason": pl.String,
    "on_time": pl.Boolean,
    "submitter_text": pl.String,
    "filled_by": pl.String,
    "phone": pl.String,
    "header_date": pl.Date,
    "file_format": pl.String,
    "channel": pl.String,
    "received_by": pl.String,
    "message_id": pl.String,
}


def _match(received: Sequence[ReceivedFile]):
    by_sha = {r.sha256: r for r in received}
    by_path: dict[str, ReceivedFile] = {}
    for r in received:
        for p in (r.path, r.archive_path, *r.duplicates):
            by_path[str(p)] = r

    def find(result: ReturnResult) -> ReceivedFile:
        if result.sha256 and result.sha256 in by_sha:
            return by_sha[result.sha256]
        if result.file in by_path:
            return by_path[result.file]
        raise ValueError(f"result for {result.file!r} matches no received file")

    return find


def _ledger_rows(
    quarter: str, received: Sequence[ReceivedFile], results: Sequence[ReturnResult]
) -> tuple[dict[int, dict], list[int | None]]:
    """One row per distinct (file, sheet, form); ids[i] is results[i]'s id, None for a repeat."""
    find = _match(received)
    registry = {s.name: s for s in load_registry().submitters}
    rows: dict[int, dict] = {}
    ids: list[int | None] = []
    for res in results:
        rf = find(res)
        sid = submission_id(rf.sha256, res.sheet, res.form)
        if sid in rows:
            ids.append(None)
            continue
        ids.append(sid)
        sub = registry.get(res.submitter) if res.submitter else None
        rows[sid] = _row(sid, rf, res.quarter or quarter, sub.type if sub else None) | {
            "submitter": res.submitter,
            "form": res.form,
            "sheet": res.sheet,
            "validated_status": res.status,
            "status": res.status,
            "submitter_text": res.submitter_text,
            "filled_by": res.filled_by,
            "phone": res.phone,
            "header_date": dt.date.fromisoformat(res.header_date) if res.header_date else None,
            "file_format": res.file_format,
        }
    seen = {r["sha256"] for r in rows.values()}
    for rf in received:
        if rf.sha256 not in seen:
            sid = submission_id(rf.sha256, None, None)
            rows[sid] = _row(sid, rf, quarter, None) | {
                "validated_status": "unreadable",
                "status": "unreadable",
            }
    return rows, ids


def _row(sid: int, rf: ReceivedFile, quarter: str, submitter_type: str | None) -> dict:
    q = Quarter.parse(quarter)
    return {
        "submission_id": sid,
        "sha256": rf.sha256,
        "original_path": str(rf.path),
        "original_name": rf.original_name,
        "archive_path": str(rf.archive_path),
        "received_at": rf.received_at,
        "received_at_source": rf.received_at_source,
        "channel": rf.channel,
        "received_by": rf.received_by,
        "message_id": rf.message_id,
        "submitter_type": submitter_type,
        "quarter": quarter,
        "campaign": q.campaign,
        "is_official": False,
        "on_time": periods.is_on_time(q, rf.received_at.date()),
    }


def _keep_first_seen(con: duckdb.DuckDBPyConnection, rows: dict[int, dict]) -> None:
    """A content seen before keeps its first path and, unless received.csv says otherwise, its
    first received time: reloading never makes a return later than it was."""
    shas = sorted({r["sha256"] for r in rows.values()})
    found = con.execute(
        """
        select sha256, min(received_at), arg_min(original_path, received_at),
            arg_min(original_name, received_at)
        from submissions where sha256 in (select unnest(?::varchar[]))
        group by sha256
        """,
        [shas],
    ).fetchall()
    earlier = {sha: (at, path, name) for sha, at, path, name in found}
    for row in rows.values():
        if row["sha256"] not in earlier:
            continue
        at, path, name = earlier[row["sha256"]]
        row["original_path"], row["original_name"] = path, name
        if (
            row["received_at_source"] != "received.csv"
            and at is not None
            and at < row["received_at"]
        ):
            row["received_at"] = at
            row["on_time"] = periods.is_on_time(Quarter.parse(row["quarter"]), at.date())


def _delete_previous(con: duckdb.DuckDBPyConnection, shas: set[str], new_ids: list[int]) -> None:
    """Drop the rows an earlier load made from the same file contents (they are rebuilt)."""
    batch = pl.DataFrame({"submission_id": new_ids}, schema={"submission_id": pl.Int64})
    con.execute("create or replace temp table load_batch (submission_id bigint)")
    con.execute(
        """
        insert into load_batch
        select submission_id from submissions where sha256 in (select unnest(?::varchar[]))
        """,
        [sorted(shas)],
    )
    if con.execute("select count(*) from load_batch").fetchall()[0][0]:
        insert_frame(con, "load_batch", batch)
        for table in ("validation_issues", "return_values", "submissions"):
            con.execute(
                f"delete from {table} where submission_id in (select submission_id from load_batch)"
            )
        con.execute("delete from load_batch")
    insert_frame(con, "load_batch", batch)


def _insert_values(
    con: duckdb.DuckDBPyConnection, values: pl.DataFrame, ids: list[int | None]
) -> int:
    keys = pl.DataFrame(
        {"result": range(len(ids)), "submission_id": ids},
        schema={"result": pl.Int32, "submission_id": pl.Int64},
    ).drop_nulls()
    frame = values.join(keys, on="result", how="inner").select(
        "submission_id", "row_key", "column_id", "value", "cell"
    )
    insert_frame(con, "return_values", frame)
    return frame.height


# ---- issues -------------------------------------------------------------------------------


def _front_issues(results: Sequence[ReturnResult], ids: list[int | None]) -> list[dict]:
    out = []
    for res, sid in zip(results, ids, strict=True):
        if sid is None:
            continue
        for issue in res.issues:
            out.append(
                {
                    "submission_id": sid,
                    "source": "validate",
                    "severity": issue.severity,
                    "rule": issue.rule,
                    "cell": issue.cell,
                    "row_key": issue.row_key,
                    "column_id": issue.column_id,
                    "message": issue.message,
                    "value": issue.value,
                }
            )
    return out


_ISSUE_SCHEMA = {
    "issue_id": pl.Int64,
    "submission_id": pl.Int64,
    "seq": pl.Int32,
    "source": pl.String,
    "severity": pl.String,
    "rule": pl.String,
    "cell": pl.String,
    "row_key": pl.String,
    "column_id": pl.String,
    "message": pl.String,
    "value": pl.String,
    "status": pl.String,
}


def _issue_frame(issues: list[dict]) -> pl.DataFrame:
    """Adds ids (stable: return, source, rule, cell, row, column, occurrence) and order."""
    seen: Counter = Counter()
    seq: Counter = Counter()
    rows = []
    for i in issues:
        key = (
            i["submission_id"],
            i.get("source", "history"),
            i["rule"],
            i["cell"],
            i["row_key"],
            i["column_id"],
        )
        seen[key] += 1
        seq[i["submission_id"]] += 1
        offset = 0 if key[1] == "validate" else 100_000
        rows.append(
            i
            | {
                "source": key[1],
                "issue_id": stable_id("issue", *key, seen[key]),
                "seq": offset + seq[i["submission_id"]],
                "status": "open",
            }
        )
    return pl.DataFrame(rows, schema=_ISSUE_SCHEMA)


# The values to judge (`targets`: submission ids) with the previous official value of each cell,
# the windows, and the submitter's size this quarter (`scale`, per history_scale).
_VALUES = """
with batch as (
    select s.submission_id, s.quarter, s.campaign, s.submitter, s.submitter_type, s.form, s.received_at
    from submissions as s
    where s.submission_id in ({targets})
        and s.validated_status <> 'unreadable'
        and s.submitter is not null and s.form is not null and s.quarter is not null
),
keys as (
    select distinct quarter, submitter, form from batch
),
previous as (
    select
        keys.quarter, keys.submitter, keys.form,
        max_by(s.submission_id, s.quarter) as prev_id,
        max(s.quarter) as prev_quarter
    from keys
    join submissions as s
        on s.is_official and s.submitter = keys.submitter and s.form = keys.form
        and s.quarter < keys.quarter
    group by keys.quarter, keys.submitter, keys.form
),
previous_values as (
    select
        previous.quarter, previous.submitter, previous.form, previous.prev_quarter,
        v.row_key, v.column_id, v.value as prev_value, w.window_start as prev_window_start
    from previous
    join submissions as s on s.submission_id = previous.prev_id
    join return_values as v on v.submission_id = previous.prev_id
    left join column_windows as w
        on w.campaign = s.campaign and w.form = s.form and w.column_id = v.column_id
),
sizes as (
    -- a submitter's size this quarter from another form (表二, 表三 → 表一's 企业基数): its
    -- readable version that passed the front door, else the latest
    select s.submitter, s.quarter, s.form, v.column_id,
        arg_max(v.value, (s.validated_status = 'accepted', s.received_at, s.submission_id)) as value
    from submissions as s
    join return_values as v on v.submission_id = s.submission_id
    join history_scale as h on h.scale_form = s.form and h.scale_column = v.column_id
    where s.quarter in (select quarter from keys) and v.value is not null
        and s.validated_status <> 'unreadable'
    group by all
)
select
    batch.submission_id, batch.quarter, batch.submitter, batch.submitter_type, batch.form,
    v.row_key, v.column_id, v.value, v.cell, batch.received_at,
    w.window_name, w.window_start, q.quarter_start, q.prev_quarter as adjacent_quarter,
    p.prev_quarter, p.prev_value, p.prev_window_start,
    coalesce(own.value, case when not h.same_row then sizes.value end) as scale
from batch
join return_values as v on v.submission_id = batch.submission_id
join column_windows as w
    on w.campaign = batch.campaign and w.form = batch.form and w.column_id = v.column_id
join quarters as q on q.quarter = batch.quarter
left join previous_values as p
    on p.quarter = batch.quarter and p.submitter = batch.submitter and p.form = batch.form
    and p.row_key = v.row_key and p.column_id = v.column_id
left join history_scale as h on h.form = batch.form
left join return_values as own
    on own.submission_id = batch.submission_id and h.scale_form = batch.form
    and own.column_id = h.scale_column and (own.row_key = v.row_key or not h.same_row)
left join sizes
    on sizes.submitter = batch.submitter and sizes.quarter = batch.quarter
    and sizes.form = h.scale_form and sizes.column_id = h.scale_column
where v.value is not null
"""

_CURRENT = _VALUES.format(targets="select submission_id from load_batch")

# Peers: every submitter's representative version (passed the front door, else latest) of each
# form in the batch's quarters, whether loaded now or earlier.
_PEERS = _VALUES.format(
    targets="""
    select arg_max(submission_id, (validated_status = 'accepted', received_at, submission_id))
    from submissions
    where validated_status <> 'unreadable' and submitter is not null and form is not null
        and quarter in (
            select quarter from submissions
            where submission_id in (select submission_id from load_batch)
        )
    group by submitter, form, quarter
    """
)

# Increments of the batch's submitters' earlier official quarters (stored_increments, kept at
# load), with each value's size this quarter as the history rules scale it.
_EARLIER = """
with keys as (
    select distinct submitter, form from submissions
    where submission_id in (select submission_id from load_batch) and submitter is not null
),
sizes as (
    select o.submitter, o.quarter, o.form, o.column_id, any_value(o.value) as value
    from stored_official_values as o
    join history_scale as h on h.scale_form = o.form and h.scale_column = o.column_id
    where o.submitter in (select submitter from keys)
    group by all
)
select
    i.submitter, i.form, i.row_key, i.column_id, i.quarter, i.new_value as increment,
    coalesce(own.value, case when not h.same_row then sizes.value end) as scale
from stored_increments as i
join keys on keys.submitter = i.submitter and keys.form = i.form
left join history_scale as h on h.form = i.form
left join stored_official_values as own
    on own.submission_id = i.submission_id and h.scale_form = i.form
    and own.column_id = h.scale_column and (own.row_key = i.row_key or not h.same_row)
left join sizes
    on sizes.submitter = i.submitter and sizes.quarter = i.quarter
    and sizes.form = h.scale_form and sizes.column_id = h.scale_column
where i.value is not null
    and i.quarter < (
        select min(quarter) from submissions
        where submission_id in (select submission_id from load_batch)
    )
    and i.quarter >= ?
"""


def _history_issues(con: duckdb.DuckDBPyConnection, front: list[dict]) -> list[dict]:
    t = history.Thresholds.from_config()
    con.execute(
        "create or replace temp table history_scale "
        "(form varchar, scale_form varchar, scale_column varchar, same_row boolean)"
    )
    if t.scales:
        con.executemany(
            "insert into history_scale values (?, ?, ?, ?)",
            [[s.form, s.scale_form, s.column, s.same_row] for s in t.scales],
        )
    frame = query_frame(con, _CURRENT)
    if frame.is_empty():
        return []
    peers = query_frame(con, _PEERS)
    most = con.execute(
        """
        select coalesce(max(n), 0) from (
            select count(*) as n from submissions
            where is_official and (submitter, form) in (
                select (submitter, form) from submissions
                where submission_id in (select submission_id from load_batch)
            )
            group by submitter, form
        )
        """
    ).fetchall()[0][0]
    earlier = None
    if most >= 1:  # a window opening in an official quarter already gives an increment
        earlier = query_frame(con, _EARLIER, [_since(con, most, t)])
    return history.issues(frame, earlier, t, peers)


def _since(con: duckdb.DuckDBPyConnection, most: int, t: history.Thresholds) -> str:
    """The earliest quarter whose official values the earlier increments need. With fewer than
    min_history official quarters per cell the own-history comparison cannot reach its minimum,
    so only the peers' check of the adjacent quarter's increment remains: that quarter and the
    one before it. Otherwise all of them (own history takes every earlier increment)."""
    if most >= t.min_history:
        return ""
    first = con.execute(
        "select min(quarter) from submissions "
        "where submission_id in (select submission_id from load_batch)"
    ).fetchall()[0][0]
    if first is None:
        return ""
    return str(Quarter.parse(first).prev().prev())


def _summary(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    files: int,
    n_values: int,
    n_front: int,
    n_hist: int,
) -> LoadSummary:
    counts = con.execute(
        """
        select
            count(*),
            count(*) filter (where status = 'accepted'),
            count(*) filter (where status = 'rejected'),
            count(*) filter (where status = 'unreadable'),
            count(*) filter (where is_official)
        from submissions where submission_id in (select submission_id from load_batch)
        """
    ).fetchall()[0]
    return LoadSummary(quarter, files, *counts, n_values, n_front, n_hist)
