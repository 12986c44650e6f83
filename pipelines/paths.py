"""Where jibao keeps its files. One root (JIBAO_HOME, default: the current directory) so a test or
an office can point the whole pipeline somewhere else with one variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    root: Path

    @classmethod
    def from_env(cls) -> Paths:
        return cls(Path(os.environ.get("JIBAO_HOME") or Path.cwd()).resolve())

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        """The drop folder: data/raw/<YYYYQn>/ (received.csv and explanations.csv beside files)."""
        return self.data / "raw"

    def raw_quarter(self, quarter: object) -> Path:
        return self.raw / str(quarter)

    def quarter_folders(self) -> list[Path]:
        """data/raw/<quarter>/ for every quarter of the calendar that has a folder, oldest first."""
        from pipelines import periods

        return [self.raw_quarter(q) for q in periods.quarters() if self.raw_quarter(q).is_dir()]

    @property
    def archive(self) -> Path:
        """Every received file once, under its sha256."""
        return self.data / "archive"

    @property
    def warehouse(self) -> Path:
        override = os.environ.get("JIBAO_WAREHOUSE")
        return Path(override) if override else self.data / "warehouse" / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        return self.data / "reports"

    def report_dir(self, quarter: object) -> Path:
        return self.reports / str(quarter)

    @property
    def outbox(self) -> Path:
        return self.data / "outbox"

    def outbox_dir(self, quarter: object, submitter: str | None = None) -> Path:
        base = self.outbox / str(quarter)
        return base / submitter if submitter else base
