"""One refresh: scan → validate → load → publish, for a list of quarters.

Scanning (archiving) and validation happen before the warehouse copy is opened, so the writer
lock is held only while loading. Quarters load in order, so each one's history rules see the
official returns of the quarters before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import duckdb

from pipelines.model import ReturnResult
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.warehouse import reference
from pipelines.warehouse.archive import scan_drop_folder
from pipelines.warehouse.explanations import read_explanations
from pipelines.warehouse.ledger import LoadSummary, load_quarter
from pipelines.warehouse.publish import publish

ValidateFn = Callable[..., Sequence[ReturnResult]]  # validate_paths(paths, quarter=...)


def refresh(
    paths: Paths, quarters: Iterable[str | Quarter], validate_fn: ValidateFn
) -> list[LoadSummary]:
    """Refresh the warehouse for `quarters` from their drop folders, and publish it.

    `validate_fn(files, quarter="YYYYQn")` is the front door (pipelines.validate.validate_paths);
    it receives the original paths (absolute strings) so that messages name the files people
    sent. Configuration tables are reloaded every time.
    """
    ordered = sorted({q if isinstance(q, Quarter) else Quarter.parse(str(q)) for q in quarters})
    batches = []
    for q in ordered:
        received = scan_drop_folder(paths, q)
        files = [str(r.path) for r in received]
        results = list(validate_fn(files, quarter=str(q))) if files else []
        batches.append((q, received, results, read_explanations(paths, q)))

    def build(con: duckdb.DuckDBPyConnection) -> list[LoadSummary]:
        reference.load(con)
        return [
            load_quarter(con, q, received, results, explanations=ex)
            for q, received, results, ex in batches
        ]

    return publish(paths, build)
