"""The grid shows what the submitter sees in Excel: error values as their literal, hidden sheets
marked hidden — from files saved by a real office suite, through every engine."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from pipelines.reader import WorkbookGrid, engines, read_workbook
from pipelines.reader.sniff import Sniffed, sniff
from tests.libreoffice import convert, requires_soffice

FORMULAS = ["=1/0", "=NA()", "=#REF!+1", '="a"+1', "=0.1*3*10", "=2+3"]
SHOWN = ["#DIV/0!", "#N/A", "#REF!", "#VALUE!", 3.0, 5.0]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One workbook (formulas with errors on a visible sheet, a hidden and a very hidden sheet)
    saved by LibreOffice as xlsx, xls and ods: LibreOffice computes and stores the results."""
    d = tmp_path_factory.mktemp("office")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    for c, f in enumerate(FORMULAS, start=1):
        ws.cell(1, c, f)
    wb.create_sheet("旧表").sheet_state = "hidden"
    wb["旧表"]["A1"] = "隐藏"
    source = d / "source.xlsx"
    wb.save(source)
    out = {fmt: convert(source, fmt, d / fmt) for fmt in ("xlsx", "xls", "ods")}
    return out


def _sheets(path: Path, engine: str | None = None) -> dict[str, tuple[str, list]]:
    if engine is None:
        got = read_workbook(path)
        assert isinstance(got, WorkbookGrid), got
        sheets = got.sheets
    else:
        sn = sniff(path)
        assert isinstance(sn, Sniffed)
        sheets, _notes = engines.ENGINES[engine](sn)
    return {s.name: (s.state, s.cells) for s in sheets}


def _first_row(cells: list) -> list:
    return [round(v, 9) if isinstance(v, float) else v for v in cells[0][: len(SHOWN)]]


@requires_soffice
@pytest.mark.parametrize(
    ("fmt", "engine"),
    [("xlsx", None), ("xls", None), ("ods", None), ("xlsx", "openpyxl"), ("xls", "xlrd")],
)
def test_error_values_read_as_excel_shows_them_and_hidden_sheets_say_so(saved, fmt, engine):
    sheets = _sheets(saved[fmt], engine)
    state, cells = sheets["数据"]
    assert state == "visible"
    assert _first_row(cells) == SHOWN
    assert sheets["旧表"][0] == "hidden"


def test_very_hidden_sheets_are_marked(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "看得见"
    wb.create_sheet("藏").sheet_state = "veryHidden"
    wb.save(tmp_path / "v.xlsx")
    for engine in (None, "openpyxl"):
        sheets = _sheets(tmp_path / "v.xlsx", engine)
        assert (sheets["Sheet"][0], sheets["藏"][0]) == ("visible", "veryHidden")
