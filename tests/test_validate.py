"""The front door end to end: workbooks in, verdicts with cells and Chinese messages out."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import openpyxl
import pytest

from pipelines.validate import validate_paths
from tests.returns import FORM1_STREET, write_return


def street_row(**over):
    return {("street", k): v for k, v in (FORM1_STREET | over).items()}


def one(results):
    assert len(results) == 1, results
    return results[0]


def rules_of(result):
    return {(i.rule, i.cell) for i in result.issues}


def test_clean_return_is_accepted_with_its_values(tmp_path):
    path = write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row())
    r = one(validate_paths([path], quarter="2025Q3"))
    assert (r.status, r.form, r.submitter, r.quarter, r.issues) == (
        "accepted",
        "form1",
        "常泰街道",
        "2025Q3",
        [],
    )
    values = {(v.row_key, v.column_id): (v.value, v.cell) for v in r.values}
    assert values[("street", "hazards_fixed")] == (870.0, "K7")
    assert values[("street", "ent_total")] == (395.0, "E7")
    assert all(v.row_key == "street" for v in r.values)  # the other type's row is ignored


def test_rectified_above_found_names_cell_values_and_both_labels(tmp_path):
    path = write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row(hazards_fixed=912))
    r = one(validate_paths([path], quarter="2025Q3"))
    assert r.status == "rejected"
    [issue] = r.issues
    assert issue.rule == "form1.fixed_le_found" and issue.cell == "K7"
    assert issue.message.startswith(
        "表一 街道行「整改隐患数量（条）」(K7) 为 912，大于「自查隐患数量（条）」900"
    )


@pytest.mark.parametrize(
    ("typed", "rule", "severity", "fragment"),
    [
        (None, "blank", "error", "若无请填写 0"),
        ("无", "blank_token", "error", "填写了「无」"),
        ("-", "blank_token", "error", "若无请填写 0"),
        ("/", "blank_token", "error", "若无请填写 0"),
        (" ", "blank", "error", "若无请填写 0"),
        ("abc", "not_a_number", "error", "应为数字"),
        ("120", "number_as_text", "warning", "已按 120 读取"),
        ("１２０", "full_width_digits", "warning", "全角数字"),
        (-5, "negative", "error", "不能为负数"),
        (12.5, "not_whole", "error", "应为整数"),
    ],
)
def test_cell_defects_are_reported_at_their_cell(tmp_path, typed, rule, severity, fragment):
    path = write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row(mgmt_body=typed))
    r = one(validate_paths([path], quarter="2025Q3"))
    issue = next(i for i in r.issues if i.rule == rule)
    assert (issue.severity, issue.cell) == (severity, "F7")
    assert fragment in issue.message and "依法依规设置安全生产管理机构" in issue.message
    assert r.status == ("rejected" if severity == "error" else "accepted")


def test_totals_bases_and_colours_are_checked(tmp_path):
    values = street_row(ent_total=400, std_total=10, risk_blue=390)
    r = one(
        validate_paths(
            [write_return(tmp_path / "a.xlsx", "form1", "常泰街道", values)], quarter="2025Q3"
        )
    )
    rules = {i.rule for i in r.issues}
    assert {"form1.ent_total_sum", "form1.std_total_sum", "form1.colours_within_base"} <= rules
    msg = next(i.message for i in r.issues if i.rule == "form1.ent_total_sum")
    assert "为 400" in msg and "395" in msg


def test_table_at_an_offset_on_a_renamed_sheet_reads_the_same(tmp_path):
    path = write_return(
        tmp_path / "x.xlsx",
        "form1",
        "常泰街道",
        street_row(),
        origin=(3, 2),
        sheet_title="我的报表",
    )
    r = one(validate_paths([path], quarter="2025Q3"))
    assert r.status == "accepted" and r.sheet == "我的报表"
    cells = {v.column_id: v.cell for v in r.values}
    assert cells["ent_small"] == "D10"  # B7 shifted by 3 rows and 2 columns


def test_several_forms_in_one_workbook_are_separate_returns(tmp_path):
    wb = openpyxl.Workbook()
    path = tmp_path / "multi.xlsx"
    write_return(path, "form1", "金龙街道", street_row(), workbook=wb, sheet_title="表一")
    write_return(path, "form3", "金龙街道", workbook=wb, sheet_title="表三")
    write_return(path, "form4", "金龙街道", workbook=wb, sheet_title="表四")
    results = validate_paths([path], quarter="2025Q3")
    assert [(r.form, r.status) for r in results] == [
        ("form1", "accepted"),
        ("form3", "accepted"),
        ("form4", "accepted"),
    ]


def test_headers_retyped_with_line_breaks_and_half_width_brackets_still_match(tmp_path):
    path = write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row())
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for row in ws.iter_rows(min_row=3, max_row=5):
        for cell in row:
            if isinstance(cell.value, str):
                cell.value = (
                    cell.value.replace("（", "(").replace("）", ")").replace("数量", "\n数量")
                )
    wb.save(path)
    r = one(validate_paths([path], quarter="2025Q3"))
    assert r.status == "accepted", r.issues
    assert len(r.values) == len(FORM1_STREET)


def test_form2_merged_cells_hold_one_value_per_type(tmp_path):
    values = {
        ("street_city", "top100_large"): 1, ("street_district", "review_small"): 2,
        ("street", "posts_party"): 12, ("street", "training_sessions"): 3,
    }  # fmt: skip
    r = one(
        validate_paths(
            [write_return(tmp_path / "b.xlsx", "form2", "江南街道", values)], quarter="2025Q3"
        )
    )
    assert r.status == "accepted", r.issues
    got = {(v.row_key, v.column_id): v.value for v in r.values}
    assert got[("street", "posts_party")] == 12 and got[("street", "training_sessions")] == 3
    assert got[("street_district", "review_small")] == 2
    assert not any(
        v.row_key.startswith("street_") and v.column_id == "posts_party" for v in r.values
    )


def test_form4_row_variants_map_and_foreign_rows_are_errors(tmp_path):
    values = {("hotel", "venues_base"): 4, ("total", "venues_base"): 4}
    path = write_return(tmp_path / "c.xlsx", "form4", "浮桥街道", values)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for row in ws.iter_rows(min_col=1, max_col=1):
        c = row[0]
        if c.value == "小美容洗浴":
            c.value = "小美容洗浴场所"
        elif c.value == "总数":
            c.value = "合计"
    wb.save(path)
    assert one(validate_paths([path], quarter="2025Q3")).status == "accepted"
    ws.cell(row=8, column=1).value = "小作坊"  # replaces 小网吧
    wb.save(path)
    r = one(validate_paths([path], quarter="2025Q3"))
    assert {"unknown_row", "missing_row"} <= {i.rule for i in r.issues}
    assert any("小作坊" in i.message for i in r.issues)


def test_total_row_of_form4_must_equal_the_nine_rows(tmp_path):
    values = {("hotel", "venues_base"): 4, ("shop", "venues_base"): 3, ("total", "venues_base"): 8}
    r = one(
        validate_paths(
            [write_return(tmp_path / "c.xlsx", "form4", "浮桥街道", values)], quarter="2025Q3"
        )
    )
    issue = next(i for i in r.issues if i.rule == "form4.total_row_sum")
    assert "为 8" in issue.message and "7" in issue.message and issue.cell == "B16"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("常泰街道办事处（盖章）", "常泰街道"),
        ("鲤城区卫生健康局", "区卫健局"),
        ("  金龙街道 ", "金龙街道"),
    ],
)
def test_submitter_aliases_resolve_to_the_registry_name(tmp_path, text, expected):
    form = "form3"
    path = write_return(tmp_path / "d.xlsx", form, expected, submitter_text=text)
    r = one(validate_paths([path], quarter="2025Q3"))
    assert (r.submitter, r.status) == (expected, "accepted")


def test_unknown_submitter_is_rejected(tmp_path):
    path = write_return(tmp_path / "d.xlsx", "form3", "金龙街道", submitter_text="某某公司")
    r = one(validate_paths([path], quarter="2025Q3"))
    assert r.submitter is None and r.status == "rejected"
    assert any(i.rule == "submitter_unknown" and "某某公司" in i.message for i in r.issues)


def test_quarter_from_option_then_folder_then_header_date(tmp_path):
    folder = tmp_path / "raw" / "2025Q2"
    folder.mkdir(parents=True)
    path = write_return(folder / "2024Q4季报.xlsx", "form3", "金龙街道", date=dt.date(2025, 10, 8))
    assert one(validate_paths([path], quarter="2025Q1")).quarter == "2025Q1"
    assert one(validate_paths([path])).quarter == "2025Q2"  # the folder, not the file name
    loose = write_return(tmp_path / "loose.xlsx", "form3", "金龙街道", date=dt.date(2025, 10, 8))
    assert one(validate_paths([loose])).quarter == "2025Q3"
    undated = write_return(tmp_path / "undated.xlsx", "form3", "金龙街道", date=None)
    r = one(validate_paths([undated]))
    assert r.quarter is None and r.status == "rejected"
    assert any(i.rule == "quarter_unknown" for i in r.issues)


@pytest.mark.parametrize(("campaign", "quarter"), [(2025, "2026Q1"), (2026, "2025Q4")])
def test_a_return_made_for_another_campaign_is_sent_back_saying_why(tmp_path, campaign, quarter):
    path = write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row(), campaign=campaign)
    r = one(validate_paths([path], quarter=quarter))
    [issue] = r.issues
    assert (issue.rule, issue.severity, r.status) == ("campaign_mismatch", "error", "rejected")
    other = 2026 if campaign == 2025 else 2025
    assert f"标题为{campaign}年度专项行动的报表" in issue.message
    assert f"该表自{campaign}年1月1日起累计，本季度应自{other}年1月1日起累计" in issue.message
    assert f"请使用{other}年度模板重新填报" in issue.message


def test_formula_without_cached_value_is_reported_not_read_as_zero(tmp_path):
    path = write_return(tmp_path / "f.xlsx", "form1", "常泰街道", street_row())
    wb = openpyxl.load_workbook(path)
    wb.active["E7"] = "=SUM(B7:D7)"  # openpyxl saves no cached value
    wb.save(path)
    r = one(validate_paths([path], quarter="2025Q3"))
    issue = next(i for i in r.issues if i.cell == "E7")
    assert issue.rule == "formula_without_value" and r.status == "rejected"
    assert not any(v.cell == "E7" and v.value == 0 for v in r.values)


def _cached(path, ref: str, formula: str, cached: str, cell_type: str | None = None):
    """Give cell `ref` a formula with the cached result Excel would have saved (openpyxl writes
    formulas without results): the sheet XML is rewritten as Excel writes it."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name].decode()
    t = f' t="{cell_type}"' if cell_type else ""
    new = f'<c r="{ref}"{t}><f>{formula}</f><v>{cached}</v></c>'
    xml, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', new, xml, count=1)
    assert n == 1
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    return path


@pytest.mark.parametrize(
    ("formula", "cached", "read"),
    [
        ("0.1*3*400", "120.00000000000001", 120.0),
        ("(0.3-0.1-0.2)*1", "-2.7755575615628914E-17", 0.0),
        ("1/3*360", "119.99999999999999", 120.0),
    ],
)
def test_a_formula_result_a_hair_from_a_whole_number_is_that_number(
    tmp_path, formula, cached, read
):
    path = _cached(
        write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row(mgmt_body=120)),
        "F7",
        formula,
        cached,
    )
    r = one(validate_paths([path], quarter="2025Q3"))
    got = {v.cell: v.value for v in r.values}
    assert got["F7"] == read
    assert r.status == "accepted", r.issues
    assert not any(i.rule in ("not_whole", "negative") for i in r.issues)


def test_a_fraction_that_excel_shows_as_a_fraction_stays_one(tmp_path):
    path = _cached(
        write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row()), "F7", "241/2", "120.5"
    )
    r = one(validate_paths([path], quarter="2025Q3"))
    assert next(i for i in r.issues if i.cell == "F7").rule == "not_whole"


@pytest.mark.parametrize(
    ("literal", "meaning"),
    [
        ("#DIV/0!", "除数为零"),
        ("#REF!", "引用的单元格已被删除或无效"),
        ("#VALUE!", "公式中的数据类型不对"),
        ("#N/A", "查找的值不存在"),
        ("#NAME?", "无法识别的函数或名称"),
        ("#NULL!", "引用的区域没有交集"),
        ("#NUM!", "数值无效或超出范围"),
    ],
)
def test_excel_error_values_are_errors_that_name_the_cell(tmp_path, literal, meaning):
    path = _cached(
        write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row()),
        "F7",
        "E7/0",
        literal,
        cell_type="e",
    )
    r = one(validate_paths([path], quarter="2025Q3"))
    issue = next(i for i in r.issues if i.cell == "F7")
    assert (issue.rule, issue.severity, r.status) == ("excel_error", "error", "rejected")
    assert f"公式错误值「{literal}」" in issue.message and meaning in issue.message
    assert "依法依规设置安全生产管理机构" in issue.message
    assert next(v for v in r.values if v.cell == "F7").value is None


def test_a_file_that_is_not_a_spreadsheet_is_unreadable_with_a_reason(tmp_path):
    path = tmp_path / "季报.xlsx"
    path.write_bytes(b"%PDF-1.7\n1 0 obj\n")
    r = one(validate_paths([path]))
    assert r.status == "unreadable" and r.form is None
    assert "Excel" in r.issues[0].message


def test_a_workbook_without_a_form_gets_one_rejected_entry(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "会议签到表"
    wb.save(tmp_path / "other.xlsx")
    r = one(validate_paths([tmp_path / "other.xlsx"]))
    assert (r.form, r.status, r.issues[0].rule) == (None, "rejected", "form_not_found")


def _cli(*args, cwd=None):
    code = (
        "import sys; from pipelines.cli import main; rc = main(sys.argv[1:]); "
        "assert 'dagster' not in sys.modules, 'validate imported dagster'; sys.exit(rc)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd
    )


def test_cli_json_contract_and_exit_codes(tmp_path):
    good = write_return(tmp_path / "good.xlsx", "form1", "常泰街道", street_row())
    proc = _cli("validate", str(good), "--quarter", "2025Q3", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    [obj] = json.loads(proc.stdout)
    assert set(obj) == {"file", "sheet", "form", "submitter", "quarter", "status", "issues"}
    assert obj["status"] == "accepted"

    bad = write_return(tmp_path / "bad.xlsx", "form1", "常泰街道", street_row(hazards_fixed=912))
    proc = _cli("validate", str(tmp_path), "--quarter", "2025Q3", "--format", "json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert {d["file"] for d in data} == {str(good), str(bad)}
    issue = next(d for d in data if d["file"] == str(bad))["issues"][0]
    assert set(issue) == {"severity", "rule", "cell", "message"} and issue["cell"] == "K7"


def test_cli_usage_errors_exit_2_without_traceback(tmp_path):
    proc = _cli("validate", str(tmp_path), "--quarter", "2025-3")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = _cli("validate", str(tmp_path / "nope.xlsx"))
    assert proc.returncode == 2 and "路径不存在" in proc.stderr


def test_cli_bad_arguments_exit_2_with_nothing_on_stdout(tmp_path):
    for args in (
        ("validate",),
        ("validate", str(tmp_path), "--format", "yaml"),
        ("validate", str(tmp_path), "--bogus"),
    ):
        proc = _cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stdout == "" and "Traceback" not in proc.stderr and proc.stderr, args


def test_cli_json_has_one_entry_per_return_and_per_file_without_one(tmp_path):
    """A multi-form workbook gives one object per form; an unreadable file and a workbook
    without a form one object each, with sheet/form null; stdout is only that JSON."""
    forms = write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row())
    wb = openpyxl.load_workbook(forms)
    wb.copy_worksheet(wb.active).title = "第二张"
    wb.save(forms)
    (tmp_path / "b.xlsx").write_bytes(b"%PDF-1.7\n")
    other = openpyxl.Workbook()
    other.active["A1"] = "会议签到表"
    other.save(tmp_path / "c.xlsx")
    proc = _cli("validate", str(tmp_path), "--quarter", "2025Q3", "--format", "json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    got = [(d["file"].rsplit("/", 1)[-1], d["sheet"], d["form"], d["status"]) for d in data]
    assert sorted(got, key=str) == sorted(
        [
            ("a.xlsx", wb.sheetnames[0], "form1", "accepted"),
            ("a.xlsx", "第二张", "form1", "accepted"),
            ("b.xlsx", None, None, "unreadable"),
            ("c.xlsx", None, None, "rejected"),
        ],
        key=str,
    )


def test_benchmark_prints_both_timings_and_the_ratio():
    """The benchmark runs end to end (figures are read, not asserted: speed is not a test)."""
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "validate.py"
    proc = subprocess.run(
        [sys.executable, str(script), "-n", "4", "--repeat", "1", "--no-cold"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for line in ("python-calamine read:", "validate_paths (warm):", "ratio validate/calamine:"):
        assert line in proc.stdout, proc.stdout


def test_cli_text_output_is_chinese_and_grouped_by_file(tmp_path):
    bad = write_return(tmp_path / "bad.xlsx", "form1", "常泰街道", street_row(hazards_fixed=912))
    proc = _cli("validate", str(bad), "--quarter", "2025Q3")
    assert proc.returncode == 1
    assert f"文件：{bad}" in proc.stdout and "退回" in proc.stdout and "[K7]" in proc.stdout


def test_file_names_and_quarter_titles_quoted_in_cells_are_not_form_titles(tmp_path):
    """A sheet that lists received files (「…季报表（2025年第三季度）.xlsx」, 「季报表一.xlsx」)
    beside a real return: the list is not taken for a form, the file does not crash, and the
    return is accepted."""
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "收文登记"
    notes["A1"] = "常泰街道季报表（2025年第三季度）.xlsx"
    notes["A2"] = "季报表一.xlsx"
    notes["A3"] = "鲤城区安全生产标准化提升专项行动季报表（2025年第三季度）"
    path = write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row(), workbook=wb)
    results = validate_paths([path], quarter="2025Q3")
    assert [(r.sheet, r.form, r.status) for r in results if r.form] == [
        (results[-1].sheet, "form1", "accepted")
    ]
    assert all("crash" not in i.rule for r in results for i in r.issues)


def test_cli_on_a_folder_without_files_says_so_and_exits_1(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "validate", str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (out.returncode, json.loads(out.stdout)) == (1, [])
    assert "没有找到任何报送文件" in out.stderr and "Traceback" not in out.stderr
