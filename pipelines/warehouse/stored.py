"""Stored official figures: `stored_official_values` and `stored_increments` (sql/03), maintained
at load so that indicator views, history rules and integrity checks read tables instead of
re-deriving official values (a join of every value with the ledger) in every query.

Which rows: the values of each official version (submissions.is_official), own-type rows only
(form_rows × submitter_types, as the official_values view always said); increments for every
such value of a column with a cumulative window: the previous quarter's official value counted
from the same window start, and the new value (window opened this quarter → the value itself).

When: `refresh(con, quarters)`, at the end of `official.settle` for the quarters it settled,
recomputes those quarters' official values and the increments of those quarters and of the
quarter after each (its increment subtracts the previous quarter's values). Everything else the derivation
reads is configuration (form rows, submitter types, cumulative windows): its fingerprint is kept
in `stored_state`, and when it differs — configuration changed, or a warehouse made before these
tables — everything is rebuilt (`ensure`, called by every writer; `rebuild` for warehouses built
by hand, e.g. test fixtures inserting ledger rows directly).

What changed: `refresh` compares a digest of each quarter's official figures (and official
versions) before and after, and `changed_quarters(con)` lists the quarters whose figures this
connection's build actually changed — what integrity checks must re-check. Nothing of that is
written to the warehouse: a re-run on the same files leaves every table as it was.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

# Bump when the derivation below changes: stored tables of older files are then rebuilt.
VERSION = "2"

_SCOPE = "(select quarter from stored_scope)"

_OFFICIAL = """
insert into stored_official_values
with own_rows as (
    select form_rows.form, form_rows.row_key, submitter_types.submitter_type
    from form_rows
    join submitter_types
        on submitter_types.submitter_type = form_rows.submitter_type
        or submitter_types.consolidates
)
select
    s.quarter, s.campaign, s.submitter, s.submitter_type, s.form,
    v.row_key, v.column_id, v.value, s.submission_id, s.received_at
from submissions as s
join return_values as v on v.submission_id = s.submission_id
join own_rows
    on own_rows.form = s.form and own_rows.row_key = v.row_key
    and own_rows.submitter_type = s.submitter_type
where s.is_official {where}
-- Grouped by form and column: views filter on them, and DuckDB skips row groups by min/max.
order by s.quarter, s.form, v.column_id, s.submitter, v.row_key
"""

_INCREMENTS = """
insert into stored_increments
with windowed as (
    select
        o.*, w.window_name, w.window_start, q.quarter_start, q.prev_quarter
    from stored_official_values as o
    join column_windows as w
        on w.campaign = o.campaign and w.form = o.form and w.column_id = o.column_id
    join quarters as q on q.quarter = o.quarter
    where w.window_start is not null
),
this_quarter as (
    select * from windowed where true {where}
),
last_quarter as (
    select * from windowed
    where true {where_prev}
),
paired as (
    select
        this_quarter.*,
        case
            when this_quarter.window_start >= this_quarter.quarter_start then 'window_start'
            when last_quarter.window_start = this_quarter.window_start then 'difference'
        end as basis,
        -- Only a value counted from the same start is a previous value; across a reset there is
        -- none to compare with.
        case
            when this_quarter.window_start < this_quarter.quarter_start
                and last_quarter.window_start = this_quarter.window_start
                then last_quarter.value
        end as prev_value
    from this_quarter
    left join last_quarter
        on last_quarter.quarter = this_quarter.prev_quarter
        and last_quarter.submitter = this_quarter.submitter
        and last_quarter.form = this_quarter.form
        and last_quarter.row_key = this_quarter.row_key
        and last_quarter.column_id = this_quarter.column_id
)
select
    quarter, campaign, submitter, submitter_type, form, row_key, column_id,
    window_name, window_start, value, prev_quarter, prev_value, basis,
    case basis
        when 'window_start' then value
        when 'difference' then value - prev_value
    end as new_value,
    submission_id
from paired
order by quarter, form, column_id, submitter, row_key
"""

# Everything the derivation reads besides the ledger (small tables: rows hashed as text, which
# mixes them well; see _row_hash for the large ones). `quarters` is left out on purpose: a
# quarter's start and predecessor follow from its name, and a new quarter row changes nothing.
_FINGERPRINT = """
select concat_ws(':',
    (select coalesce(bit_xor(hash(row(form, row_key, submitter_type)::varchar)), 0)
        from form_rows),
    (select coalesce(bit_xor(hash(row(submitter_type, consolidates)::varchar)), 0)
        from submitter_types),
    (select coalesce(bit_xor(hash(
        row(campaign, form, column_id, window_name, window_start)::varchar)), 0)
        from column_windows)
)
"""


def _fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    return VERSION + ":" + con.execute(_FINGERPRINT).fetchall()[0][0]


def _stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    found = con.execute("select fingerprint from stored_state where name = 'stored'").fetchall()
    return found[0][0] if found else None


def _row_hash(*columns: str) -> str:
    """SQL hashing a row so that rows do not cancel in a bit_xor: DuckDB's hash of several values
    XORs theirs, so a column changed alike in an even number of rows would drop out; re-hashing
    the running value at each column mixes it (hash(hash(hash(a), b), c) …)."""
    expr = f"hash({columns[0]})"
    for col in columns[1:]:
        expr = f"hash({expr}, {col})"
    return f"hash({expr})"  # the last column too


# Per quarter: the stored official values and the official versions, order-independently.
_DIGEST = f"""
select quarter, bit_xor(digest) as digest from (
    select quarter, {
    _row_hash("submitter", "form", "row_key", "column_id", "value", "submission_id", "received_at")
} as digest
    from stored_official_values where quarter in {{scope}}
    union all
    select quarter, {_row_hash("submission_id", "submitter", "form")} from submissions
    where is_official and quarter in {{scope}}
)
group by quarter
"""


def _changed(con: duckdb.DuckDBPyConnection, quarters: Iterable[str]) -> None:
    """Add `quarters` to the ones this connection's build changed (see changed_quarters)."""
    con.execute("create temp table if not exists stored_changed (quarter varchar primary key)")
    con.execute(
        "insert or ignore into stored_changed select unnest(?::varchar[])", [sorted(set(quarters))]
    )


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute both tables from the whole ledger (and record the fingerprint)."""
    con.execute("delete from stored_official_values")
    con.execute("delete from stored_increments")
    con.execute(_OFFICIAL.format(where=""))
    con.execute(_INCREMENTS.format(where="", where_prev=""))
    quarters = [
        q
        for (q,) in con.execute(
            "select distinct quarter from submissions where quarter is not null"
        ).fetchall()
    ]
    _changed(con, quarters)
    con.execute("insert or replace into stored_state values ('stored', ?)", [_fingerprint(con)])


def ensure(con: duckdb.DuckDBPyConnection) -> bool:
    """Rebuild when the configuration the tables depend on changed (or they were never built).
    Returns whether it rebuilt."""
    if _stored_fingerprint(con) == _fingerprint(con):
        return False
    rebuild(con)
    return True


def refresh(con: duckdb.DuckDBPyConnection, quarters: Iterable[str]) -> None:
    """Recompute the stored figures of `quarters` (official versions just settled), and the
    increments of the quarter after each; everything, if the configuration changed."""
    qs = sorted({q for q in quarters if q})
    if ensure(con) or not qs:
        return
    con.execute("create or replace temp table stored_scope (quarter varchar)")
    con.execute("insert into stored_scope select unnest(?::varchar[])", [qs])
    before = dict(con.execute(_DIGEST.format(scope=_SCOPE)).fetchall())
    con.execute(f"delete from stored_official_values where quarter in {_SCOPE}")
    con.execute(_OFFICIAL.format(where=f"and s.quarter in {_SCOPE}"))
    after = dict(con.execute(_DIGEST.format(scope=_SCOPE)).fetchall())
    _changed(con, [q for q in qs if before.get(q) != after.get(q)])
    # A quarter's increments read the quarter before it: recompute the quarters after too.
    con.execute(
        "insert into stored_scope select quarter from quarters "
        f"where prev_quarter in {_SCOPE} and quarter not in {_SCOPE}"
    )
    con.execute(f"delete from stored_increments where quarter in {_SCOPE}")
    con.execute(
        _INCREMENTS.format(
            where=f"and quarter in {_SCOPE}",
            where_prev=f"and quarter in (select prev_quarter from quarters where quarter in {_SCOPE})",
        )
    )
    con.execute("drop table stored_scope")


def changed_quarters(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The quarters whose official figures this connection's build changed, oldest first."""
    found = con.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = 'stored_changed'"
    ).fetchall()[0][0]
    if not found:
        return []
    return [
        q for (q,) in con.execute("select quarter from stored_changed order by quarter").fetchall()
    ]
