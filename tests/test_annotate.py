"""Annotated copies mailed back to submitters: problem cells marked, and nothing in the copy acts
when it is opened — formulas are their cached values, formula-like text is quote-prefixed, control
characters (which openpyxl refuses) are visible escapes, links are gone."""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import load_workbook

from pipelines.forms.layout import layout
from pipelines.outputs.annotate import ERROR_COLOR, LIST_SHEET, CellNote, annotate
from tests.hostile import BEL, DDE, ESC, HYPERLINK, RLO, VT, live_parts, poison
from tests.returns import FORM1_STREET, write_return

A1 = layout("form1").a1


def _hostile_return(path: Path) -> Path:
    values = {("street", k): v for k, v in FORM1_STREET.items()}
    values[("street", "ent_small")] = "PH_SMALL"
    values[("street", "ent_total")] = "=SUM(1,2)"
    values[("street", "rescue_team")] = DDE
    write_return(path, "form1", "常泰街道", values)
    wb = load_workbook(path)
    ws = wb.active
    ws["AD2"] = HYPERLINK
    ws["A20"] = "PH_DDE_TEXT"
    ws["B20"] = "PH_NAME"
    wb.save(path)
    return poison(
        path,
        text={"PH_SMALL": f"300{BEL}{VT}", "PH_DDE_TEXT": DDE, "PH_NAME": f"报表{RLO}{ESC}[31m"},
        cached={
            A1("street", "ent_total"): 395,
            A1("street", "rescue_team"): 60,
            "AD2": "点击查看",
        },
    )


def test_a_hostile_workbook_is_copied_with_nothing_live(tmp_path: Path):
    src = _hostile_return(tmp_path / "常泰街道.xlsx")
    assert live_parts(src), "the source must really hold live content"
    message = f"表一 街道行「小微企业」({A1('street', 'ent_small')})应为数字，现为「300{BEL}{VT}」"
    notes = [
        CellNote("error", message, "Sheet", A1("street", "ent_small"), "表一"),
        CellNote("warning", f"文件名「a{RLO}b」{ESC}[2J", None, None, "表一"),
    ]
    copy = annotate(src, notes, tmp_path / "out" / "copy.xlsx")
    assert copy is not None and copy.marked == 1
    assert live_parts(copy.path) == []
    ws = load_workbook(copy.path)["Sheet"]
    assert ws[A1("street", "ent_total")].value == 395  # the formula's cached value
    assert ws[A1("street", "rescue_team")].value == 60  # the DDE call's cached value, inert
    assert ws["AD2"].value == "点击查看" and ws["AD2"].hyperlink is None
    assert ws["A20"].value == DDE and ws["A20"].quotePrefix  # text that reads as a formula
    assert ws["B20"].value == "报表<U+202E>\\x1b[31m"
    small = ws[A1("street", "ent_small")]
    assert small.value == "300\\x07\\x0b"  # the full value stays, visibly
    assert small.fill.fgColor.rgb == ERROR_COLOR and "\\x07" in small.comment.text


def test_problem_list_prints_one_page_wide_with_its_header_repeated(tmp_path: Path):
    src = write_return(tmp_path / "r.xlsx", "form1", "常泰街道")
    notes = [
        CellNote("warning", "很长的说明" * 30, "Sheet", f"C{7 + i}", "表一") for i in range(40)
    ]
    copy = annotate(src, notes, tmp_path / "c.xlsx")
    ws = load_workbook(copy.path)[LIST_SHEET]
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    assert all(ws.cell(r, 5).alignment.wrap_text for r in range(1, 42))


def test_copy_keeps_the_submitters_merges_and_borders(tmp_path: Path):
    src = write_return(tmp_path / "r.xlsx", "form1", "常泰街道")
    copy = annotate(src, [CellNote("error", "x", "Sheet", "A1", "表一")], tmp_path / "c.xlsx")
    before = load_workbook(src).active
    after = load_workbook(copy.path)["Sheet"]
    assert {str(r) for r in before.merged_cells.ranges} == {
        str(r) for r in after.merged_cells.ranges
    }
    ref = A1("street", "ent_small")
    assert after[ref].border.left.style == before[ref].border.left.style == "thin"
    with zipfile.ZipFile(copy.path) as z:
        assert "xl/comments/comment1.xml" in z.namelist() or any(
            "comment" in n for n in z.namelist()
        )
