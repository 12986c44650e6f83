"""Publishing the warehouse without ever exposing a half-written file.

Analysts keep read-only connections open on the published file for hours; DuckDB allows no writer
beside them. So a refresh never writes the published file: it copies it to `<name>.building`
next to it, changes the copy, checkpoints and closes it, and renames it over the published path
(`os.replace`, atomic on one file system). Readers that were connected keep reading the old file
(on Linux its inode lives on until they close); new connections see the new one. A refresh that
dies leaves the published file untouched and a stale `.building` file, removed by the next one.
Writers are serialised by an exclusive lock on `<name>.lock` (released by the OS if the process
dies). Every writer — loads, office decisions — must go through here, never open the published file
read-write.

`alert_deliveries` is not a record kept here: every build reloads it from the outbox
(pipelines.outbox, data/outbox/outbox.sqlite3), which letters write outside any build.

One DuckDB caveat: within one process DuckDB reuses an open database for the same path, so a
process that still holds a connection to the old file gets the old data from new connections
too; close them all, then reconnect.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import duckdb

from pipelines import outbox
from pipelines.paths import Paths
from pipelines.warehouse import schema, settings, stored

T = TypeVar("T")
BUILDING_SUFFIX = ".building"


def building_path(published: Path) -> Path:
    return published.with_name(published.name + BUILDING_SUFFIX)


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _writer_lock(published: Path) -> Iterator[None]:
    with open(published.with_name(published.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def publishing(paths: Paths, *, target: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to a private copy of the warehouse (schema applied), published
    atomically when the block ends without an exception and discarded otherwise.

    `target` is the published file (default `paths.warehouse`); the Dagster Warehouse resource
    passes its own."""
    published = Path(target) if target is not None else paths.warehouse
    published.parent.mkdir(parents=True, exist_ok=True)
    with _writer_lock(published):
        building = building_path(published)
        _remove(building)  # a refresh that died earlier
        if published.exists():
            shutil.copyfile(published, building)
        con = settings.connect(building)
        try:
            schema.apply(con)
            stored.ensure(con)  # a warehouse made before the stored tables gets them here
            outbox.load_into_warehouse(con, paths)  # alert_deliveries: a copy, never the record
            yield con
            con.execute("checkpoint")
        except BaseException:
            con.close()
            _remove(building)
            raise
        con.close()
        _fsync(building)
        os.replace(building, published)
        _fsync(published.parent, directory=True)


def publish(
    paths: Paths,
    build_fn: Callable[[duckdb.DuckDBPyConnection], T],
    *,
    target: Path | None = None,
) -> T:
    """Run `build_fn` on a copy of the warehouse (`target`, default `paths.warehouse`) and publish
    the result atomically; returns what `build_fn` returns."""
    with publishing(paths, target=target) as con:
        return build_fn(con)


def connect_published(paths: Paths) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse, as analysts and reports should open it
    (with the configured DuckDB limits: config/warehouse.yaml)."""
    return settings.connect(paths.warehouse, read_only=True)
