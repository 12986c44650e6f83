"""DuckDB's memory limit, threads and spill directory are configuration (config/warehouse.yaml)
and hold on every connection the pipeline opens: the build, the published file's readers (the
views, the report, the checks)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pipelines import config
from pipelines.paths import Paths
from pipelines.resources import Warehouse
from pipelines.warehouse import connect_published, publishing


def _settings(con) -> tuple:
    return con.execute(
        "select current_setting('memory_limit'), current_setting('threads'), "
        "current_setting('temp_directory')"
    ).fetchall()[0]


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(
        config.DEFAULT_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    spill = tmp_path / "spill"
    (folder / "warehouse.yaml").write_text(
        yaml.safe_dump(
            {"duckdb": {"memory_limit": "512MB", "threads": 1, "temp_directory": str(spill)}}
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JIBAO_CONFIG_DIR", str(folder))
    return spill


def test_every_pipeline_connection_uses_the_configured_limits(configured, tmp_path):
    paths = Paths(tmp_path / "home")
    expected = ("488.2 MiB", 1, str(configured))
    with publishing(paths) as con:
        assert _settings(con) == expected
    with connect_published(paths) as con:
        assert _settings(con) == expected
    with Warehouse().reader(paths) as con:
        assert _settings(con) == expected
    assert configured.is_dir()


def test_without_changes_a_reader_gets_four_gigabytes(tmp_path):
    paths = Paths(tmp_path)
    with publishing(paths):
        pass
    with connect_published(paths) as con:
        assert _settings(con)[0] == "3.7 GiB"  # 4 GB in DuckDB's binary units
