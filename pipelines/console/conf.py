"""config/console.yaml: the console's limits (no Django import: the CLI reads it too)."""

from __future__ import annotations

from typing import Any

from pipelines import config

MiB = 1 << 20


def console_config() -> dict[str, Any]:
    return config.load("console.yaml")


def max_upload_bytes() -> int:
    return int(float(console_config()["upload"]["max_file_mb"]) * MiB)
