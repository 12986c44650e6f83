"""The report's 附录二: every assumption in force, with the value configured for it now.

assumptions.yaml lists each assumption in plain Chinese with the file and key of the setting it
governs; the appendix reads that setting when the report is generated and shows it in the
office's words (a glossary maps configuration keys to them), so changing a value in its own file
changes what the report says, and a key that no longer exists shows as 「（未配置）」 (a test
keeps every line resolving to a real setting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines import config, periods
from pipelines.forms import FORM_IDS, get_form
from pipelines.outputs import tables

NOT_CONFIGURED = "（未配置）"
# What each configuration file holds, as the office names it (the appendix's 配置位置 column).
FILE_LABEL = {
    "calendar.yaml": "日历与报送期限",
    "submitters.yaml": "报送单位名录",
    "targets.yaml": "十百千万任务",
    "scoring.yaml": "绩效评分",
    "rules.yaml": "校验规则",
    "assumptions.yaml": "报告口径",
    "forms/form1.yaml": "表一格式",
    "forms/form2.yaml": "表二格式",
    "forms/form3.yaml": "表三格式",
    "forms/form4.yaml": "表四格式",
}


@dataclass(frozen=True)
class Assumption:
    text: str
    file: str
    key: str
    value: str

    @property
    def where(self) -> str:
        """「十百千万任务（targets.yaml）」: the file the office edits, in its words."""
        label = FILE_LABEL.get(self.file)
        return f"{label}（{self.file}）" if label else self.file


def _step(node: Any, segment: str) -> Any:
    """One step of an assumptions.yaml key: a mapping key, `[field=value]`, or a map over a list."""
    if segment.startswith("[") and segment.endswith("]"):
        fld, _, want = segment[1:-1].partition("=")
        return [x for x in node if isinstance(x, dict) and str(x.get(fld)) == want]
    if isinstance(node, list):
        picked = [_step(x, segment) for x in node if isinstance(x, dict)]
        flat = [y for x in picked for y in (x if isinstance(x, list) else [x])]
        return [x for x in flat if x is not None]
    if isinstance(node, dict):
        for k in (segment, int(segment) if segment.isdigit() else None):
            if k is not None and k in node:
                return node[k]
    return None


def resolve_key(data: Any, key: str) -> Any:
    node = data
    for segment in _split_key(key):
        node = _step(node, segment)
        if node is None:
            return None
    if isinstance(node, list) and len(node) == 1 and key.endswith("]"):
        return node[0]
    return node


def _split_key(key: str) -> list[str]:
    out, buf, depth = [], "", 0
    for ch in key:
        if ch == "[":
            if buf:
                out.append(buf)
            buf, depth = "[", 1
        elif ch == "]":
            out.append(buf + "]")
            buf, depth = "", 0
        elif ch == "." and not depth:
            if buf:
                out.append(buf)
            buf = ""
        else:
            buf += ch
    if buf:
        out.append(buf)
    return out


# Configuration keys shown in the appendix, in the words the office uses.
_WORDS = {
    **tables.STATUS_LABEL,
    **tables.SCORE_PARTS,
    "severity": "级别",
    "warning": "提示",
    "error": "错误",
    "max_relative_change": "变化幅度上限",
    "min_absolute_change": "变化量下限",
    "modified_z": "偏离倍数阈值",
    "min_points": "最少期数",
    "Q1": "第一季度",
    "Q2": "第二季度",
    "Q3": "第三季度",
    "Q4": "第四季度",
}


def _glossary() -> dict[str, str]:
    words = dict(_WORDS)
    words |= {f: get_form(f).name for f in FORM_IDS}
    words |= {c.id: c.display for c in get_form("form2").value_columns}  # 十百千万 measures
    words |= {k: v["label"] for k, v in config.load("targets.yaml")["measures"].items()}
    words |= {k: periods.window_label(k) for k in config.load("calendar.yaml")["windows"]}
    return words


def _show(value: Any, words: dict[str, str], limit: int = 240) -> str:
    if value is None:
        return NOT_CONFIGURED
    if isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, dict) and "label" in value:
        text = str(value["label"])  # a configured reference (e.g. a scale): its name says it
    elif isinstance(value, dict):
        text = "；".join(f"{words.get(str(k), k)}：{_show(v, words)}" for k, v in value.items())
    elif isinstance(value, list):
        text = "、".join(_show(v, words) for v in value)
    else:
        text = words.get(str(value), str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def assumptions() -> list[Assumption]:
    """Every assumption in assumptions.yaml with the value currently configured for it."""
    out, words = [], _glossary()
    for item in config.load("assumptions.yaml")["assumptions"]:
        value = resolve_key(config.load(item["file"]), str(item["key"]))
        out.append(Assumption(item["text"], item["file"], str(item["key"]), _show(value, words)))
    return out


def unlisted_assumption_files() -> list[str]:
    """Config files with an ASSUMPTION comment but no entry in assumptions.yaml: the report names
    them so that a new assumption cannot hide in a comment."""
    listed = {item["file"] for item in config.load("assumptions.yaml")["assumptions"]}
    root = config.config_dir()
    found = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.yaml")
        if "ASSUMPTION" in p.read_text(encoding="utf-8")
    )
    return [f for f in found if f not in listed and f != "assumptions.yaml"]
