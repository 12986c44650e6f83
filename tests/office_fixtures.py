"""A small quarter of real workbooks for the office's decisions, built once per session.

2025Q3 (due 2025-10-01; on time only before it, calendar.yaml):
- 常泰街道 表一 clean (09-28); 表三 督促整改 60 > 发现 50 (rejected: form3.urged_le_found, real when
  rectification includes hazards found before the window), 09-28;
- 临江街道 表一 with a blank cell (rejected: blank, never explainable), 09-29;
- 金龙街道 表一 v1 (09-27) and a corrected v2 (10-03), both accepted: v2 official, on time (v1 was);
- 区卫健局 表一 received on the due date itself (10-01): late;
- 区教育局 表一 09-30: on time.
Drop folder → front door → loader → integrity → publish (`pipelines.warehouse.refresh`).
Tests copy the home (`copy_home`) before changing anything.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.forms.layout import layout
from pipelines.paths import Paths
from pipelines.validate import validate_paths
from pipelines.warehouse import refresh
from tests.returns import FORM1_STREET, write_return

Q = "2025Q3"
URGED_CELL = layout("form3").a1("street", "hazards_urged_fixed")  # D8
BLANK_CELL = layout("form1").a1("street", "ent_small")
FILES = {
    "常泰街道_表一.xlsx": "2025-09-28 09:00",
    "常泰街道_表三.xlsx": "2025-09-28 09:05",
    "临江街道_表一.xlsx": "2025-09-29 10:00",
    "金龙街道_表一.xlsx": "2025-09-27 15:00",
    "金龙街道_表一_更正.xlsx": "2025-10-03 11:00",
    "区卫健局_表一.xlsx": "2025-10-01 08:30",
    "区教育局_表一.xlsx": "2025-09-30 16:00",
}


def street1(**changes: float | None) -> dict[tuple[str, str], float | None]:
    return {("street", k): v for k, v in (FORM1_STREET | changes).items()}


def form3_street(found: float, urged: float) -> dict[tuple[str, str], float]:
    return {("street", "hazards_inspect_found"): found, ("street", "hazards_urged_fixed"): urged}


def write_received(folder: Path, rows: dict[str, str]) -> None:
    path = folder / "received.csv"
    existing: dict[str, str] = {}
    if path.exists():
        with open(path, encoding="utf-8-sig", newline="") as fh:
            existing = {r["file"]: r["received_at"] for r in csv.DictReader(fh)}
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "received_at"])
        w.writerows((existing | rows).items())


def build_home(root: Path) -> Paths:
    paths = Paths(root)
    folder = paths.raw_quarter(Q)
    folder.mkdir(parents=True)
    write_return(folder / "常泰街道_表一.xlsx", "form1", "常泰街道", street1())
    write_return(folder / "常泰街道_表三.xlsx", "form3", "常泰街道", form3_street(50, 60))
    write_return(folder / "临江街道_表一.xlsx", "form1", "临江街道", street1(ent_small=None))
    jinlong = {"ent_small": 400, "ent_medium": 70, "ent_large": 25, "ent_total": 495}
    write_return(folder / "金龙街道_表一.xlsx", "form1", "金龙街道", street1(**jinlong))
    write_return(
        folder / "金龙街道_表一_更正.xlsx",
        "form1",
        "金龙街道",
        street1(**jinlong, mgmt_body=121),
    )
    write_return(folder / "区卫健局_表一.xlsx", "form1", "区卫健局")
    write_return(folder / "区教育局_表一.xlsx", "form1", "区教育局")
    write_received(folder, FILES)
    rerun(paths)
    return paths


def rerun(paths: Paths, *quarters: str) -> None:
    """What `jibao run` does to the warehouse: scan, validate, load (with the journal), check,
    publish."""
    refresh(paths, quarters or [Q], validate_paths)


@dataclass(frozen=True)
class OfficeHome:
    paths: Paths


def copy_home(home: OfficeHome, target: Path) -> Paths:
    shutil.copytree(home.paths.root, target)
    return Paths(target)


def query(paths: Paths, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def ledger(paths: Paths, submitter: str, form: str) -> list[tuple]:
    """(file, status, official, sent_back, received_after_lock) of each version, oldest first."""
    return query(
        paths,
        "select original_name, status, is_official, sent_back, received_after_lock "
        "from submissions where submitter = ? and form = ? and quarter = ? "
        "order by received_at",
        [submitter, form, Q],
    )


def state(paths: Paths, submitter: str, form: str, today: dt.date) -> tuple:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        con.execute("set variable jibao_today = ?::date", [today.isoformat()])
        return con.execute(
            "select state, state_label, due, received_after_lock from reporting_status "
            "where submitter = ? and form = ? and quarter = ?",
            [submitter, form, Q],
        ).fetchall()[0]
    finally:
        con.close()
