"""Recognition is memoised per template layout: copies of one template (another submitter,
another quarter, other numbers) share one plan and read exactly as if recognised afresh."""

from __future__ import annotations

import datetime as dt

import openpyxl

from pipelines import recognise
from pipelines.reader import WorkbookGrid, read_workbook
from pipelines.recognise import recognise_sheet
from tests.returns import FORM1_STREET, write_return


def _sheet(path):
    got = read_workbook(path)
    assert isinstance(got, WorkbookGrid)
    return got.sheets[0]


def _fresh(sheet):
    recognise._MEMO.clear()
    return recognise_sheet(sheet)


def _view(recs):
    return [
        (
            r.form.id, r.submitter_text, r.filled_by, r.phone, r.header_date, r.campaign,
            [(f.rule, f.cell, f.params) for f in r.findings],
            [(c.row_key, c.column_id, c.value, c.cell) for c in r.cells],
        )
        for r in recs
    ]  # fmt: skip


def test_copies_of_one_template_share_one_plan_and_read_as_if_fresh(tmp_path):
    a = _sheet(write_return(tmp_path / "a.xlsx", "form1", "常泰街道", {("street", "ent_small"): 9}))
    b = _sheet(
        write_return(
            tmp_path / "b.xlsx",
            "form1",
            "金龙街道",
            {("street", k): v for k, v in FORM1_STREET.items()},
            date=dt.date(2026, 1, 9),
        )
    )
    want_a, want_b = _view(_fresh(a)), _view(_fresh(b))
    recognise._MEMO.clear()
    got_a, got_b = _view(recognise_sheet(a)), _view(recognise_sheet(b))
    assert len(recognise._MEMO) == 1  # one layout, whoever filled it in
    assert (got_a, got_b) == (want_a, want_b)
    assert got_b[0][1] == "金龙街道" and got_b[0][4] == dt.date(2026, 1, 9)


def test_free_text_where_recognition_reads_it_keys_the_layout_on_every_text(tmp_path):
    """A 「填表人」 line under the table (no 注 row) is read as a stray row: each copy must name
    its own text, so that layout is keyed on every text cell."""

    def stray(name: str, who: str):
        path = write_return(tmp_path / name, "form3", "金龙街道")
        wb = openpyxl.load_workbook(path)
        ws = wb.active
        for row in ws.iter_rows():
            if isinstance(row[0].value, str) and row[0].value.startswith("注"):
                row[0].value = f"填表人：{who}"
        wb.save(path)
        return _sheet(path)

    a, b = stray("a.xlsx", "张敏"), stray("b.xlsx", "李四")
    want = _view(_fresh(a)), _view(_fresh(b))
    recognise._MEMO.clear()
    got = _view(recognise_sheet(a)), _view(recognise_sheet(b))
    assert got == want
    assert any("李四" in str(p) for _, _, p in got[1][0][6])
