"""The office journal: append-only, locked, crash-safe; explanations.csv imported idempotently;
loaded into the warehouse as office_actions at every load."""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
from pathlib import Path

import duckdb

from pipelines.office import journal, store
from pipelines.office.journal import OfficeAction
from pipelines.paths import Paths
from pipelines.validate import validate_paths
from pipelines.warehouse import refresh
from tests.returns import write_return

Q = "2025Q3"
WHEN = dt.datetime(2025, 10, 8, 9, 30)


def action(n: int, **kw) -> OfficeAction:
    base = dict(action_id=f"id{n}", acted_at=WHEN, actor="黄文祥", action="close", quarter=Q)
    return OfficeAction(**(base | kw))


def test_appends_are_kept_in_order_and_never_rewritten(tmp_path: Path):
    paths = Paths(tmp_path)
    journal.append(paths, action(1))
    first = journal.journal_path(paths).read_bytes()
    journal.append(paths, action(2, action="reopen", reason="更正"))
    data = journal.journal_path(paths).read_bytes()
    assert data.startswith(first) and data.endswith(b"\n")
    got = journal.read_actions(paths)
    assert [(a.action_id, a.action, a.seq) for a in got] == [
        ("id1", "close", 1),
        ("id2", "reopen", 2),
    ]
    assert got[1].reason == "更正" and got[1].acted_at == WHEN
    assert "更正" in data.decode("utf-8")  # readable Chinese, not \\u escapes


def test_a_torn_last_line_is_skipped_with_a_warning_and_left_in_place(tmp_path: Path, caplog):
    paths = Paths(tmp_path)
    journal.append(paths, action(1))
    path = journal.journal_path(paths)
    torn = action(2).to_json().encode("utf-8")[:25]  # the process died mid-write
    with open(path, "ab") as fh:
        fh.write(torn)
    before = path.read_bytes()
    with caplog.at_level(logging.WARNING):
        assert [a.action_id for a in journal.read_actions(paths)] == ["id1"]
    assert any("第 2 行不完整" in r.getMessage() for r in caplog.records)
    journal.append(paths, action(3))
    after = path.read_bytes()
    assert after.startswith(before)  # the fragment stays; nothing before it changed
    assert [a.action_id for a in journal.read_actions(paths)] == ["id1", "id3"]


def _writer(root: str, n: int) -> None:
    paths = Paths(Path(root))
    for i in range(25):
        journal.append(paths, action(n * 1000 + i, reason="说明" * 50))


def test_concurrent_writers_never_interleave(tmp_path: Path):
    ctx = multiprocessing.get_context("fork")  # separate processes, no re-import
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), n)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    got = journal.read_actions(Paths(tmp_path))
    assert len(got) == 100 and len({a.action_id for a in got}) == 100


def test_explanations_csv_is_imported_once(tmp_path: Path):
    paths = Paths(tmp_path)
    folder = paths.raw_quarter(Q)
    folder.mkdir(parents=True)
    csv = folder / "explanations.csv"
    csv.write_text(
        "submitter,form,cell_or_rule,text\n"
        "常泰街道办事处,表三,D8,含以往发现的隐患\n"
        "区卫健局,表一,cumulative_decrease,上季度重复统计\n",
        encoding="utf-8-sig",
    )
    first = store.import_explanations(paths, [Q])
    assert [(a.submitter, a.form, a.target, a.actor, a.source) for a in first] == [
        ("常泰街道", "form3", "D8", "explanations.csv", "explanations.csv"),
        ("区卫健局", "form1", "cumulative_decrease", "explanations.csv", "explanations.csv"),
    ]
    assert store.import_explanations(paths, [Q]) == []  # the same file again: nothing new
    csv.write_text(  # lines reordered, one text edited: one new decision
        "submitter,form,cell_or_rule,text\n"
        "区卫健局,表一,cumulative_decrease,上季度重复统计\n"
        "常泰街道,表三,d8,含2024年发现的隐患\n",
        encoding="utf-8-sig",
    )
    again = store.import_explanations(paths, [Q])
    assert [a.reason for a in again] == ["含2024年发现的隐患"]
    assert len(journal.read_actions(paths)) == 3


def test_every_load_copies_the_journal_and_the_latest_explanation_is_in_force(tmp_path: Path):
    paths = Paths(tmp_path)
    folder = paths.raw_quarter(Q)
    folder.mkdir(parents=True)
    write_return(folder / "常泰.xlsx", "form3", "常泰街道", {("street", "hazards_inspect_found"): 5,
                 ("street", "hazards_urged_fixed"): 7})  # fmt: skip
    (folder / "explanations.csv").write_text(
        "submitter,form,cell_or_rule,text\n常泰街道,表三,D8,旧说明\n", encoding="utf-8"
    )
    refresh(paths, [Q], validate_paths)
    journal.append(
        paths,
        OfficeAction("x1", WHEN, "黄文祥", "accept", Q, "常泰街道", "form3", "D8", "新说明"),
    )
    refresh(paths, [Q], validate_paths)
    refresh(paths, [Q], validate_paths)  # and again: nothing doubles
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute(
            "select seq, actor, action, target, reason, source from office_actions order by seq"
        ).fetchall()
        issue = con.execute(
            "select status, explanation from validation_issues where rule = 'form3.urged_le_found'"
        ).fetchall()
    assert rows == [
        (1, "explanations.csv", "accept", "D8", "旧说明", "explanations.csv"),
        (2, "黄文祥", "accept", "D8", "新说明", "office"),
    ]
    assert issue == [("explained", "新说明")]
