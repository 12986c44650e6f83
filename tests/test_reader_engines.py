"""Engines agree on shape (merges, offsets, text, formulas), and the worker pool survives bad files."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwt

from pipelines.reader import (
    ReaderLimits,
    ReaderPool,
    SheetGrid,
    Unreadable,
    WorkbookGrid,
    engines,
    read_many,
    read_workbook,
)
from pipelines.reader.sniff import Sniffed, sniff

TEXTS = ["全角　１２３ ", " 前后空格 ", "换行\n文本", "０.５", "常泰街道办事处"]


def _sniffed(path: Path) -> Sniffed:
    sn = sniff(path)
    assert isinstance(sn, Sniffed), sn
    return sn


def _grid(path: Path) -> WorkbookGrid:
    got = read_workbook(path)
    assert isinstance(got, WorkbookGrid), got
    return got


@pytest.fixture
def merged_xlsx(tmp_path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表二"
    ws["A1"] = "十百千万进展情况季报表（二）"
    ws.merge_cells("A1:C1")
    ws["D2"] = "万岗达标（个）"
    ws.merge_cells("D2:E4")
    ws["B3"] = "市级"
    ws.merge_cells("B3:B5")
    for i, text in enumerate(TEXTS, start=1):
        ws.cell(7, i, text)
    ws["A8"] = dt.datetime(2025, 3, 31, 12, 30)
    ws["B8"] = dt.date(2025, 1, 2)
    ws["C8"] = 12.5
    ws["D8"] = 7
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    return path


@pytest.fixture
def merged_xls(tmp_path: Path) -> Path:
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("表一")
    ws.write_merge(0, 0, 0, 2, "落实全员安全生产责任制进展情况季报表（一）")
    ws.write_merge(1, 3, 3, 4, "企业基数（家）")
    ws.write_merge(2, 4, 1, 1, "街道")
    for i, text in enumerate(TEXTS):
        ws.write(6, i, text)
    path = tmp_path / "merged.xls"
    wb.save(str(path))
    return path


def test_merged_ranges_xlsx_calamine_equals_openpyxl(merged_xlsx: Path) -> None:
    sn = _sniffed(merged_xlsx)
    cal, _ = engines.read_calamine(sn)
    opx, _ = engines.read_openpyxl(sn)
    expected = [(0, 0, 0, 2), (1, 3, 3, 4), (2, 1, 4, 1)]
    assert cal[0].merged == expected
    assert opx[0].merged == expected
    assert cal[0].cells == opx[0].cells
    assert cal[0].cells[6][: len(TEXTS)] == TEXTS  # full-width, spaces, newlines untouched
    assert cal[0].cells[7][:4] == [dt.datetime(2025, 3, 31, 12, 30), dt.date(2025, 1, 2), 12.5, 7]


def test_merged_ranges_xls_calamine_equals_xlrd(merged_xls: Path) -> None:
    sn = _sniffed(merged_xls)
    cal, _ = engines.read_calamine(sn)
    xl, _ = engines.read_xlrd(sn)
    expected = [(0, 0, 0, 2), (1, 3, 3, 4), (2, 1, 4, 1)]
    assert cal[0].merged == expected
    assert xl[0].merged == expected
    assert cal[0].cells == xl[0].cells
    assert xl[0].cells[6][: len(TEXTS)] == TEXTS
    assert cal[0].cells[0][0] == "落实全员安全生产责任制进展情况季报表（一）"


def test_start_offset_is_padded(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["C3"] = "起点"
    wb.active["D4"] = 1.5
    wb.save(tmp_path / "c3.xlsx")
    xls = xlwt.Workbook(encoding="utf-8")
    sheet = xls.add_sheet("S")
    sheet.write(2, 2, "起点")
    sheet.write(3, 3, 1.5)
    xls.save(str(tmp_path / "c3.xls"))
    for path in (tmp_path / "c3.xlsx", tmp_path / "c3.xls"):
        sn = _sniffed(path)
        for engine in engines.engine_order(sn):
            sheet_grid: SheetGrid = engines.ENGINES[engine](sn, ReaderLimits())[0][0]
            cells = sheet_grid.cells
            assert len(cells) == 4 and all(len(r) == 4 for r in cells), (path, engine)
            assert cells[2][2] == "起点" and cells[3][3] == 1.5, (path, engine)
            assert cells[0] == [None] * 4 and cells[2][:2] == [None, None]


def test_formula_without_cached_value(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["A3"] = 1, 2, "=SUM(A1:A2)"  # openpyxl writes no cached value
    ws["B1"] = "=A1*2"
    path = tmp_path / "f.xlsx"
    wb.save(path)
    got = _grid(path)
    sheet = got.sheets[0]
    assert sheet.formulas_without_value == frozenset({(2, 0), (0, 1)})
    assert sheet.cells[2][0] is None and sheet.cells[0][1] is None
    assert sheet.cells[0][0] == 1 and sheet.cells[1][0] == 2
    opx, _ = engines.read_openpyxl(_sniffed(path))
    assert opx[0].formulas_without_value == sheet.formulas_without_value
    assert opx[0].cells == sheet.cells


def test_cached_formula_values_are_kept(tmp_path: Path) -> None:
    sheet = (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1"><f>1+1</f><v>2</v></c><c r="B1" t="str"><f>""</f><v></v></c>'
        "</row></sheetData></worksheet>"
    )
    path = tmp_path / "cached.xlsx"
    wb = openpyxl.Workbook()
    wb.save(path)
    with zipfile.ZipFile(path) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    got = _grid(path).sheets[0]
    assert got.cells == [[2.0]] and got.formulas_without_value == frozenset()


def test_fallback_engine_used_when_primary_fails(
    merged_xlsx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FakePanic(BaseException):  # pyo3's PanicException is a BaseException too
        pass

    def boom(*_args: object) -> None:
        raise FakePanic("no entry found for key")

    expected = _grid(merged_xlsx)
    monkeypatch.setitem(engines.ENGINES, "calamine", boom)
    got = read_workbook(merged_xlsx)
    assert isinstance(got, WorkbookGrid)
    assert got.sheets[0].merged == expected.sheets[0].merged
    assert got.sheets[0].cells == expected.sheets[0].cells
    assert any("openpyxl" in n for n in got.notes)
    monkeypatch.setitem(engines.ENGINES, "openpyxl", boom)
    got = read_workbook(merged_xlsx)
    assert isinstance(got, Unreadable) and got.code == "corrupt"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("form.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "not_spreadsheet"),
        ("form.csv", "填报单位,企业数\n常泰街道,395\n".encode(), "not_spreadsheet"),
        ("form.xlsx", b"", "empty"),
    ],
)
def test_non_spreadsheets_through_pool(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    [(got_path, got)] = list(read_many([path]))
    assert got_path == path
    assert isinstance(got, Unreadable) and got.code == expected and got.message


def test_docx_is_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "季报.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        zf.writestr("word/document.xml", "<w:document/>")
    got = read_workbook(path)
    assert isinstance(got, Unreadable) and got.code == "not_spreadsheet"
    assert "Word" in got.message and "xlsx" in got.message


# ---------------------------------------------------------------- worker pool


def test_pool_survives_crash_hang_and_oom(merged_xlsx: Path, tmp_path: Path) -> None:
    crash, hang, oom = (tmp_path / f"{k}.xlsx" for k in ("crash", "hang", "oom"))
    for p in (crash, hang, oom):
        shutil.copy(merged_xlsx, p)
    missing = tmp_path / "missing.xlsx"
    paths = [merged_xlsx, crash, hang, oom, missing, merged_xlsx, merged_xlsx]
    limits = ReaderLimits(timeout_s=2.0, worker_memory_bytes=1 << 30)
    faults = {crash: "crash", hang: "hang", oom: "oom"}
    with ReaderPool(2, limits=limits, fault_injection=faults) as pool:
        results = list(pool.map(paths))
        again = pool.read(merged_xlsx).result(timeout=30)
    assert [p for p, _ in results] == paths  # input order, one verdict per path
    codes = [r.code if isinstance(r, Unreadable) else "grid" for _, r in results]
    assert codes == ["grid", "crashed", "timeout", "too_large", "corrupt", "grid", "grid"]
    crashed = results[1][1]
    assert isinstance(crashed, Unreadable) and "异常终止" in crashed.message
    assert (
        isinstance(again, WorkbookGrid) and again.sheets[0].merged == results[0][1].sheets[0].merged
    )


def test_batched_tasks_still_give_each_file_its_own_verdict(
    merged_xlsx: Path, tmp_path: Path
) -> None:
    """Several files per task: a crash, hang or memory blow-up in one of them must not cost the
    others their reading, and must still end in that file's own verdict."""
    crash, hang, oom = (tmp_path / f"{k}.xlsx" for k in ("crash", "hang", "oom"))
    for p in (crash, hang, oom):
        shutil.copy(merged_xlsx, p)
    missing = tmp_path / "missing.xlsx"
    paths = [merged_xlsx, crash, hang, oom, missing, merged_xlsx, merged_xlsx]
    limits = ReaderLimits(timeout_s=2.0, worker_memory_bytes=1 << 30)
    faults = {crash: "crash", hang: "hang", oom: "oom"}
    with ReaderPool(2, limits=limits, fault_injection=faults) as pool:
        results = list(pool.map(paths, batch=3))
        clean = list(pool.map([merged_xlsx] * 5, batch=4))
    assert [p for p, _ in results] == paths
    codes = [r.code if isinstance(r, Unreadable) else "grid" for _, r in results]
    assert codes == ["grid", "crashed", "timeout", "too_large", "corrupt", "grid", "grid"]
    assert [type(r) for _, r in clean] == [WorkbookGrid] * 5


def _sheet_count_and_pid(path: str, verdict: WorkbookGrid | Unreadable) -> tuple[int, int]:
    """A ``then`` hook for the test below (top level: workers import it by name)."""
    return (len(verdict.sheets) if isinstance(verdict, WorkbookGrid) else -1), os.getpid()


def test_then_runs_in_the_worker_and_a_dead_worker_still_gives_a_verdict(
    merged_xlsx: Path, tmp_path: Path
) -> None:
    crash = tmp_path / "crash.xlsx"
    shutil.copy(merged_xlsx, crash)
    with ReaderPool(2, fault_injection={crash: "crash"}) as pool:
        got = dict(pool.map([merged_xlsx, crash], then=_sheet_count_and_pid))
    count, pid = got[merged_xlsx]
    assert count == len(_grid(merged_xlsx).sheets) and pid != os.getpid()
    assert isinstance(got[crash], Unreadable) and got[crash].code == "crashed"
    inproc = dict(read_many([merged_xlsx], workers=0, then=_sheet_count_and_pid))
    assert inproc[merged_xlsx] == (count, os.getpid())


def test_read_many_in_order_and_in_process_mode(
    merged_xlsx: Path, merged_xls: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 truncated zip")
    paths = [merged_xls, junk, merged_xlsx, str(merged_xls)]
    pooled = list(read_many(paths, workers=2))
    inproc = list(read_many(paths, workers=0))
    assert [p for p, _ in pooled] == paths == [p for p, _ in inproc]
    assert [type(r).__name__ for _, r in pooled] == [
        "WorkbookGrid",
        "Unreadable",
        "WorkbookGrid",
        "WorkbookGrid",
    ]
    assert pooled[0][1] == inproc[0][1]  # results pickle back intact
    assert pooled[1][1].code == "corrupt"  # type: ignore[union-attr]
