"""Submitters' text is data: one sanitiser for every writer.

Cell values, sheet names, file names and 填报单位 come from outside. Wherever jibao writes them —
an xlsx cell, Markdown, HTML, a terminal, a file name, a webhook payload, a mail header — they
must not act: no control characters (openpyxl refuses most of them; terminals obey escapes), no
bidi or zero-width overrides (they make 「报表.xlsx」 read backwards), no live formula. Writers call
the function for their medium; none keeps a private list of dangerous characters.

The full value always stays in the warehouse and in the submitter's own workbook; what is cut
here is only what a message quotes.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "INVISIBLE",
    "display",
    "excel_text",
    "for_template",
    "ooxml_text",
    "one_line",
    "quote",
    "safe_filename",
    "terminal",
]

# C0 controls except TAB/LF/CR, DEL and C1 controls.
_CONTROL = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_C1 = "".join(chr(c) for c in range(0x80, 0xA0))
# Bidi embeddings/overrides/isolates and marks, zero-width characters, word joiner, BOM,
# interlinear annotation, line/paragraph separators.
INVISIBLE = (
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff\ufff9\ufffa\ufffb"
    "\u2028\u2029"
)
_BAD = re.compile(f"[{re.escape(_CONTROL + _C1 + INVISIBLE)}]")
_BREAKS = re.compile(r"[\t\r\n]+")

QUOTE_LIMIT = 40  # characters of a value a message quotes
ELLIPSIS = "…"


def _escape(match: re.Match[str]) -> str:
    """A visible stand-in: 「\\x07」 for controls, 「<U+202E>」 for invisible format characters."""
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"<U+{code:04X}>"


def display(value: object, *, escape: bool = True) -> str:
    """Text safe to show anywhere a person reads it (letters, pages, reports): dangerous
    characters shown as visible escapes (`escape=True`) or removed. Line breaks are kept."""
    text = "" if value is None else str(value)
    return _BAD.sub(_escape if escape else "", text)


def for_template(value: object) -> object:
    """A jinja2 `finalize` for autoescaped pages (report, letters): text made visible by
    `display`, then escaped by jinja2; markup the page built itself (`__html__`) and numbers pass
    through; None prints as nothing."""
    if value is None:
        return ""
    if hasattr(value, "__html__") or isinstance(value, int | float):
        return value
    return display(value)


def one_line(value: object) -> str:
    """`display` on one line: for headers, table cells, terminal lines, file lists."""
    return " ".join(_BREAKS.sub(" ", display(value)).split())


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A value as a message quotes it: one line, visible escapes, cut to `limit` characters."""
    text = one_line(value)
    return text if len(text) <= limit else text[: max(1, limit - 1)] + ELLIPSIS


def terminal(value: object) -> str:
    """Text for a terminal: no escape sequence can reach it (ESC, CSI and BEL become visible).
    Line breaks are kept so multi-line messages print as they read."""
    return display(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|")
# openpyxl's own ILLEGAL_CHARACTERS_RE is C0 minus TAB/LF/CR: a subset of _BAD.


def excel_text(value: object) -> tuple[str, bool]:
    """(text, quote_prefix) for a text cell written from outside data: characters a workbook
    cannot hold removed (shown as escapes), and `quote_prefix` True when it would read as a
    formula or DDE call (= + - @ |), so that no spreadsheet evaluates it."""
    text = display(value)
    return text, text.startswith(_FORMULA_START)


_OOXML_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def ooxml_text(stored: str) -> tuple[str, bool]:
    """`excel_text` for a string as an .xlsx part stores it (openpyxl reads it so): Excel writes
    characters XML cannot hold as `_xHHHH_` and shows them decoded, so they are decoded first,
    made visible, and any `_xHHHH_` left in the text is escaped to stay literal."""
    decoded = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), stored)
    text, prefixed = excel_text(decoded)
    return _OOXML_ESCAPE.sub(lambda m: "_x005F" + m.group(0), text), prefixed


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


def safe_filename(name: object, *, default: str = "未命名", max_len: int = 80) -> str:
    """A file or folder name from outside text: no path separators, control, bidi or zero-width
    characters, no reserved characters, no leading dots, bounded length."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = _UNSAFE_NAME.sub("_", text)
    text = _BAD.sub("", text).strip(" ._")
    return text[:max_len].rstrip(" ._") or default
