"""One refresh: scan → validate → load → publish, for a list of quarters.

Scanning (archiving) and validation happen before the warehouse copy is opened, so the writer
lock is held only while loading. Quarters load in order, so each one's history rules see the
official returns of the quarters before it. `load_batches` is the loading step alone: the
Dagster asset and `refresh` both call it, so there is one path for data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import duckdb
import polars as pl

from pipelines.model import ReturnResult
from pipelines.office.journal import OfficeAction
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.warehouse import official, reference, stored
from pipelines.warehouse.archive import ReceivedFile, scan_drop_folder
from pipelines.warehouse.explanations import Explanation, read_explanations
from pipelines.warehouse.integrity import assert_publishable
from pipelines.warehouse.ledger import LoadSummary, load_quarter, load_quarter_frame
from pipelines.warehouse.publish import publish

ValidateFn = Callable[..., Sequence[ReturnResult]]  # validate_paths(paths, quarter=...)

# (quarter, received files, front-door results, explanations or None to keep the stored ones),
# optionally followed by the results' values as one frame (frames.VALUES_SCHEMA; the results'
# own `.values` are then ignored): what the Dagster step reads from staging.
Batch = (
    tuple[
        Quarter | str,
        Sequence[ReceivedFile],
        Sequence[ReturnResult],
        Sequence[Explanation] | None,
    ]
    | tuple[
        Quarter | str,
        Sequence[ReceivedFile],
        Sequence[ReturnResult],
        Sequence[Explanation] | None,
        pl.DataFrame | None,
    ]
)


def load_batches(
    con: duckdb.DuckDBPyConnection,
    batches: Iterable[Batch],
    *,
    actions: Sequence[OfficeAction] | None = None,
) -> list[LoadSummary]:
    """Reload the configuration tables, then load each batch's quarter, earliest first.

    `actions` is the office journal (pipelines.office.store.sync): when given it replaces
    `office_actions` and the explanations in force (the batches' own explanations are then
    ignored: explanations.csv reaches the load through the journal), and every other quarter the
    journal names is settled again, so a decision takes effect whichever quarters the run loads.
    None keeps the stored journal (loads without a data root, e.g. benchmarks)."""
    from pipelines.office.store import store_actions  # (pipelines.office imports the warehouse)

    reference.load(con)
    stored.ensure(con)  # the configuration the stored figures read may have changed
    if actions is not None:
        store_actions(con, actions)
    ordered = sorted(
        batches, key=lambda b: b[0] if isinstance(b[0], Quarter) else Quarter.parse(str(b[0]))
    )
    summaries = []
    for q, received, results, ex, *frame in ordered:
        ex = None if actions is not None else ex
        if frame and frame[0] is not None:
            summaries.append(
                load_quarter_frame(con, q, received, results, frame[0], explanations=ex)
            )
        else:
            summaries.append(load_quarter(con, q, received, results, explanations=ex))
    if actions is not None:
        loaded = {s.quarter for s in summaries}
        _settle_decided(con, {a.quarter for a in actions} - loaded)
    return summaries


def _settle_decided(con: duckdb.DuckDBPyConnection, quarters: set[str]) -> None:
    """Re-settle quarters the run did not load but the journal names (a decision, a lock)."""
    have = {q for (q,) in con.execute("select distinct quarter from submissions").fetchall()}
    todo = sorted(quarters & have)
    if not todo:
        return
    con.execute("begin transaction")
    try:
        con.execute("create or replace temp table load_batch (submission_id bigint)")
        official.settle(con, todo)
        con.execute("drop table if exists load_batch")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def refresh(
    paths: Paths,
    quarters: Iterable[str | Quarter],
    validate_fn: ValidateFn,
    *,
    target: Path | None = None,
) -> list[LoadSummary]:
    """Refresh the warehouse for `quarters` from their drop folders, check it as the warehouse
    asset does (`assert_publishable`), and publish it.

    `validate_fn(files, quarter="YYYYQn")` is the front door (pipelines.validate.validate_paths);
    it receives the original paths (absolute strings) so that messages name the files people
    sent. Configuration tables are reloaded every time.
    """
    ordered = sorted({q if isinstance(q, Quarter) else Quarter.parse(str(q)) for q in quarters})
    batches: list[Batch] = []
    for q in ordered:
        received = scan_drop_folder(paths, q)
        files = [str(r.path) for r in received]
        results = list(validate_fn(files, quarter=str(q))) if files else []
        batches.append((q, received, results, read_explanations(paths, q)))
    from pipelines.office.store import sync

    actions = sync(paths, ordered)  # explanations.csv → the office journal; the whole journal

    def build(con: duckdb.DuckDBPyConnection) -> list[LoadSummary]:
        summaries = load_batches(con, batches, actions=actions)
        # as the warehouse asset does: a bad build is never published
        assert_publishable(con, stored.changed_quarters(con))
        return summaries

    return publish(paths, build, target=target)
