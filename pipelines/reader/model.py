"""Data model of the reader layer: what a parsed workbook or a refusal looks like.

Everything here is plain data so that it pickles cheaply between worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EXCEL_ERRORS",
    "MESSAGES",
    "SheetGrid",
    "Unreadable",
    "WorkbookGrid",
    "unreadable",
]


@dataclass(frozen=True, slots=True)
class SheetGrid:
    """One sheet as a dense grid anchored at A1.

    ``cells[r][c]`` is 0-based from A1 (leading empty rows/columns are padded with
    None, trailing ones trimmed). Values are None, str, int, float, bool or
    datetime/date/time; formula cells hold their cached value, and a cell holding an Excel
    error value holds its literal (「#DIV/0!」, what Excel shows; see ``EXCEL_ERRORS``).
    ``state`` is what the submitter sees of the sheet: "visible", "hidden" or "veryHidden".
    """

    name: str
    cells: list[list[object]]
    merged: list[tuple[int, int, int, int]]  # 0-based inclusive (r0, c0, r1, c1)
    formulas_without_value: frozenset[tuple[int, int]]  # xlsx only
    state: str = "visible"

    @property
    def visible(self) -> bool:
        return self.state == "visible"


@dataclass(frozen=True, slots=True)
class WorkbookGrid:
    """A workbook that was read; ``notes`` are Chinese remarks for the office."""

    path: str
    format: str  # "xlsx" | "xlsm" | "xls" | "et" | "xlsb" | "ods"
    sheets: list[SheetGrid]
    notes: list[str]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A file that yields no grid: stable English ``code`` + Chinese ``message`` for the submitter."""

    path: str
    code: str
    message: str


# Excel's error values, as Excel shows them, with what each means to the person who typed the
# formula (the cell's message says it).
EXCEL_ERRORS: dict[str, str] = {
    "#DIV/0!": "除数为零",
    "#REF!": "引用的单元格已被删除或无效",
    "#VALUE!": "公式中的数据类型不对",
    "#N/A": "查找的值不存在",
    "#NAME?": "公式中有无法识别的函数或名称",
    "#NULL!": "引用的区域没有交集",
    "#NUM!": "数值无效或超出范围",
    "#GETTING_DATA": "数据尚未计算完成",
    "#SPILL!": "动态数组结果被其他单元格挡住",
    "#CALC!": "公式无法计算",
}

RESEND = "请用Excel或WPS打开后另存为xlsx重新报送"

# Default message per code; sniffing may pass a more specific one (e.g. for a PDF).
MESSAGES: dict[str, str] = {
    "not_spreadsheet": "文件不是Excel表格，请报送Excel格式的报表（xlsx或xls）",
    "encrypted": "文件设有密码保护，请取消密码后重新报送",
    "zip_bomb": "文件解压后异常膨胀（疑似压缩炸弹），已拒收，" + RESEND,
    "xml_entities": "文件包含不安全的XML实体声明，已拒收，请用Excel或WPS另存为xlsx后重新报送",
    "too_large": "文件过大，无法处理，请删除无关工作表、图片后另存为xlsx重新报送",
    "too_many_cells": "工作表数据范围过大（可能有远离表格的零散单元格），请删除多余行列后另存为xlsx重新报送",
    "corrupt": "文件已损坏或格式异常，无法读取，" + RESEND,
    "timeout": "文件读取超时，" + RESEND,
    "crashed": "文件无法解析（读取程序异常终止），" + RESEND,
    "empty": "文件为空（0字节），请重新导出Excel格式的报表（xlsx或xls）后报送",
    "not_a_file": "这不是普通文件，无法作为报表读取，请报送Excel格式的报表（xlsx或xls）",
}


def unreadable(path: str, code: str, message: str | None = None) -> Unreadable:
    """Build an ``Unreadable`` with the default Chinese message for ``code``."""
    if code not in MESSAGES:
        raise ValueError(f"unknown code {code!r}")
    return Unreadable(path=path, code=code, message=message or MESSAGES[code])
