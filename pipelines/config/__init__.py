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


class ConfigError(Exception):
    """A configuration file is missing, unreadable or malformed (message in Chinese, for the
    office: the file, and the line or key to fix). The CLI exits 78 on it."""


class MissingKey(ConfigError, KeyError):
    """A key the code needs is absent from a configuration file. Still a KeyError, so code that
    treats a key as optional (`try: cfg[k] except KeyError`) keeps working."""

    def __str__(self) -> str:
        return str(self.args[0])


class ConfigDict(dict):
    """A mapping read from `source` at `where` (dotted keys): a missing key raises MissingKey
    naming the file and the full key, instead of a bare KeyError deep inside a step."""

    def __init__(self, *args: Any, source: str = "", where: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source, self.where = source, where

    def __missing__(self, key: Any) -> Any:
        full = f"{self.where}.{key}" if self.where else str(key)
        raise MissingKey(f"配置文件 {self.source} 缺少配置项「{full}」，请补上后重试")


def _wrap(node: Any, source: str, where: str = "") -> Any:
    if isinstance(node, dict):
        return ConfigDict(
            {k: _wrap(v, source, f"{where}.{k}" if where else str(k)) for k, v in node.items()},
            source=source,
            where=where,
        )
    if isinstance(node, list):
        return [_wrap(v, source, where) for v in node]
    return node


@cache
def _load(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码，请另存为 UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"配置文件 {path} 格式有误（{where}）：{problem}") from None
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc.strerror or exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"配置文件 {path} 是空的或不是「键: 值」的格式")
    return _wrap(data, path)


def load(name: str) -> Any:
    """Parsed YAML of `name` (e.g. "rules.yaml", "forms/form1.yaml"), cached per path."""
    return _load(_path_of(os.environ.get("JIBAO_CONFIG_DIR"), name))


def clear_cache() -> None:
    _load.cache_clear()
