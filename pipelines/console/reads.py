"""What the pages read from the published warehouse, always read-only
(`pipelines.warehouse.connect_published`) and always through a `Scope` (accounts/access.py), so a
query cannot return another unit's rows. A refresh swaps the file; each page opens a fresh
connection and so sees the newest published data."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import duckdb

from pipelines.console.accounts.access import Scope
from pipelines.paths import Paths

Row = dict[str, Any]


@contextlib.contextmanager
def published(paths: Paths) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection, or None while no warehouse has been published yet."""
    from pipelines.warehouse import connect_published

    if not paths.warehouse.exists():
        yield None
        return
    con = connect_published(paths)
    try:
        yield con
    finally:
        con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[Row]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    (n,) = con.execute(
        "select (select count(*) from duckdb_tables() where table_name = $1)"
        " + (select count(*) from duckdb_views() where view_name = $1)",
        [name],
    ).fetchall()[0]
    return bool(n)


def columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where table_name = ?", [relation]
        ).fetchall()
    }


def board_quarters(paths: Paths) -> list[str]:
    """Quarters the board can show, newest first."""
    with published(paths) as con:
        if con is None:
            return []
        return [
            r[0]
            for r in con.execute(
                "select distinct quarter from reporting_status order by quarter desc"
            ).fetchall()
        ]


def history(paths: Paths, scope: Scope, unit: str) -> list[Row]:
    """Every version the unit sent (any channel), newest first."""
    scope.require(unit)
    where, params = scope.sql()
    with published(paths) as con:
        if con is None:
            return []
        return rows(
            con,
            f"select * from submissions where submitter = ? and {where} "
            "order by received_at desc, submission_id desc",
            [unit, *params],
        )


def versions(paths: Paths, scope: Scope, quarter: str, unit: str, form: str) -> list[Row]:
    """Versions of one return, oldest first, each with its issues."""
    scope.require(unit)
    where, params = scope.sql()
    with published(paths) as con:
        if con is None:
            return []
        found = rows(
            con,
            f"select * from submissions where quarter = ? and submitter = ? and form = ? "
            f"and {where} order by received_at, submission_id",
            [quarter, unit, form, *params],
        )
        for v in found:
            v["issues"] = rows(
                con,
                "select * from validation_issues where submission_id = ? order by seq",
                [v["submission_id"]],
            )
        return found


def submission(paths: Paths, scope: Scope, submission_id: int) -> Row | None:
    """One version (for its download), only within the scope."""
    where, params = scope.sql()
    with published(paths) as con:
        if con is None:
            return None
        found = rows(
            con,
            f"select * from submissions where submission_id = ? and {where}",
            [submission_id, *params],
        )
        return found[0] if found else None


def unit_of_submission(paths: Paths, submission_id: int) -> str | None:
    """The unit a version belongs to, so that a view can refuse it (403) rather than hide it."""
    with published(paths) as con:
        if con is None:
            return None
        got = con.execute(
            "select submitter from submissions where submission_id = ?", [submission_id]
        ).fetchall()
        return got[0][0] if got else None


def history_all(paths: Paths, quarter: str) -> list[Row]:
    """Every version received for `quarter` (the office's view; the caller is office-only)."""
    with published(paths) as con:
        if con is None:
            return []
        return rows(
            con, "select sha256, submitter, form from submissions where quarter = ?", [quarter]
        )
