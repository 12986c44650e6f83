"""Letters to submitters (alerts and reminders) rendered from the jinja2 templates beside this file.

Text inside a letter partly comes from submitters (unit names as written, file names, values, and
messages quoting them). Every interpolated value first goes through `sanitize.display` (control,
bidi and zero-width characters become visible escapes) in the environment's `finalize`; HTML is
then autoescaped, and Markdown escapes it (`md_escape`), so no template can forget it: a hostile
value can neither inject markup, nor reach a terminal or mail client as an escape sequence, nor
break the letter's structure with line breaks. Values quoted from cells are cut (`quote` filter).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from pipelines.sanitize import display, for_template, quote

TEMPLATES = Path(__file__).resolve().parent
_MD_SPECIAL = re.compile(r"([\\`*\[\]|~#])")
# An underscore between two letters or digits never opens emphasis (CommonMark): leave it, so
# file names like 表一_问题标注.xlsx read naturally in the plain-text part of an e-mail.
_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
WEEKDAYS = "一二三四五六日"


def md_escape(value: Any) -> str:
    """One line of literal Markdown text: HTML-significant characters as entities (renderers pass
    raw HTML through), Markdown punctuation backslash-escaped, line breaks folded to spaces."""
    if value is None:
        return ""
    if isinstance(value, jinja2.runtime.Undefined):
        return ""
    text = " ".join(display(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_UNDERSCORE.sub(r"\\_", _MD_SPECIAL.sub(r"\\\1", text))


def cn_date(day: dt.date | dt.datetime | None, weekday: bool = False) -> str:
    """2025年10月17日（星期五）: how dates are written in official letters."""
    if day is None:
        return ""
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（星期{WEEKDAYS[day.weekday()]}）" if weekday else text


def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=for_template if autoescape else md_escape,
    )
    env.filters["cn_date"] = cn_date
    env.filters["quote"] = quote
    env.globals["numerals"] = "一二三四五六七八九十"
    return env


@cache
def _envs() -> dict[str, jinja2.Environment]:
    return {"md": _env(autoescape=False), "html": _env(autoescape=True)}


def render(template: str, **context: Any) -> tuple[str, str]:
    """(Markdown, HTML) of `<template>.md.j2` and `<template>.html.j2`."""
    envs = _envs()
    md = envs["md"].get_template(f"{template}.md.j2").render(**context)
    html = envs["html"].get_template(f"{template}.html.j2").render(**context)
    return md, html
