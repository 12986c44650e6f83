"""Dagster resources: where the files are, and the warehouse. Configured from the environment
(JIBAO_HOME, JIBAO_WAREHOUSE) with defaults that work out of the box."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.paths import Paths


class JibaoPaths(dg.ConfigurableResource):
    """The data root (drop folder, archive, reports, outbox) as a resource, so tests and the
    office point the whole pipeline elsewhere without touching code."""

    home: str = ""

    @property
    def paths(self) -> Paths:
        if self.home:
            return Paths(Path(self.home).resolve())
        return Paths.from_env()


class Warehouse(dg.ConfigurableResource):
    """The published DuckDB file. Writers go through `pipelines.warehouse.publish` (build a copy,
    swap it in atomically); readers get read-only connections and never block a refresh."""

    path: str = ""

    def file(self, paths: Paths) -> Path:
        return Path(self.path) if self.path else paths.warehouse

    def reader(self, paths: Paths):
        from pipelines.warehouse import settings

        return settings.connect(self.file(paths), read_only=True)


def default_resources() -> dict:
    return {
        # Empty settings defer to Paths.from_env(), which reads JIBAO_HOME and JIBAO_WAREHOUSE.
        "jibao": JibaoPaths(),
        "warehouse_db": Warehouse(),
    }
