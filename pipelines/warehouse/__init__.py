"""The warehouse: archive, ledger, values, history rules, indicators, safe publishing.

Public API (what the Dagster assets and the CLI call):

- `scan_drop_folder(paths, quarter) -> list[ReceivedFile]`: archive and list a drop folder;
- `load_quarter(con, quarter, received, results, explanations=None) -> LoadSummary`;
- `load_batches(con, batches) -> list[LoadSummary]`: reference tables, then each quarter in order;
- `refresh(paths, quarters, validate_fn, target=None) -> list[LoadSummary]`: scan → validate →
  load_batches → publish;
- `publish(paths, build_fn, target=None)` / `publishing(paths, target=None)`: change the
  warehouse (`target`, default paths.warehouse) safely;
- `connect_published(paths)`: read-only connection for readers.

Schema and views: sql/*.sql.
"""

from pipelines.warehouse.archive import ReceivedFile, archive_file, scan_drop_folder
from pipelines.warehouse.explanations import Explanation, read_explanations
from pipelines.warehouse.ledger import LoadSummary, load_quarter, load_quarter_frame
from pipelines.warehouse.publish import connect_published, publish, publishing
from pipelines.warehouse.refresh import Batch, load_batches, refresh

__all__ = [
    "Batch",
    "Explanation",
    "LoadSummary",
    "ReceivedFile",
    "archive_file",
    "connect_published",
    "load_batches",
    "load_quarter",
    "load_quarter_frame",
    "publish",
    "publishing",
    "read_explanations",
    "refresh",
    "scan_drop_folder",
]
