"""Which rules the office may explain (config/rules.yaml › explainable), and every rule id there is.

Pure configuration reads, shared by the decisions (refuse an explanation the office may not give)
and the loader (never mark an issue explained unless its rule is explainable, whatever a CSV says).
"""

from __future__ import annotations

from pipelines import config


def _rules() -> dict:
    return config.load("rules.yaml")


def explainable_rules() -> dict[str, str]:
    """Rule id → why a true value can break it (the office reads this when it decides)."""
    return {str(k): str(v) for k, v in (_rules().get("explainable") or {}).items()}


def is_explainable(rule: str | None) -> bool:
    return bool(rule) and rule in explainable_rules()


def known_rules() -> dict[str, str]:
    """Every rule id a validation issue can carry → its kind in words."""
    raw = _rules()
    out: dict[str, str] = {}
    for r in raw.get("rules") or []:
        out[str(r["id"])] = "表内逻辑规则"
    out |= dict.fromkeys(map(str, raw.get("cell_rules") or {}), "单元格规则")
    out |= dict.fromkeys(map(str, raw.get("structure_rules") or {}), "表格结构规则")
    out |= dict.fromkeys(map(str, raw.get("history") or {}), "跨季度核对规则")
    return out
