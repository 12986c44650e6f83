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
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.warehouse import reference, stored
from pipelines.warehouse.archive import ReceivedFile, scan_drop_folder
from pipelines.warehouse.explanations import Explanation, read_explanations
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


def load_batches(con: duckdb.DuckDBPyConnection, batches: Iterable[Batch]) -> list[LoadSummary]:
    """Reload the configuration tables, then load each batch's quarter, earliest first."""
    reference.load(con)
    stored.ensure(con)  # the configuration the stored figures read may have changed
    ordered = sorted(
        batches, key=lambda b: b[0] if isinstance(b[0], Quarter) else Quarter.parse(str(b[0]))
    )
    out = []
    for q, received, results, ex, *frame in ordered:
        if frame and frame[0] is not None:
            out.append(load_quarter_frame(con, q, received, results, frame[0], explanations=ex))
        else:
            out.append(load_quarter(con, q, received, results, explanations=ex))
    return out


def refresh(
    paths: Paths,
    quarters: Iterable[str | Quarter],
    validate_fn: ValidateFn,
    *,
    target: Path | None = None,
) -> list[LoadSummary]:
    """Refresh the warehouse for `quarters` from their drop folders, and publish it.

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
    return publish(paths, lambda con: load_batches(con, batches), target=target)
