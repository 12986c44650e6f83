"""Chinese messages for issues, from the templates in rules.yaml › messages."""

from __future__ import annotations

from pipelines import config
from pipelines.forms import ColumnSpec, FormSpec


def _rules() -> dict:
    return config.load("rules.yaml")


def severity(rule_kind: str) -> str:
    r = _rules()
    for section in ("cell_rules", "structure_rules"):
        if rule_kind in r.get(section, {}):
            return r[section][rule_kind]
    hist = r.get("history", {}).get(rule_kind)
    if isinstance(hist, dict):
        return hist["severity"]
    if isinstance(hist, str):
        return hist
    raise KeyError(f"no severity configured for {rule_kind}")


def render(kind: str, **params: object) -> str:
    return _rules()["messages"][kind].format(**params)


def fmt(value: float | None) -> str:
    """Numbers as a person would write them: 912, not 912.0; 3.25 stays 3.25."""
    if value is None:
        return "空"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def where(form: FormSpec, row_label: str, col: ColumnSpec, cell: str | None) -> str:
    """「表一 街道行「整改隐患数量（条）」(K7)」: the form, row, column and cell a person looks at."""
    at = f"({cell})" if cell else ""
    return f"{form.name} {row_label}行「{col.display}」{at}"
