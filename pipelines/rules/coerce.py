"""Turn a raw cell into a number, the way the office reads a hand-typed form.

Blanks and placeholders (无, -, /) are errors that ask for 0; numbers stored as text and
full-width digits are read but flagged; anything else that is not a number is an error.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cache

from pipelines import config
from pipelines.text import has_full_width_digits

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@cache
def _blank_tokens(config_dir: str) -> frozenset[str]:
    return frozenset(
        unicodedata.normalize("NFKC", t).strip() for t in config.load("rules.yaml")["blank_tokens"]
    )


def coerce(raw: object) -> tuple[float | None, str | None, str]:
    """(value, rule kind or None, text found). The rule kind names an error (no value) or a
    warning (value read)."""
    if raw is None:
        return None, "blank", ""
    if isinstance(raw, bool):
        return None, "not_a_number", "是" if raw else "否"
    if isinstance(raw, int | float):
        if raw != raw or raw in (float("inf"), float("-inf")):  # NaN / inf from a broken cell
            return None, "not_a_number", str(raw)
        return float(raw), None, str(raw)
    if isinstance(raw, dt.date | dt.time | dt.datetime):
        return None, "not_a_number", str(raw)
    text = str(raw)
    stripped = text.strip()
    if not stripped:
        return None, "blank", text
    normal = unicodedata.normalize("NFKC", stripped).replace(",", "").replace(" ", "")
    if normal in _blank_tokens(str(config.config_dir())):
        return None, "blank_token", stripped
    if _NUMBER.fullmatch(normal):
        kind = "full_width_digits" if has_full_width_digits(stripped) else "number_as_text"
        return float(normal), kind, stripped
    return None, "not_a_number", stripped
