"""A warehouse file's whole contents, to prove a step changed nothing (or exactly something)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every table's full contents, in a canonical order."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()]
        return {t: con.execute(f'select * from "{t}" order by all').fetchall() for t in tables}
    finally:
        con.close()
