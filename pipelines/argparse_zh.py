"""argparse in Chinese: the office reads `jibao --help` and argparse's own error lines too.

argparse looks every one of its phrases up through its gettext hook (the module-level `_` and
`ngettext` it imports from `gettext`). `ChineseArgumentParser` points that hook at a Chinese
catalogue while it builds, parses and formats, and puts the English one back afterwards, so
nothing else in the process is affected. Phrases not in the catalogue stay English (they are
programming errors a user never sees, such as conflicting option strings).
"""

from __future__ import annotations

import argparse
import contextlib
import gettext
import threading
from collections.abc import Iterator

__all__ = ["ChineseArgumentParser", "CATALOGUE", "chinese"]

# msgid (Python 3.11–3.13 argparse) -> Chinese
CATALOGUE: dict[str, str] = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "参数 %s 中必须给出一个",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "多余的取值 %r",
    "expected one argument": "需要一个取值",
    "expected at most one argument": "最多一个取值",
    "expected at least one argument": "至少需要一个取值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是：%(matches)s",
    "unexpected option string: %s": "意外的选项：%s",
    "invalid %(type)s value: %(value)r": "取值无效（应为 %(type)s）：%(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项值 %(value)r（可选：%(choices)s）",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "没有子命令 %(parser_name)r（可选：%(choices)s）",
    "can't open '%(filename)s': %(error)s": "无法打开「%(filename)s」：%(error)s",
    " (default: %(default)s)": "（默认：%(default)s）",
}
PLURALS: dict[str, str] = {"expected %s argument": "需要 %s 个取值"}


class _Chinese(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return CATALOGUE.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        if msgid1 in PLURALS:
            return PLURALS[msgid1]
        return msgid1 if n == 1 else msgid2


_TRANSLATIONS = _Chinese()
_hook_lock = threading.RLock()


@contextlib.contextmanager
def chinese() -> Iterator[None]:
    """argparse speaks Chinese inside the block."""
    with _hook_lock:
        saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
        argparse._ = _TRANSLATIONS.gettext  # type: ignore[attr-defined]
        argparse.ngettext = _TRANSLATIONS.ngettext  # type: ignore[attr-defined]
        try:
            yield
        finally:
            argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


class Formatter(argparse.HelpFormatter):
    """Help columns wide enough for the subcommand names (templates, send-back)."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 30, width=None
    ):
        super().__init__(prog, indent_increment, max_help_position, width)


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (usage, section titles, -h, errors) are Chinese.
    Subparsers made with `add_subparsers().add_parser` are of this class too."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        with chinese():
            super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):  # noqa: D102
        with chinese():
            return super().add_argument(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):  # noqa: D102
        with chinese():
            return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:  # noqa: D102
        with chinese():
            return super().format_usage()

    def format_help(self) -> str:  # noqa: D102
        with chinese():
            return super().format_help()

    def error(self, message: str):  # noqa: D102
        with chinese():
            super().error(message)
