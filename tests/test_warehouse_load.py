"""The warehouse's ledger: nothing lost, nothing doubled, versions, received times, explanations,
and a schema analysts can read. Real workbooks in a drop folder, the real front door, a real
DuckDB file."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import clock
from pipelines.forms import FORM_IDS, get_form
from pipelines.paths import Paths
from pipelines.sample import write_sample
from pipelines.validate import validate_paths
from pipelines.warehouse import refresh, schema
from tests.returns import FORM1_STREET, write_return
from tests.snapshot import snapshot

STREET = "常泰街道"
Q3 = "2025Q3"


def _form1(**changes: float) -> dict[tuple[str, str], float]:
    return {("street", k): v for k, v in (FORM1_STREET | changes).items()}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _received_csv(folder: Path, rows: dict[str, str], encoding: str = "utf-8-sig") -> None:
    with open(folder / "received.csv", "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "received_at"])
        w.writerows(rows.items())


def _explanations(folder: Path, rows: list[tuple[str, str, str, str]]) -> None:
    with open(folder / "explanations.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["submitter", "form", "cell_or_rule", "text"])
        w.writerows(rows)


def _run(paths: Paths, *quarters: str) -> None:
    refresh(paths, quarters or [Q3], validate_paths)


def _query(paths: Paths, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _ledger(paths: Paths) -> dict[str, dict]:
    """submissions by original file name."""
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        cur = con.execute("select * from submissions")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    return {r["original_name"]: r for r in rows}


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path)


@pytest.fixture
def drop(paths: Paths) -> Path:
    folder = paths.raw_quarter(Q3)
    folder.mkdir(parents=True)
    return folder


# ---- archive ------------------------------------------------------------------------------


def test_every_received_file_is_archived_once_under_its_hash(paths: Paths, drop: Path) -> None:
    a = write_return(drop / "常泰街道表一.xlsx", "form1", STREET, _form1())
    b = write_return(drop / "区应急局.xlsx", "form1", "区应急局")
    sub = drop / "邮件附件"
    sub.mkdir()
    shutil.copyfile(a, sub / "新建 Microsoft Excel 工作表.xlsx")  # same bytes, another name
    (drop / "~$常泰街道表一.xlsx").write_bytes(b"lock file of an open workbook")

    _run(paths)
    _run(paths)

    archived = sorted(p.name for p in paths.archive.iterdir())
    assert archived == sorted([f"{_sha(a)}.xlsx", f"{_sha(b)}.xlsx"])
    for p in paths.archive.iterdir():
        assert _sha(p) == p.stem
    rows = _query(paths, "select sha256, archive_path, original_name from submissions")
    assert sorted(r[0] for r in rows) == sorted([_sha(a), _sha(b)])
    for sha, archive_path, _ in rows:
        assert Path(archive_path) == (paths.archive / f"{sha}.xlsx").resolve()


def test_running_again_on_the_same_files_changes_nothing(paths: Paths) -> None:
    """The realistic sample (resubmissions, late files, defects, five quarters): a second refresh
    leaves every table exactly as it was, and the archive too."""
    write_sample(paths.raw)
    quarters = sorted(p.name for p in paths.raw.iterdir() if p.is_dir())
    refresh(paths, quarters, validate_paths)
    first = snapshot(paths.warehouse)
    archive = sorted(os.listdir(paths.archive))
    refresh(paths, quarters, validate_paths)
    assert snapshot(paths.warehouse) == first
    assert sorted(os.listdir(paths.archive)) == archive
    assert len(first["submissions"]) > 300 and len(first["return_values"]) > 20_000


# ---- versions -----------------------------------------------------------------------------


def test_accepted_resubmission_becomes_official_and_the_earlier_stays(
    paths: Paths, drop: Path
) -> None:
    write_return(drop / "表一.xlsx", "form1", STREET, _form1(hazards_found=900))
    write_return(drop / "表一（更正）.xlsx", "form1", STREET, _form1(hazards_found=950))
    _received_csv(drop, {"表一.xlsx": "2025-09-25 10:00", "表一（更正）.xlsx": "2025-09-28"})
    _run(paths)

    led = _ledger(paths)
    old, new = led["表一.xlsx"], led["表一（更正）.xlsx"]
    assert (old["status"], new["status"]) == ("accepted", "accepted")
    assert new["is_official"] and not old["is_official"]
    assert old["superseded_by"] == new["submission_id"]
    assert old["reason"].startswith("已被 2025-09-28 00:00 收到的新版本替代")
    # the earlier version's figures stay queryable, beside the official ones
    by_version = _query(
        paths,
        "select submission_id, hazards_found from form1_values where submitter = ? order by 2",
        [STREET],
    )
    assert by_version == [(old["submission_id"], 900), (new["submission_id"], 950)]
    official = _query(
        paths,
        "select value from official_values where submitter = ? and column_id = 'hazards_found'",
        [STREET],
    )
    assert official == [(950,)]


def test_rejected_resubmission_never_replaces_an_accepted_return(paths: Paths, drop: Path) -> None:
    write_return(drop / "表一.xlsx", "form1", STREET, _form1())
    # later, but 整改 > 自查: rejected by the front door
    write_return(drop / "表一（更正）.xlsx", "form1", STREET, _form1(hazards_fixed=1000))
    _received_csv(drop, {"表一.xlsx": "2025-09-25", "表一（更正）.xlsx": "2025-09-28"})
    _run(paths)

    led = _ledger(paths)
    old, new = led["表一.xlsx"], led["表一（更正）.xlsx"]
    assert new["status"] == "rejected" and not new["is_official"]
    assert old["is_official"] and old["superseded_by"] is None
    assert new["reason"].startswith("退回：1 处错误未解决。")
    assert "整改隐患数量" in new["reason"]


def test_issue_resolved_by_an_accepted_resubmission(paths: Paths, drop: Path) -> None:
    write_return(drop / "表一.xlsx", "form1", STREET, _form1(hazards_fixed=1000))
    write_return(drop / "表一（更正）.xlsx", "form1", STREET, _form1())
    _received_csv(drop, {"表一.xlsx": "2025-09-25", "表一（更正）.xlsx": "2025-09-28"})
    _run(paths)

    led = _ledger(paths)
    old, new = led["表一.xlsx"], led["表一（更正）.xlsx"]
    assert old["status"] == "rejected" and new["is_official"]
    assert old["superseded_by"] == new["submission_id"]
    issues = _query(
        paths,
        "select rule, status, resolved_by_submission from validation_issues "
        "where submission_id = ?",
        [old["submission_id"]],
    )
    assert issues == [("form1.fixed_le_found", "resolved", new["submission_id"])]


def test_unreadable_files_get_a_ledger_row_with_a_reason(paths: Paths, drop: Path) -> None:
    (drop / "季报表.xlsx").write_bytes(os.urandom(4096))
    (drop / "空文件.xls").write_bytes(b"")
    _run(paths)

    led = _ledger(paths)
    assert set(led) == {"季报表.xlsx", "空文件.xls"}
    for row in led.values():
        assert row["status"] == "unreadable" and row["form"] is None and not row["is_official"]
        assert row["reason"].startswith("无法读取：")
        assert len(row["reason"]) > len("无法读取：") + 4
        assert Path(row["archive_path"]).exists()


# ---- received times -----------------------------------------------------------------------


def test_received_csv_overrides_received_at_and_first_seen_is_kept(
    paths: Paths, drop: Path
) -> None:
    write_return(drop / "常泰.xlsx", "form1", STREET, _form1())
    write_return(drop / "应急局.xlsx", "form1", "区应急局")
    _received_csv(drop, {"常泰.xlsx": "2025/10/03 16:20"})
    _run(paths)

    led = _ledger(paths)
    assert led["常泰.xlsx"]["received_at"] == dt.datetime(2025, 10, 3, 16, 20)
    assert led["常泰.xlsx"]["received_at_source"] == "received.csv"
    assert led["常泰.xlsx"]["on_time"] is False  # due 2025-10-01
    first = led["应急局.xlsx"]["received_at"]
    assert led["应急局.xlsx"]["received_at_source"] == "first_seen"
    assert abs(first - clock.now()) < dt.timedelta(minutes=5)  # the office's clock

    # Later: the archive is rebuilt (copies get new times) and the same bytes arrive again
    # under another name. The ledger keeps the first time and the first name.
    shutil.rmtree(paths.archive)
    shutil.copyfile(drop / "应急局.xlsx", drop / "应急局（再次发送）.xlsx")
    (drop / "应急局.xlsx").unlink()
    later = dt.datetime.now().timestamp() + 3600
    _run(paths)
    for p in paths.archive.iterdir():
        os.utime(p, (later, later))
    _run(paths)

    led = _ledger(paths)
    assert "应急局（再次发送）.xlsx" not in led
    assert led["应急局.xlsx"]["received_at"] == first


def test_a_bad_received_csv_date_is_reported_not_a_crash(
    paths: Paths, drop: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_return(drop / "常泰.xlsx", "form1", STREET, _form1())
    write_return(drop / "应急局.xlsx", "form1", "区应急局")
    # typed by hand in Excel on a Chinese Windows: GBK, one impossible date
    _received_csv(
        drop, {"常泰.xlsx": "2025-13-45", "应急局.xlsx": "2025-09-30 08:00"}, encoding="gbk"
    )
    with caplog.at_level(logging.WARNING):
        _run(paths)

    led = _ledger(paths)
    assert led["常泰.xlsx"]["received_at_source"] == "first_seen"
    assert led["应急局.xlsx"]["received_at"] == dt.datetime(2025, 9, 30, 8)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("无法识别的收到时间「2025-13-45」" in m and "第 2 行" in m for m in warned)


# ---- explanations -------------------------------------------------------------------------


def test_explanation_marks_an_issue_explained_and_it_stays_recorded(paths: Paths) -> None:
    """A cumulative that fell (an error from history) is explained by the office: the return is
    accepted and the issue stays, marked explained, with the text — across later refreshes."""
    q2, q3 = paths.raw_quarter("2025Q2"), paths.raw_quarter(Q3)
    q2.mkdir(parents=True)
    q3.mkdir(parents=True)
    write_return(q2 / "常泰.xlsx", "form1", STREET, _form1(), date=dt.date(2025, 7, 2))
    write_return(q3 / "常泰.xlsx", "form1", STREET, _form1(hazards_found=880))
    _run(paths, "2025Q2", Q3)
    assert _ledger(paths)["常泰.xlsx"] is not None
    before = _query(
        paths,
        "select s.status, i.status from validation_issues i join submissions s using "
        "(submission_id) where s.quarter = ? and i.rule = 'cumulative_decrease'",
        [Q3],
    )
    assert before == [("rejected", "open")]

    text = "二季度重复统计 20 条，已核减"
    _explanations(q3, [("常泰街道办事处", "表一", "J7", text)])
    _run(paths, "2025Q2", Q3)
    _run(paths, Q3)  # and again, for the quarter alone
    after = _query(
        paths,
        "select s.status, s.is_official, i.status, i.explanation, i.message "
        "from validation_issues i join submissions s using (submission_id) "
        "where s.quarter = ? and i.rule = 'cumulative_decrease'",
        [Q3],
    )
    assert len(after) == 1
    status, official, issue_status, explanation, message = after[0]
    assert (status, official, issue_status, explanation) == ("accepted", True, "explained", text)
    assert "880" in message and "900" in message
    assert _query(paths, "select count(*) from explanations where quarter = ?", [Q3]) == [(1,)]


# ---- schema -------------------------------------------------------------------------------


def test_every_table_view_and_column_is_commented(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    schema.apply(con)
    bare_tables = con.execute(
        "select table_name from duckdb_tables() where comment is null or comment = ''"
    ).fetchall()
    bare_views = con.execute(
        "select view_name from duckdb_views() where not internal "
        "and (comment is null or comment = '')"
    ).fetchall()
    bare_columns = con.execute(
        """
        select c.table_name, c.column_name from duckdb_columns() as c
        where c.database_name = current_database() and c.schema_name = 'main'
            and (c.comment is null or c.comment = '')
        """
    ).fetchall()
    n_tables = con.execute("select count(*) from duckdb_tables()").fetchone()[0]
    con.close()
    assert n_tables >= 10
    assert bare_tables == [] and bare_views == [] and bare_columns == []


def test_form_views_file_is_what_the_form_definitions_generate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sql/10 is generated from config/forms: the checked-in file is the generator's output, and
    `--check` fails on a stale copy (so a form change without regenerating is caught)."""
    text = schema.render_form_views()
    assert schema.FORM_VIEWS_FILE.read_text(encoding="utf-8") == text
    for fid in FORM_IDS:
        for col in get_form(fid).value_columns:
            assert f"as {col.id},\n" in text or f"as {col.id}\n" in text, (fid, col.id)
    stale = tmp_path / "10_form_values.sql"
    stale.write_text(text.replace("as hazards_fixed,", "as hazards_fixd,"), encoding="utf-8")
    monkeypatch.setattr(schema, "FORM_VIEWS_FILE", stale)
    assert schema.main(["--check"]) == 1
    assert schema.main([]) == 0 and schema.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == text


def test_wide_form_views_carry_the_chinese_labels(paths: Paths, drop: Path) -> None:
    write_return(drop / "常泰.xlsx", "form1", STREET, _form1())
    _run(paths)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        for fid in FORM_IDS:
            form = get_form(fid)
            comments = dict(
                con.execute(
                    "select column_name, comment from duckdb_columns() where table_name = ?",
                    [f"{fid}_values"],
                ).fetchall()
            )
            for col in form.value_columns:
                assert col.label in comments[col.id], (fid, col.id)
        row = con.execute(
            "select hazards_found, hazards_fixed, ent_total from form1_values where submitter = ?",
            [STREET],
        ).fetchone()
    finally:
        con.close()
    assert row == (900, 870, 395)
