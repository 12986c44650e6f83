"""The consolidated district return: totals from the official versions only, 明细 sheets with
hostile text kept as text, readable after a LibreOffice round trip, accepted by the front door."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import uuid
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from pipelines import sample
from pipelines.forms import FORM_IDS, get_form
from pipelines.forms.layout import layout
from pipelines.model import ReturnResult, Value
from pipelines.outputs.consolidated import consolidated_path, write_consolidated
from pipelines.periods import Quarter
from pipelines.registry import Submitter, load_registry
from pipelines.warehouse import load_batches, schema
from pipelines.warehouse.archive import ReceivedFile
from pipelines.warehouse.synthetic import fake_sha, make_return, received_for

QUARTER = "2025Q3"
HOSTILE_NAME = '=HYPERLINK("evil.example","点我")'  # a file name: no slash


def valid_values(submitter: Submitter, form_id: str) -> dict[tuple[str, str], float]:
    """A clean return of the sample generator (own type's rows; satisfies every rule in
    rules.yaml, which the generator checks with rule_breaches)."""
    q = Quarter.parse(QUARTER)
    values = sample.simulate(submitter, [q], sample.sample_config(), seed=7)[q, form_id]
    assert not sample.rule_breaches(form_id, values)
    return values


class Ledger:
    """Return versions handed to the real loader (load_batches), as the front door emits them."""

    def __init__(self) -> None:
        self.received: list[ReceivedFile] = []
        self.results: list[ReturnResult] = []

    def add(
        self,
        submitter: str,
        form: str,
        values: dict[tuple[str, str], float],
        *,
        status: str = "accepted",
        name: str | None = None,
        received: dt.datetime = dt.datetime(2025, 9, 28, 10, 0),
        version: int = 1,
    ) -> None:
        name = name or f"{submitter}{form}.xlsx"
        result = make_return(
            form, submitter, QUARTER, values, file=name, status=status,
            sha256=fake_sha(f"{submitter}/{form}/{version}"),
        )  # fmt: skip
        self.results.append(result)
        self.received.append(received_for(result, received, "received.csv"))

    def add_everywhere(self, submitter: str, form: str, value: float) -> None:
        """A return with `value` in every input cell of every row (the office's own 汇总表)."""
        result = make_return(form, submitter, QUARTER, file=f"{submitter}{form}.xlsx")
        lay = layout(form)
        result.values = [
            Value(rk, cid, value, lay.a1(rk, cid)) for rk, cid, _, _ in lay.value_cells()
        ]
        self.results.append(result)
        self.received.append(received_for(result, dt.datetime(2025, 10, 9), "received.csv"))

    def publish(self, path: Path) -> None:
        batch = (QUARTER, self.received, self.results, [])
        con = duckdb.connect(str(path))
        try:
            schema.apply(con)
            load_batches(con, [batch])
        finally:
            con.close()


@pytest.fixture
def warehouse(tmp_path: Path):
    """Two 街道 and two departments; 常泰 sent 表一 twice (the first superseded), 区卫健局's 表二
    was rejected, 鲤中街道 sent 表一 under a hostile file name; an earlier consolidated return of
    the office itself sits in the ledger (official: it must never be counted again). Loaded by
    the real loader into the real schema, then read read-only."""
    ledger = Ledger()
    for name in ("常泰街道", "鲤中街道", "区卫健局", "区教育局"):
        sub = load_registry().by_name(name)
        for form in sub.forms:
            if (name, form) == ("区卫健局", "form2"):
                bad = {k: 999_999 for k in valid_values(sub, form)}
                ledger.add(name, form, bad, status="rejected")
                continue
            if (name, form) == ("常泰街道", "form1"):
                old = {k: 888_888 for k in valid_values(sub, form)}
                ledger.add(name, form, old, received=dt.datetime(2025, 9, 20), version=0)
            file_name = HOSTILE_NAME + ".xlsx" if (name, form) == ("鲤中街道", "form1") else None
            ledger.add(name, form, valid_values(sub, form), name=file_name)
    for form in FORM_IDS:
        ledger.add_everywhere("鲤城区安全生产委员会办公室", form, 777_777)
    path = tmp_path / "warehouse.duckdb"
    ledger.publish(path)
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def sql_total(con, form_id: str, row_key: str, column_id: str) -> float:
    form = get_form(form_id)
    total_row = next((r.key for r in form.rows if r.is_total), None)
    sub_type = next(r.submitter_type for r in form.rows if row_key in (r.key, r.group))
    keys = [r.key for r in form.rows if not r.is_total] if row_key == total_row else [row_key]
    marks = ", ".join("?" for _ in keys)
    (value,) = con.execute(
        f"""select coalesce(sum(value), 0) from unit_values where quarter = ? and form = ?
            and column_id = ? and submitter_type = ? and row_key in ({marks})""",
        [QUARTER, form_id, column_id, sub_type, *keys],
    ).fetchone()
    return value


def libreoffice_roundtrip(path: Path, out_dir: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = Path("/tmp") / f"lo-{uuid.uuid4().hex}"
    out_dir.mkdir()
    try:
        subprocess.run(
            [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
             "--convert-to", "xlsx", "--outdir", str(out_dir), str(path)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    converted = out_dir / path.name
    assert converted.exists(), "LibreOffice did not write the converted workbook"
    return converted


@pytest.fixture
def consolidated(warehouse, tmp_path: Path) -> Path:
    out = consolidated_path(tmp_path / "data" / "reports", QUARTER)
    return write_consolidated(warehouse, QUARTER, out, today=dt.date(2025, 10, 12))


def test_totals_survive_libreoffice_and_match_sql(warehouse, consolidated: Path, tmp_path: Path):
    assert consolidated.name == f"汇总表_{QUARTER}.xlsx"
    converted = libreoffice_roundtrip(consolidated, tmp_path / "lo")
    wb = load_workbook(converted, data_only=True)
    assert wb.sheetnames == [
        "表一",
        "表一明细",
        "表二",
        "表二明细",
        "表三",
        "表三明细",
        "表四",
        "表四明细",
    ]
    checked = 0
    for form_id in FORM_IDS:
        lay, ws = layout(form_id), wb[get_form(form_id).name]
        for row_key, column_id, r, c in lay.value_cells():
            expected = sql_total(warehouse, form_id, row_key, column_id)
            got = ws.cell(r + 1, c + 1).value
            assert got == pytest.approx(expected), (form_id, row_key, column_id)
            checked += 1
    assert checked > 200
    # The office's own return (777 777), superseded (888 888) and rejected (999 999) versions
    # never reach a total.
    assert all(
        (cell.value or 0) < 777_777
        for form_id in FORM_IDS
        for row in wb[get_form(form_id).name].iter_rows()
        for cell in row
        if isinstance(cell.value, int | float)
    )
    assert "鲤城区安全生产委员会办公室" in str(wb["表一"]["A2"].value)


def test_department_and_street_rows_are_kept_apart(warehouse, consolidated: Path):
    ws = load_workbook(consolidated)["表一"]
    lay = layout("form1")
    col = lay.col_of["ent_total"] + 1
    street = ws.cell(lay.row_of["street"] + 1, col).value
    dept = ws.cell(lay.row_of["dept"] + 1, col).value
    assert street == sql_total(warehouse, "form1", "street", "ent_total") > 0
    assert dept == sql_total(warehouse, "form1", "dept", "ent_total") > 0
    # 表二's merged (type-scoped) columns hold one total per type, on the type's first row.
    ws2, lay2 = load_workbook(consolidated)["表二"], layout("form2")
    r, c = lay2.value_row("street", "posts_party") + 1, lay2.col_of["posts_party"] + 1
    assert ws2.cell(r, c).value == sql_total(warehouse, "form2", "street", "posts_party")


def test_details_list_every_submitter_and_the_missing(
    warehouse, consolidated: Path, tmp_path: Path
):
    wb = load_workbook(consolidated)
    ws = wb["表一明细"]
    names = [ws.cell(r, 1).value for r in range(3, 7)]
    assert names == ["鲤中街道", "常泰街道", "区卫健局", "区教育局"]  # registry order
    cols = [c.id for c in get_form("form1").value_columns]
    changtai = next(r for r in range(3, 7) if ws.cell(r, 1).value == "常泰街道")
    assert ws.cell(changtai, 3 + 1 + cols.index("ent_total")).value == sql_one(
        warehouse, "常泰街道", "form1", "street", "ent_total"
    )
    missing_line = ws.cell(8, 1).value
    assert missing_line.startswith("未报送单位（17 个）") and "开元街道" in missing_line
    assert "常泰街道" not in missing_line
    details2 = wb["表二明细"]
    text = " ".join(str(c.value) for row in details2.iter_rows() for c in row if c.value)
    # Who sent nothing and who sent only rejected returns: two lines, never both for one unit.
    assert "已报送但未通过校验、待更正后重报的单位（1 个）：区卫健局" in text
    nothing = next(str(c.value) for c in details2["A"] if str(c.value).startswith("未报送"))
    assert "区卫健局" not in nothing
    # 表二's type-scoped columns: one line per type, named after their column groups.
    assert "街道·不分层级（万岗达标、宣传发动）" in text
    # 表四 is owed by 街道 only: the departments are not missing it.
    last = wb["表四明细"]
    line = next(c.value for c in last["A"] if c.value and str(c.value).startswith("未报送"))
    assert "区卫健局" not in line and "海滨街道" in line


def sql_one(con, submitter: str, form: str, row_key: str, column_id: str) -> float:
    return con.execute(
        "select value from official_values where submitter = ? and form = ? and row_key = ? and column_id = ?",
        [submitter, form, row_key, column_id],
    ).fetchone()[0]


def test_hostile_file_name_stays_text(consolidated: Path, tmp_path: Path):
    ws = load_workbook(consolidated)["表一明细"]
    file_col = 3 + len(get_form("form1").value_columns) + 2
    cell = next(ws.cell(r, file_col) for r in range(3, 7) if ws.cell(r, 1).value == "鲤中街道")
    assert cell.value == HOSTILE_NAME + ".xlsx"
    assert cell.data_type == "s" and cell.quotePrefix
    converted = libreoffice_roundtrip(consolidated, tmp_path / "lo")
    after = load_workbook(converted)["表一明细"].cell(cell.row, cell.column)
    assert after.value == HOSTILE_NAME + ".xlsx" and after.data_type == "s"


def test_front_door_accepts_the_consolidated_return(consolidated: Path):
    validate = pytest.importorskip("pipelines.validate")
    results = validate.validate_paths([consolidated], quarter=QUARTER)
    by_form = {r.form: r for r in results if r.form}
    assert set(by_form) == set(FORM_IDS)
    for form_id, result in by_form.items():
        assert result.status == "accepted", (form_id, [i.message for i in result.issues])
        assert result.submitter == "鲤城区安全生产委员会办公室"
        assert not result.warnings, (form_id, [i.message for i in result.warnings])
    assert not [r for r in results if r.form is None]


def test_sample_quarter_totals_match_the_ledger(sample_warehouse, tmp_path: Path):
    """On the warehouse the real pipeline built from the sample: every total equals the sum of
    the official versions' values in the ledger (return_values ⋈ submissions, no view), the
    missing line names exactly the owed returns without an official version, and the front door
    accepts the result."""
    quarter = "2025Q3"
    con = sample_warehouse.connect()
    try:
        out = write_consolidated(
            con, quarter, consolidated_path(tmp_path, quarter), today=dt.date(2025, 10, 20)
        )
        ledger = {
            (form, sub_type, rk, cid): total
            for form, sub_type, rk, cid, total in con.execute(
                """
                select s.form, s.submitter_type, v.row_key, v.column_id, sum(v.value)
                from return_values v join submissions s using (submission_id)
                where s.is_official and s.quarter = ?
                group by all
                """,
                [quarter],
            ).fetchall()
        }
        owed = con.execute(
            """
            select sub.submitter, f.form, exists (
                select 1 from submissions s where s.quarter = ?
                    and s.submitter = sub.submitter and s.form = f.form) as tried
            from submitters sub, unnest(sub.forms) as f(form)
            where not exists (
                select 1 from submissions s where s.is_official and s.quarter = ?
                    and s.submitter = sub.submitter and s.form = f.form)
            """,
            [quarter, quarter],
        ).fetchall()
    finally:
        con.close()
    wb = load_workbook(out)
    checked = 0
    for form_id in FORM_IDS:
        form, lay, ws = get_form(form_id), layout(form_id), wb[get_form(form_id).name]
        totals = {r.key for r in form.rows if r.is_total}
        for row_key, column_id, r, c in lay.value_cells():
            sub_type = next(x.submitter_type for x in form.rows if row_key in (x.key, x.group))
            keys = [x.key for x in form.rows if not x.is_total] if row_key in totals else [row_key]
            expected = sum(ledger.get((form_id, sub_type, k, column_id), 0.0) for k in keys)
            assert ws.cell(r + 1, c + 1).value == pytest.approx(expected), (form_id, row_key)
            checked += 1
        lines = [str(x.value) for x in wb[f"{form.name}明细"]["A"] if x.value]
        nothing = next(x for x in lines if x.startswith("未报送单位"))
        rejected = next(x for x in lines if x.startswith("已报送但未通过校验"))
        sent_nothing = sorted(s for s, f, tried in owed if f == form_id and not tried)
        only_rejected = sorted(s for s, f, tried in owed if f == form_id and tried)
        assert nothing.startswith(f"未报送单位（{len(sent_nothing)} 个）")
        assert rejected.startswith(
            f"已报送但未通过校验、待更正后重报的单位（{len(only_rejected)} 个）"
        )
        assert all(name in nothing and name not in rejected for name in sent_nothing)
        assert all(name in rejected and name not in nothing for name in only_rejected)
    assert checked > 200 and any(v for v in ledger.values())


def test_front_door_accepts_the_sample_consolidated_return(sample_warehouse, tmp_path: Path):
    quarter = "2025Q3"
    con = sample_warehouse.connect()
    try:
        out = write_consolidated(con, quarter, consolidated_path(tmp_path, quarter))
    finally:
        con.close()
    validate = pytest.importorskip("pipelines.validate")
    results = validate.validate_paths([out], quarter=quarter)
    assert {r.form for r in results} == set(FORM_IDS)
    assert all(r.status == "accepted" for r in results), [
        i.message for r in results for i in r.issues
    ]
