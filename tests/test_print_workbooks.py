"""The consolidated return and the annotated workbook print as an office prints them (issue 9
point 8): converted to PDF by LibreOffice and read back with poppler. Every official sheet is
legible on A4 landscape (≥ 7 pt; a wide form over two pages with its header rows and label column
repeated), every 明细 sheet and the 问题清单 print one page wide with the header row repeated,
and the consolidated return says under each table which units it does not include, and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipelines import periods
from pipelines.forms import FORM_IDS, get_form
from pipelines.outputs.annotate import LIST_HEAD, CellNote, annotate
from pipelines.outputs.consolidated import consolidated_path, write_consolidated
from tests.libreoffice import convert, requires_soffice
from tests.printing import MIN_PT, Page, printed_size, read_pdf, requires_poppler
from tests.returns import write_return

pytestmark = [requires_soffice, requires_poppler]


def _runs(pages: list[Page]) -> list[tuple[str, list[Page]]]:
    """Consecutive pages grouped by the sheet they belong to (LibreOffice prints sheets in
    order; a 明细 page repeats its title row, an official page its header)."""
    names = [get_form(f).name for f in FORM_IDS]
    runs: list[tuple[str, list[Page]]] = []
    form = 0
    for page in pages:
        detail = "明细：各单位报送数据" in page.text
        kind = f"{names[form]}明细" if detail else names[form]
        if runs and runs[-1][0] != kind and not detail:
            form += 1
            kind = names[form]
        if not runs or runs[-1][0] != kind:
            runs.append((kind, []))
        runs[-1][1].append(page)
    return runs


@pytest.fixture(scope="module")
def consolidated_pdf(sample_warehouse, tmp_path_factory) -> tuple[Path, list[Page]]:
    out = tmp_path_factory.mktemp("print_consolidated")
    quarter = sample_warehouse.quarters[-1]
    con = sample_warehouse.connect()
    try:
        book = write_consolidated(
            con, quarter, consolidated_path(out, quarter), today=dt.date(2026, 4, 20)
        )
    finally:
        con.close()
    return book, read_pdf(convert(book, "pdf", out / "pdf"))


def test_official_sheets_are_legible_on_a4_landscape(consolidated_pdf):
    _, pages = consolidated_pdf
    runs = dict(_runs(pages))
    assert list(runs) == [
        n for f in FORM_IDS for n in (get_form(f).name, f"{get_form(f).name}明细")
    ]
    for form_id in FORM_IDS:
        name = get_form(form_id).name
        sheet = runs[name]
        sizes = [round(printed_size(p), 1) for p in sheet]
        print(f"{name}: {len(sheet)} pages, smallest text {min(sizes)} pt")
        assert all(p.width > p.height for p in sheet), name  # landscape
        assert len(sheet) <= 2, name
        assert min(sizes) >= MIN_PT, (name, sizes)
    # 表四's 36 columns split over two pages, each repeating the header and the 场所类别 column.
    first, second = runs["表四"]
    for page in (first, second):
        assert "场所类别" in page.text and "小餐饮" in page.text
    assert "执法激励约束（续）" in second.text


def test_detail_sheets_print_one_page_wide_with_the_header_repeated(consolidated_pdf):
    _, pages = consolidated_pdf
    for name, sheet in _runs(pages):
        if not name.endswith("明细"):
            continue
        print(
            f"{name}: {len(sheet)} pages, smallest text {min(printed_size(p) for p in sheet):.1f} pt"
        )
        assert len(sheet) <= 3, name
        assert all("填报单位" in p.text for p in sheet), name  # the header row on every page


def test_each_table_says_which_units_are_not_included_and_why(consolidated_pdf):
    book, _ = consolidated_pdf
    wb = load_workbook(book)
    for form_id in FORM_IDS:
        ws = wb[get_form(form_id).name]
        text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
        assert "本表汇总" in text or "本季度尚无已采用的" in text
        assert "未计入" in text or "应报单位均已计入" in text
        details = wb[f"{get_form(form_id).name}明细"]
        lines = [str(c.value) for c in details["A"] if c.value]
        nothing = next(x for x in lines if x.startswith("未报送单位"))
        rejected = next(x for x in lines if x.startswith("已报送但未通过校验"))
        units = lambda line: set(line.split("：", 1)[1].split("、")) - {"无"}  # noqa: E731
        assert not units(nothing) & units(rejected)


def test_a_quarter_with_nothing_accepted_shows_blanks_not_zeros(sample_warehouse, tmp_path):
    """Early in a window: no unit is included, so no figure is shown as if it were one."""
    early = periods.Quarter.parse(sample_warehouse.quarters[-1]).next()
    con = sample_warehouse.connect()
    try:
        book = write_consolidated(
            con, str(early), tmp_path / "c.xlsx", today=early.start + dt.timedelta(days=30)
        )
    finally:
        con.close()
    from pipelines.forms.layout import layout

    wb = load_workbook(book)
    for form_id in FORM_IDS:
        ws = wb[get_form(form_id).name]
        values = [ws.cell(r + 1, c + 1).value for _, _, r, c in layout(form_id).value_cells()]
        assert values and all(v is None for v in values), form_id
        text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
        assert "本季度尚无已采用的" in text and "尚未报送，未到截止日" in text


def test_the_problem_list_prints_one_page_wide(tmp_path):
    src = write_return(tmp_path / "常泰街道.xlsx", "form1", "常泰街道")
    message = "表一 街道行「整改隐患数量（条）」(K7) 为 51，大于「自查隐患数量（条）」48，请核对"
    notes = [
        CellNote("error", f"{message}（第 {i} 处）", "Sheet", f"K{7}", "表一") for i in range(60)
    ]
    copy = annotate(src, notes, tmp_path / "out" / "常泰街道_问题标注.xlsx")
    pages = read_pdf(convert(copy.path, "pdf", tmp_path / "pdf"))
    listing = [p for p in pages if LIST_HEAD[-1] in p.text]
    assert listing, "the 问题清单 did not print"
    print(
        f"问题清单: {len(listing)} pages, smallest text {min(printed_size(p) for p in listing):.1f} pt"
    )
    # One page wide: every page of the list holds all its columns and its header row.
    assert all(all(head in p.text for head in LIST_HEAD) and "K7" in p.text for p in listing)
    assert min(printed_size(p) for p in listing) >= MIN_PT
    assert all(p.width < p.height for p in listing)  # portrait, one page wide
    assert all(LIST_HEAD[-1] in p.text for p in listing)  # the header row repeated
    assert "第59处" in "".join(p.text for p in listing).replace(" ", "")  # nothing cut off
