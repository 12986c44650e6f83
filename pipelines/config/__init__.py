"""Configuration files (YAML) and their loader.

Form layouts, rules, windows, targets, submitters and deadlines are data the office may change;
code reads them only through `load`, so a copy of this folder pointed to by JIBAO_CONFIG_DIR
replaces them wholesale (tests use that to vary thresholds).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_DIR = Path(__file__).resolve().parent


def config_dir() -> Path:
    return _dir_of(os.environ.get("JIBAO_CONFIG_DIR"))


# Cached: the front door asks for configuration per cell, and building a Path each time
# showed up in its profile. Keyed by the environment value, so JIBAO_CONFIG_DIR still wins.
@cache
def _dir_of(env: str | None) -> Path:
    return Path(env or DEFAULT_DIR)


@cache
def _path_of(env: str | None, name: str) -> str:
    return str(_dir_of(env) / name)


@cache
def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load(name: str) -> Any:
    """Parsed YAML of `name` (e.g. "rules.yaml", "forms/form1.yaml"), cached per path."""
    return _load(_path_of(os.environ.get("JIBAO_CONFIG_DIR"), name))


def clear_cache() -> None:
    _load.cache_clear()
