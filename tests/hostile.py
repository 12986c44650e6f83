"""Hostile returns for tests: realistic workbooks (tests.returns, the office's own writer) carrying
what real files can hold and openpyxl refuses to write — control characters, bidi overrides,
formulas with cached results (DDE, HYPERLINK), formula-like text — and scanners that say whether
any of it is still live in an output.

openpyxl cannot store a control character and writes formulas without a result, so the return is
written with placeholders and its sheet XML is then rewritten the way Excel stores such cells:
control characters as OOXML `_xHHHH_` escapes, formulas with a cached `<v>` value.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

BEL, ESC, VT = "\x07", "\x1b", "\x0b"
RLO = "\u202e"
DDE = "=cmd|' /C calc'!A0"
HYPERLINK = '=HYPERLINK("http://evil.example/steal","点击查看")'
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
OOXML_CONTROL = re.compile(r"_x00(0[0-8bcefBCEF]|1[0-9a-fA-F])_")


def _ooxml(text: str) -> str:
    """Text as Excel stores it in XML: markup escaped, control characters as _xHHHH_."""
    return CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", escape(text))


def poison(
    path: Path,
    *,
    text: dict[str, str] | None = None,
    cached: dict[str, float | str] | None = None,
) -> Path:
    """Rewrite `path` in place. text: placeholder → the hostile text it stands for (in any inline
    string of any sheet); cached: A1 ref → the cached result of the formula openpyxl wrote there
    (on every sheet that has a formula at that ref)."""
    text, cached = text or {}, cached or {}
    with zipfile.ZipFile(path) as src:
        parts = {info: src.read(info.filename) for info in src.infolist()}
    for info, data in parts.items():
        if not info.filename.startswith("xl/worksheets/sheet"):
            continue
        xml = data.decode("utf-8")
        for placeholder, hostile in text.items():
            xml = xml.replace(
                f"<t>{placeholder}</t>", f'<t xml:space="preserve">{_ooxml(hostile)}</t>'
            )
            xml = xml.replace(placeholder, _ooxml(hostile))  # inside a longer string
        for ref, value in cached.items():
            pattern = re.compile(rf'<c r="{ref}"((?: [a-z]+="[^"]*")*)><f>(.*?)</f><v ?/></c>')
            if isinstance(value, str):
                repl = rf'<c r="{ref}"\1 t="str"><f>\2</f><v>{escape(value)}</v></c>'
            else:
                repl = rf'<c r="{ref}"\1><f>\2</f><v>{value!r}</v></c>'
            xml = pattern.sub(repl, xml)
        parts[info] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts.items():
            out.writestr(info, data)
    return path


def live_parts(xlsx: Path) -> list[str]:
    """What could act in a workbook: formulas (<f>), control characters (raw or _xHHHH_), bidi
    overrides, hyperlinks, external links, DDE, macros, data connections; empty when none."""
    found = []
    with zipfile.ZipFile(xlsx) as z:
        for name in z.namelist():
            low = name.lower()
            if any(k in low for k in ("externallink", "vbaproject", "connections", "activex")):
                found.append(f"{name}: part")
            if not low.endswith((".xml", ".rels", ".vml")):
                continue
            xml = z.read(name).decode("utf-8", "replace")
            if re.search(r"<(\w+:)?f[ >/]", xml):
                found.append(f"{name}: formula")
            # (VML shape ids look like _x0000_t202: not cell text)
            if CONTROL.search(xml) or (not low.endswith(".vml") and OOXML_CONTROL.search(xml)):
                found.append(f"{name}: control character")
            if RLO in xml or "_x202E_" in xml.upper():
                found.append(f"{name}: bidi override")
            if "<hyperlink" in xml or 'TargetMode="External"' in xml:
                found.append(f"{name}: hyperlink")
            if "cmd|" in xml and "quotePrefix" not in _styles(z):
                found.append(f"{name}: DDE text without quote prefix")
    return found


def _styles(z: zipfile.ZipFile) -> str:
    try:
        return z.read("xl/styles.xml").decode("utf-8")
    except KeyError:
        return ""


def raw_text_problems(text: str) -> list[str]:
    """Control characters or bidi overrides left raw in text a person reads (HTML, Markdown)."""
    found = []
    if CONTROL.search(text):
        found.append(f"control character {CONTROL.search(text).group()!r}")
    if RLO in text:
        found.append("U+202E")
    return found
