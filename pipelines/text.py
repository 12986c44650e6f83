"""Text normalisation for matching labels typed by hand in Excel or WPS."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
_BRACKETS = str.maketrans({"(": "（", ")": "）", "[": "（", "]": "）", "【": "（", "】": "）"})
_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』")


def norm(value: object) -> str:
    """Canonical form of a label: NFKC (full-width → half-width), no white space or line breaks,
    brackets as full-width （）, quotes removed, so 「企业基数(家)」 and 「企业基数\\n（家）」 match."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = _SPACES.sub("", text)
    return text.translate(_BRACKETS).translate(_QUOTES)


_UNIT = re.compile(r"（[^（）]*）$")


def strip_unit(label: str) -> str:
    """「场所数量（家次）」 → 「场所数量」; labels are matched with and without their unit."""
    return _UNIT.sub("", label)


def has_full_width_digits(text: str) -> bool:
    return any("\uff10" <= ch <= "\uff19" for ch in text)
