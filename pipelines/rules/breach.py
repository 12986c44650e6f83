"""What the cross-cell rules find, and the rule definitions they read (rules.yaml › rules) — apart
from how they are computed (cross.py over a polars frame, rowwise.py over plain rows), so the
light path imports no polars."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pipelines import config
from pipelines.forms import get_form

__all__ = ["Breach", "rules_for", "tolerance"]


@dataclass(frozen=True, slots=True)
class Breach:
    rule_id: str
    kind: str  # sum | le | le_sum | total_row
    severity: str
    ret: int
    row_key: str
    column_id: str  # the cell the message points at
    found: float
    expected: float  # the total expected, or the bound exceeded
    detail: dict


def rules_for(form_id: str) -> list[dict]:
    return [r for r in config.load("rules.yaml")["rules"] if r["form"] == form_id]


def tolerance(form_id: str, cols: list[str]) -> float:
    """rules.yaml › amount_tolerance when any of the columns is an amount (万元), else 0."""
    return _tolerance(str(config.config_dir()), form_id, tuple(cols))


@lru_cache(maxsize=1024)
def _tolerance(config_dir: str, form_id: str, cols: tuple[str, ...]) -> float:
    form = get_form(form_id)
    amount = any(form.column(c).is_amount for c in cols)
    return float(config.load("rules.yaml").get("amount_tolerance", 0)) if amount else 0.0
