"""Turn a raw cell into a number, the way the office reads a hand-typed form.

Blanks and placeholders (无, -, /) are errors that ask for 0; numbers stored as text and
full-width digits are read but flagged; an Excel error value (#DIV/0!) is an error that says
which; anything else that is not a number is an error. A number is what Excel shows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cache

from pipelines import config
from pipelines.reader.model import EXCEL_ERRORS
from pipelines.text import has_full_width_digits

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# LibreOffice shows its own error codes (「Err:502」) where Excel would show #NUM! and the like.
_LIBREOFFICE_ERROR = re.compile(r"Err:\d{3}")
WHOLE_TOLERANCE = 1e-9  # relative: a formula result this close to a whole number is that number


def as_shown(value: float) -> float:
    """The number as Excel shows it: a result like 3.0000000000000004 (=0.1*3*10) or
    -2.8e-17 (=0.3-0.1-0.2) within 1e-9 (relative, at least absolute 1e-9) of a whole number is
    that whole number; anything else is kept as it is."""
    whole = round(value)
    if whole != value and abs(value - whole) <= WHOLE_TOLERANCE * max(1.0, abs(value)):
        return float(whole)
    return value


def is_error_value(text: str) -> bool:
    """An Excel (or LibreOffice) error value as a cell shows it: 「#DIV/0!」, 「#N/A」, 「Err:502」."""
    return text in EXCEL_ERRORS or _LIBREOFFICE_ERROR.fullmatch(text) is not None


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
        return as_shown(float(raw)), None, str(raw)
    if isinstance(raw, dt.date | dt.time | dt.datetime):
        return None, "not_a_number", str(raw)
    text = str(raw)
    stripped = text.strip()
    if not stripped:
        return None, "blank", text
    if is_error_value(stripped):
        return None, "excel_error", stripped
    normal = unicodedata.normalize("NFKC", stripped).replace(",", "").replace(" ", "")
    if normal in _blank_tokens(str(config.config_dir())):
        return None, "blank_token", stripped
    if _NUMBER.fullmatch(normal):
        kind = "full_width_digits" if has_full_width_digits(stripped) else "number_as_text"
        return float(normal), kind, stripped
    return None, "not_a_number", stripped
