"""What the submitter sees is the submission: hidden sheets, instruction sheets, un-merged copies
and the layouts the notice itself can be read to give (附件4–7)."""

from __future__ import annotations

import openpyxl
import pytest

from pipelines.validate import validate_paths
from tests.front_fixtures import write_layout
from tests.returns import FORM1_STREET, write_return

Q = "2025Q3"
FORM2 = {
    ("street_city", "top10_count"): 1, ("street_district", "top100_large"): 2,
    ("street_street", "review_small"): 3, ("street", "posts_party"): 12,
    ("street", "posts_worker"): 4, ("street", "training_sessions"): 3,
    ("street", "visit_people"): 40,
}  # fmt: skip
FORM4 = {("hotel", "venues_base"): 4, ("shop", "venues_base"): 3, ("total", "venues_base"): 7}


def one(results):
    assert len(results) == 1, [(r.sheet, r.form, r.issues) for r in results]
    return results[0]


def values_of(result):
    return {(v.row_key, v.column_id): v.value for v in result.values}


def rules_of(result):
    return [i.rule for i in result.issues]


def street1(**over):
    return {("street", k): v for k, v in (FORM1_STREET | over).items()}


# ---------------------------------------------------------------- hidden sheets


def test_a_form_on_a_hidden_sheet_is_not_a_return_and_the_submitter_is_told(tmp_path):
    wb = openpyxl.Workbook()
    path = tmp_path / "a.xlsx"
    write_return(path, "form1", "常泰街道", street1(), workbook=wb, sheet_title="表一")
    write_return(path, "form3", "常泰街道", workbook=wb, sheet_title="旧表三")
    wb["旧表三"].sheet_state = "hidden"
    wb.save(path)
    r = one(validate_paths([path], quarter=Q))
    assert (r.sheet, r.form, r.status) == ("表一", "form1", "accepted")
    [warning] = r.issues
    assert (warning.rule, warning.severity) == ("hidden_sheet_form", "warning")
    assert "「旧表三」是隐藏工作表" in warning.message and "表三未读取" in warning.message


def test_a_workbook_whose_only_form_is_very_hidden_has_no_return(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active["A1"] = "本工作簿用于报送季度数据"
    path = tmp_path / "b.xlsx"
    write_return(path, "form1", "常泰街道", street1(), workbook=wb, sheet_title="数据")
    wb["数据"].sheet_state = "veryHidden"
    wb.save(path)
    r = one(validate_paths([path], quarter=Q))
    assert (r.form, r.status) == (None, "rejected")
    assert rules_of(r) == ["form_not_found", "hidden_sheet_form"]


# ---------------------------------------------------------------- a form is a title and its table


def test_an_instructions_sheet_that_names_the_forms_is_not_a_form(tmp_path):
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "填报说明"
    notes["A1"] = "填报说明"
    notes["A2"] = "1. 请于每季度首月1日前报送季报表（一）至季报表（四）。"
    notes["A3"] = "2. 季报表（二）中万岗达标、宣传发动按单位类型填写一个数。"
    notes["A4"] = (
        "3. 鲤城区安全生产标准化提升专项行动2025年持续深化进展情况季报表（四）由各街道填报。"
    )
    path = write_return(tmp_path / "c.xlsx", "form1", "常泰街道", street1(), workbook=wb)
    results = validate_paths([path], quarter=Q)
    assert [(r.form, r.status) for r in results] == [("form1", "accepted")]


def test_a_title_with_its_header_but_no_rows_is_still_a_form_missing_its_rows(tmp_path):
    path = write_return(tmp_path / "d.xlsx", "form3", "金龙街道")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for row in ws.iter_rows():
        if row[0].value in ("区安委会成员单位", "街道"):
            for cell in row:
                cell.value = None
    wb.save(path)
    r = one(validate_paths([path], quarter=Q))
    assert (r.form, r.status) == ("form3", "rejected") and "no_data_rows" in rules_of(r)


# ---------------------------------------------------------------- read by position


@pytest.mark.parametrize(("form_id", "values"), [("form1", street1()), ("form4", FORM4)])
def test_a_fully_unmerged_copy_reads_as_the_merged_form(tmp_path, form_id, values):
    merged = write_layout(tmp_path / "m.xlsx", form_id, "常泰街道", values)
    flat = write_layout(tmp_path / "u.xlsx", form_id, "常泰街道", values, merged=False)
    assert openpyxl.load_workbook(flat).active.merged_cells.ranges == set()
    a, b = validate_paths([merged, flat], quarter=Q)
    assert (a.status, b.status) == ("accepted", "accepted"), (a.issues, b.issues)
    assert values_of(a) == values_of(b) and values_of(a)[next(iter(values))] == next(
        iter(values.values())
    )


def test_an_unmerged_group_label_heads_every_column_of_its_span(tmp_path):
    """Un-merged, 「创建提升数量（家）」 sits over 达标评审 only; its 总数 is still that group's,
    so a 表一 that lacks 企业基数's 总数 is told so, and 创建提升 总数 is read where it is."""
    path = write_layout(
        tmp_path / "u.xlsx", "form1", "常泰街道", street1(), merged=False, drop={"ent_total"}
    )
    r = one(validate_paths([path], quarter=Q))
    assert [(i.rule, i.message) for i in r.issues] == [
        ("missing_column", "表一缺少「企业基数（家）›总数」列，请使用正式模板填报")
    ]
    assert values_of(r)[("street", "std_total")] == 190


def test_unmerged_form2_with_the_type_label_on_its_first_level_row_reads_as_merged(tmp_path):
    merged = write_layout(tmp_path / "m.xlsx", "form2", "江南街道", FORM2)
    flat = write_layout(tmp_path / "u.xlsx", "form2", "江南街道", FORM2, merged=False)
    a, b = validate_paths([merged, flat], quarter=Q)
    assert (a.status, b.status) == ("accepted", "accepted"), b.issues
    assert values_of(a) == values_of(b)
    assert values_of(b)[("street", "posts_party")] == 12
    assert values_of(b)[("street_street", "review_small")] == 3


def _form2_levels(tmp_path, name, typed):
    """An un-merged 表二 with 万岗达标›党员模范岗 typed on the 街道 type's three level rows."""
    levels = dict(zip(("street_city", "street_district", "street_street"), typed, strict=True))
    values = {**FORM2, ("street", "posts_party"): levels.pop("street_city")}
    return write_layout(
        tmp_path / name,
        "form2",
        "江南街道",
        values,
        merged=False,
        level_values={(k, "posts_party"): v for k, v in levels.items()},
    )


def test_different_values_on_level_rows_of_a_type_column_are_an_error_naming_each_cell(tmp_path):
    r = one(validate_paths([_form2_levels(tmp_path, "a.xlsx", (3, 2, 1))], quarter=Q))
    assert r.status == "rejected"
    [issue] = [i for i in r.issues if i.rule == "type_value_conflict"]
    assert issue.severity == "error" and issue.cell == "L10"
    assert "L10、L11、L12 分别填写了 3、2、1" in issue.message
    assert "党员模范岗" in issue.message
    assert values_of(r)[("street", "posts_party")] is None  # nothing silently taken


@pytest.mark.parametrize(("typed", "read"), [((3, 3, 3), 3), ((12, 0, 0), 12), ((0, "无", 5), 5)])
def test_level_rows_that_agree_give_the_one_value(tmp_path, typed, read):
    r = one(validate_paths([_form2_levels(tmp_path, "b.xlsx", typed)], quarter=Q))
    assert "type_value_conflict" not in rules_of(r)
    assert values_of(r)[("street", "posts_party")] == read


# ---------------------------------------------------------------- the notice's own layouts


ANNEX4_LABELS = {  # 附件4 as printed: two leaves without their unit, half-width brackets
    "safety_staff": "依法依规配备专职安全生产管理人员",
    "rescue_team": "依法依规建立专兼职应急救援队伍",
    "mgmt_body": "依法依规设置安全生产管理机构(家)",
}


def test_form1_as_annex4_spans_read_it_is_accepted_and_star_total_derived(tmp_path):
    """附件4's spans: 创建提升数量 › 达标类型, 达标评审, 自评企业, 总数; 实施星级管理数量 › 五星 …
    一星, no 总数."""
    path = write_layout(
        tmp_path / "annex4.xlsx",
        "form1",
        "常泰街道",
        street1(),
        drop={"star_total"},
        insert={"std_reviewed": ("创建提升数量（家）", "达标类型")},
        relabel=ANNEX4_LABELS,
        regroup={"企业基数（家）": "企业基数(家)"},
    )
    r = one(validate_paths([path], quarter=Q))
    assert r.status == "accepted", r.issues
    assert values_of(r)[("street", "star_total")] == 100  # 5 + 15 + 30 + 25 + 25
    assert values_of(r)[("street", "std_reviewed")] == 40  # not the 达标类型 column
    [note] = r.issues
    assert (note.rule, note.severity, note.column_id) == ("derived_column", "warning", "star_total")
    assert "实施星级管理数量（家）›总数" in note.message and "街道行 100" in note.message
    cell = next(v.cell for v in r.values if v.column_id == "star_total")
    assert cell is None  # no cell holds it


def test_a_derived_total_is_still_checked_against_the_base(tmp_path):
    path = write_layout(
        tmp_path / "annex4.xlsx",
        "form1",
        "常泰街道",
        street1(star_5=301),  # 301 + 15 + 30 + 25 + 25 > 395 enterprises
        drop={"star_total"},
    )
    r = one(validate_paths([path], quarter=Q))
    assert "form1.within_base" in rules_of(r) and r.status == "rejected"


def test_form4_as_annex7_prints_it_is_accepted(tmp_path):
    """附件7: 「九小场所数量（家）」 under 健全三张清单, 四级安全风险分级管控, the row header
    填报单位类型, the header line on four lines, spaces around the year in the title."""
    path = write_layout(
        tmp_path / "annex7.xlsx",
        "form4",
        "浮桥街道",
        FORM4 | {("hotel", "three_lists"): 2, ("total", "three_lists"): 2},
        relabel={"three_lists": "九小场所数量（家）", "venues_base": "“九小场所”底数（家）"},
        regroup={"四色安全风险分级管控": "四级安全风险分级管控"},
        row_header="填报单位类型",
        header_lines="split",
        title="鲤城区“九小场所”安全生产标准化提升专项行动 2025 年持续深化进展情况季报表（四）",
    )
    r = one(validate_paths([path], quarter=Q))
    assert (r.form, r.status, r.issues) == ("form4", "accepted", [])
    assert r.campaign == 2025 and r.submitter == "浮桥街道"
    assert values_of(r)[("hotel", "three_lists")] == 2
