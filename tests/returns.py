"""Build realistic filled returns for tests, through the same writer the office's templates use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from pipelines.forms.layout import layout
from pipelines.forms.workbook import write_form
from pipelines.registry import load_registry

# A consistent 表一 街道 row (every rule holds).
FORM1_STREET = {
    "ent_small": 300, "ent_medium": 70, "ent_large": 25, "ent_total": 395,
    "mgmt_body": 120, "resp_list": 380, "safety_staff": 90, "three_lists": 350,
    "hazards_found": 900, "hazards_fixed": 870, "risk_red": 3, "risk_orange": 20,
    "risk_yellow": 120, "risk_blue": 240, "site_5s": 200, "six_signs": 260, "rescue_team": 60,
    "std_reviewed": 40, "std_self": 150, "std_total": 190,
    "star_total": 100, "star_5": 5, "star_4": 15, "star_3": 30, "star_2": 25, "star_1": 25,
}  # fmt: skip


def zero_values(form_id: str, submitter_name: str) -> dict[tuple[str, str], float]:
    """0 in every input cell of the submitter's own rows."""
    sub = load_registry().by_name(submitter_name)
    return dict.fromkeys(layout(form_id).own_cells(sub.type), 0)


def write_return(
    path: Path,
    form_id: str,
    submitter: str,
    values: dict | None = None,
    *,
    campaign: int = 2025,
    submitter_text: str | None = None,
    date: dt.date | None = dt.date(2025, 10, 8),
    origin: tuple[int, int] = (0, 0),
    sheet_title: str | None = None,
    workbook: openpyxl.Workbook | None = None,
) -> Path:
    """One form on one sheet; `values` override zeros of the submitter's own rows."""
    wb = workbook or openpyxl.Workbook()
    ws = wb.active if workbook is None else wb.create_sheet()
    if sheet_title:
        ws.title = sheet_title
    sub = load_registry().by_name(submitter)
    full = zero_values(form_id, submitter) | (values or {})
    header = {
        "submitter_text": submitter_text or submitter,
        "filled_by": "张敏",
        "phone": "0595-22000000",
    }
    if date:
        header["date"] = date
    write_form(ws, form_id, campaign, submitter=sub, values=full, header=header, origin=origin)
    wb.save(path)
    return path
