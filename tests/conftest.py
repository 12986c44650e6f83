"""Shared fixtures.

`sample_warehouse`: the real sample (pipelines.sample) refreshed into a warehouse by the real
pipeline (front door, loader, publishing) once per test session, in a temporary JIBAO_HOME.
Tests read it; none may change it (copy it first).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.paths import Paths


@dataclass(frozen=True)
class SampleWarehouse:
    paths: Paths
    quarters: tuple[str, ...]

    @property
    def file(self) -> Path:
        return self.paths.root / "data" / "warehouse" / "warehouse.duckdb"

    def connect(self):
        """A read-only connection, as analysts and the outputs open it."""
        import duckdb

        return duckdb.connect(str(self.file), read_only=True)


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> SampleWarehouse:
    from pipelines import sample, validate, warehouse

    saved = os.environ.pop("JIBAO_WAREHOUSE", None)  # the warehouse must live under the tmp home
    try:
        paths = Paths(tmp_path_factory.mktemp("sample_home"))
        sample.write_sample(paths.raw)
        quarters = tuple(sorted(p.name for p in paths.raw.iterdir() if p.is_dir()))
        warehouse.refresh(paths, quarters, validate.validate_paths)
    finally:
        if saved is not None:
            os.environ["JIBAO_WAREHOUSE"] = saved
    sw = SampleWarehouse(paths, quarters)
    assert sw.file.exists()
    return sw
