"""DuckDB resource settings (config/warehouse.yaml › duckdb) for every connection the pipeline
opens: memory limit, threads, spill directory.

Applied with SET after connecting, not as connect() configuration: within one process DuckDB
shares one database instance per file, and refuses a second connection whose configuration
differs from the first one's — an analyst's notebook, a test's read-only connection and the
pipeline must be able to sit side by side. The settings are the instance's, so they hold for
every connection to that file in the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines import config


@dataclass(frozen=True, slots=True)
class DuckDBSettings:
    memory_limit: str
    threads: int  # 0: DuckDB's default (one per core)
    temp_directory: str  # "": DuckDB's default

    @classmethod
    def from_config(cls) -> DuckDBSettings:
        raw = (config.load("warehouse.yaml") or {}).get("duckdb") or {}
        return cls(
            memory_limit=str(raw.get("memory_limit") or "4GB"),
            threads=int(raw.get("threads") or 0),
            temp_directory=str(raw.get("temp_directory") or ""),
        )


def apply(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Set the configured limits on `con` (returned, for chaining)."""
    s = DuckDBSettings.from_config()
    con.execute(f"set memory_limit = '{_literal(s.memory_limit)}'")
    if s.threads > 0:
        con.execute(f"set threads = {s.threads}")
    if s.temp_directory:
        Path(s.temp_directory).mkdir(parents=True, exist_ok=True)
        con.execute(f"set temp_directory = '{_literal(s.temp_directory)}'")
    return con


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """duckdb.connect with the configured limits applied."""
    return apply(duckdb.connect(str(path), read_only=read_only))


def _literal(text: str) -> str:
    return text.replace("'", "''")
