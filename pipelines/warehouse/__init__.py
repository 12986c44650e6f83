"""The warehouse: archive, ledger, values, history rules, indicators, safe publishing.

Public API (what the Dagster assets and the CLI call):

- `scan_drop_folder(paths, quarter) -> list[ReceivedFile]`: archive and list a drop folder;
- `load_quarter(con, quarter, received, results, explanations=None) -> LoadSummary`;
- `refresh(paths, quarters, validate_fn) -> list[LoadSummary]`: scan → validate → load → publish;
- `publish(paths, build_fn)` / `publishing(paths)`: change the warehouse safely;
- `connect_published(paths)`: read-only connection for readers.

Schema and views: sql/*.sql.
"""

from pipelines.warehouse.archive import ReceivedFile, archive_file, scan_drop_folder
from pipelines.warehouse.explanations import Explanation, read_explanations
from pipelines.warehouse.ledger import LoadSummary, load_quarter, load_quarter_frame
from pipelines.warehouse.publish import connect_published, publish, publishing
from pipelines.warehouse.refresh import refresh

__all__ = [
    "Explanation",
    "LoadSummary",
    "ReceivedFile",
    "archive_file",
    "connect_published",
    "load_quarter",
    "load_quarter_frame",
    "publish",
    "publishing",
    "read_explanations",
    "refresh",
    "scan_drop_folder",
]
