"""Blank templates and the form writer: layout, protection, validation, and that a filled
template (also after LibreOffice re-saves it as xlsx and xls) passes the front door."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from pipelines.forms import FORM_IDS, get_form
from pipelines.forms.layout import layout
from pipelines.forms.workbook import (
    notes_line,
    plan_form,
    save_plans,
    save_workbook,
    sheet_name,
    write_form,
)
from pipelines.outputs.templates import ALL, write_templates
from pipelines.periods import Quarter
from pipelines.registry import load_registry
from pipelines.sample import sample_config, simulate
from tests.libreoffice import convert, requires_soffice

QUARTER = "2025Q3"


def _sub(name: str):
    return load_registry().by_name(name)


def _own(form_id: str, submitter_type: str) -> set[str]:
    rows = get_form(form_id).rows_of_type(submitter_type)
    return {r.key for r in rows} | {r.group for r in rows if r.group}


def _realistic(name: str) -> dict:
    """Consistent values (they satisfy every rule) for the submitter's forms in QUARTER."""
    q = Quarter.parse(QUARTER)
    series = simulate(_sub(name), [q], sample_config(), seed=7)
    return {f: series[q, f] for f in _sub(name).forms}


def _fill(path: Path, out: Path, name: str, values: dict | None) -> Path:
    """Type into the template as a submitter would: own input cells, 填表人, 电话, date."""
    wb = load_workbook(path)
    sub = _sub(name)
    for form_id in sub.forms:
        ws = wb[sheet_name(form_id)]
        own = _own(form_id, sub.type)
        for row_key, col_id, r, c in layout(form_id).value_cells():
            if row_key in own:
                v = 0 if values is None else values[form_id][row_key, col_id]
                ws.cell(row=r + 1, column=c + 1).value = v
        for cell in ws[2]:
            if isinstance(cell.value, str) and cell.value.startswith("填表人"):
                cell.value = "填表人：林晓燕"
            elif isinstance(cell.value, str) and cell.value.startswith("联系电话"):
                cell.value = "联系电话：0595-22123456"
            elif isinstance(cell.value, str) and "年" in cell.value and "日" in cell.value:
                cell.value = "2025年10月9日"
    wb.save(out)
    return out


def _validate(paths: list[Path]):
    from pipelines.validate import validate_paths

    return validate_paths(paths, quarter=QUARTER)


def _assert_accepted(results, forms: tuple[str, ...], name: str) -> None:
    assert sorted(r.form for r in results) == sorted(forms)
    for r in results:
        assert r.status == "accepted", [i.message for i in r.issues]
        assert r.submitter == name
        assert not r.errors


# ---------------------------------------------------------------- layout


def test_generic_templates_one_per_form(tmp_path: Path) -> None:
    paths = write_templates(tmp_path, 2025)
    assert [p.name for p in paths] == [f"季报表_2025_{sheet_name(f)}.xlsx" for f in FORM_IDS]
    for form_id, path in zip(FORM_IDS, paths, strict=True):
        lay = layout(form_id)
        ws = load_workbook(path)[sheet_name(form_id)]
        assert ws["A1"].value == get_form(form_id).title(2025)
        assert ws["A2"].value.startswith("填报单位（盖章）：")
        assert ws.cell(row=lay.notes_row + 1, column=1).value == notes_line(form_id, 2025)
        assert notes_line(form_id, 2025).startswith("注：1.")
        for r, c, text in lay.header_cells:
            assert ws.cell(row=r + 1, column=c + 1).value == text
        merged = {str(m) for m in ws.merged_cells.ranges}
        plan = plan_form(form_id, 2025)
        for r0, c0, _r1, _c1 in plan.merges:
            assert ws.cell(row=r0 + 1, column=c0 + 1).coordinate in {
                m.split(":")[0] for m in merged
            }
        assert len(merged) == len(plan.merges)  # a header group cut by a page break: two
        assert ws.freeze_panes == f"B{lay.first_data_row + 1}"
        assert ws.page_setup.orientation == "landscape"
        if plan.printing.scale is None:  # one page wide
            assert ws.sheet_properties.pageSetUpPr.fitToPage
        else:  # a wide form: split at its column groups, label column and header repeated
            assert ws.page_setup.scale == plan.printing.scale >= 70
            assert [b.id for b in ws.col_breaks.brk] == [c + 1 for c in plan.printing.breaks]
            assert ws.print_title_cols == "$A:$A"
        # both submitter types' rows are open in the office's generic template
        assert all(
            not ws.cell(row=r + 1, column=c + 1).protection.locked
            for _, _, r, c in lay.value_cells()
        )


def test_form2_labels_and_type_merges(tmp_path: Path) -> None:
    (path,) = write_templates(tmp_path, 2026, "常泰街道")
    ws = load_workbook(path)["表二"]
    lay = layout("form2")
    form = get_form("form2")
    assert ws["A1"].value == form.title(2026) and "2026年提质增效" in ws["A1"].value
    level_cols = [lay.col_of[c.id] for c in form.columns if c.role == "level_label"]
    for row in form.rows:
        for c in level_cols:
            assert ws.cell(row=lay.row_of[row.key] + 1, column=c + 1).value == row.label
    merged = {str(m) for m in ws.merged_cells.ranges}
    first, last = lay.row_of["street_city"] + 1, lay.row_of["street_street"] + 1
    assert f"A{first}:A{last}" in merged
    assert ws[f"A{first}"].value == "街道"
    letter = get_column_letter(lay.col_of["posts_party"] + 1)
    assert f"{letter}{first}:{letter}{last}" in merged


# ---------------------------------------------------------------- protection and validation


@pytest.mark.parametrize("name", ["常泰街道", "区卫健局"])
def test_submitter_template_protection_and_validation(tmp_path: Path, name: str) -> None:
    sub = _sub(name)
    (path,) = write_templates(tmp_path, 2025, name)
    assert path.name == f"季报表_2025_{name}.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == [sheet_name(f) for f in sub.forms]
    for form_id in sub.forms:
        ws = wb[sheet_name(form_id)]
        plan = plan_form(form_id, 2025, submitter=sub)
        assert ws["A2"].value == f"填报单位（盖章）：{name}"
        assert ws.protection.sheet and not ws.protection.password
        own = [c for c in plan.inputs if c.own]
        other = [c for c in plan.inputs if not c.own]
        assert own and (other or form_id == "form4")  # 表四 has 街道 rows only
        for cell in own:
            assert not ws[cell.ref.split(":")[0]].protection.locked
            assert ws[cell.ref.split(":")[0]].value is None
        for cell in other:
            target = ws[cell.ref.split(":")[0]]
            assert target.protection.locked
            assert target.fill.fgColor.rgb.endswith("D9D9D9")
        assert ws["A1"].protection.locked
        dvs = {dv.type: dv for dv in ws.data_validations.dataValidation}
        counts = {c.ref for c in own if not c.column.is_amount}
        amounts = {c.ref for c in own if c.column.is_amount}
        assert {str(r) for r in dvs["whole"].sqref.ranges} == counts
        assert dvs["whole"].operator == "greaterThanOrEqual" and dvs["whole"].formula1 == "0"
        assert "整数" in dvs["whole"].error and dvs["whole"].showErrorMessage
        if amounts:
            assert {str(r) for r in dvs["decimal"].sqref.ranges} == amounts
            assert "万元" in dvs["decimal"].error
        else:
            assert "decimal" not in dvs
        # no formulas anywhere: openpyxl would save them without cached values
        assert not any(
            isinstance(c.value, str) and c.value.startswith("=")
            for row in ws.iter_rows()
            for c in row
        )


def test_all_submitters_and_stable_bytes(tmp_path: Path) -> None:
    paths = write_templates(tmp_path / "a", 2025, ALL)
    owing = [s.name for s in load_registry().submitters if s.forms]
    assert sorted(p.name for p in paths) == sorted(f"季报表_2025_{n}.xlsx" for n in owing)
    (again,) = write_templates(tmp_path / "b", 2025, "金龙街道")
    assert again.read_bytes() == (tmp_path / "a" / again.name).read_bytes()


def test_unknown_submitter_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        write_templates(tmp_path, 2025, "不存在的单位")


def test_alias_resolves_to_the_submitter(tmp_path: Path) -> None:
    (path,) = write_templates(tmp_path, 2025, "鲤城区卫生健康局")
    assert path.name == "季报表_2025_区卫健局.xlsx"


# ---------------------------------------------------------------- the two writers agree


def test_direct_writer_matches_openpyxl_writer(tmp_path: Path) -> None:
    """save_plans (used by the sample for speed) renders the same grid as write_form."""
    sub = _sub("江南街道")
    values = {
        k: v for f, vals in _realistic("江南街道").items() if f == "form4" for k, v in vals.items()
    }
    header = {"filled_by": "陈志强", "phone": "13800000000", "date": dt.date(2025, 10, 8)}
    kw = dict(submitter=sub, values=values, header=header, origin=(3, 2), pad=(1, 2))
    wb = Workbook()
    ws = wb.active
    ws.title = "表四"
    write_form(ws, "form4", 2025, protect_inputs=True, **kw)
    a = save_workbook(wb, tmp_path / "openpyxl.xlsx")
    b = save_plans(
        tmp_path / "direct.xlsx", [("表四", plan_form("form4", 2025, **kw))], protect=True
    )
    wa, wb_ = load_workbook(a)["表四"], load_workbook(b)["表四"]

    def grid(w):
        return {c.coordinate: c.value for row in w.iter_rows() for c in row if c.value is not None}

    assert grid(wa) == grid(wb_)
    assert wa["C4"].value == get_form("form4").title(2025)
    assert {str(m) for m in wa.merged_cells.ranges} == {str(m) for m in wb_.merged_cells.ranges}
    assert wa.freeze_panes == wb_.freeze_panes
    assert wa.print_title_rows == wb_.print_title_rows
    assert wa.protection.sheet and wb_.protection.sheet
    for coord in ("D10", "E12", "C10"):
        assert wa[coord].protection.locked == wb_[coord].protection.locked
        assert wa[coord].border.left.style == wb_[coord].border.left.style
    for letter in ("C", "D", "AM"):
        assert wa.column_dimensions[letter].width == wb_.column_dimensions[letter].width
    for row in (4, 5, 9, 12):
        assert wa.row_dimensions[row].height == pytest.approx(wb_.row_dimensions[row].height)


# ---------------------------------------------------------------- filled templates pass


@pytest.mark.parametrize("name", ["常泰街道", "区住建局"])
@pytest.mark.parametrize("kind", ["zeros", "realistic"])
def test_filled_template_is_accepted(tmp_path: Path, name: str, kind: str) -> None:
    (path,) = write_templates(tmp_path, 2025, name)
    values = _realistic(name) if kind == "realistic" else None
    filled = _fill(path, tmp_path / f"{name}_{kind}.xlsx", name, values)
    results = _validate([filled])
    _assert_accepted(results, _sub(name).forms, name)
    if values is not None:
        for r in results:
            got = {(v.row_key, v.column_id): v.value for v in r.values}
            assert got == pytest.approx({k: float(v) for k, v in values[r.form].items()})
    assert results[0].filled_by == "林晓燕"
    assert results[0].header_date == "2025-10-09"


def test_generic_template_filled_by_a_department_is_accepted(tmp_path: Path) -> None:
    paths = write_templates(tmp_path, 2025)
    values = _realistic("区教育局")
    filled = []
    for form_id, path in zip(FORM_IDS[:3], paths[:3], strict=True):
        wb = load_workbook(path)
        ws = wb.active
        ws["A2"] = "填报单位（盖章）：鲤城区教育局"
        for row_key, col_id, r, c in layout(form_id).value_cells():
            own = row_key in _own(form_id, "区安委会成员单位")
            ws.cell(row=r + 1, column=c + 1).value = values[form_id][row_key, col_id] if own else 0
        wb.save(tmp_path / f"教育局_{form_id}.xlsx")
        filled.append(tmp_path / f"教育局_{form_id}.xlsx")
    _assert_accepted(_validate(filled), ("form1", "form2", "form3"), "区教育局")


@requires_soffice
@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_libreoffice_resaved_template_is_accepted(tmp_path: Path, fmt: str) -> None:
    name = "浮桥街道"
    (path,) = write_templates(tmp_path / "blank", 2025, name)
    values = _realistic(name)
    filled = _fill(path, tmp_path / "filled.xlsx", name, values)
    resaved = convert(filled, fmt, tmp_path / "lo")
    assert resaved.suffix == f".{fmt}"
    results = _validate([resaved])
    _assert_accepted(results, _sub(name).forms, name)
    for r in results:
        got = {(v.row_key, v.column_id): v.value for v in r.values}
        assert got == pytest.approx({k: float(v) for k, v in values[r.form].items()})
    if fmt == "xlsx":
        ws = load_workbook(resaved)["表一"]
        assert ws.protection.sheet
        assert any(dv.type == "whole" for dv in ws.data_validations.dataValidation)
