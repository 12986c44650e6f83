"""The official blank forms (空白模板) the office sends to submitters every quarter.

Two kinds:
- the office's generic template: one workbook per form (`季报表_2025_表一.xlsx`), both submitter
  types' rows open for input;
- a submitter's own template: one workbook per submitter (`季报表_2025_常泰街道.xlsx`) with a sheet
  per form it owes (表一…表四), 填报单位 prefilled, only its own type's rows open for input and the
  other type's rows greyed and locked.

Sheets are protected without a password so that labels and merges stay intact (the reader
recognises forms by their labels); input cells carry Excel data validation (whole numbers ≥ 0,
万元 decimals ≥ 0). No formulas anywhere: a formula saved by openpyxl has no cached value, and
the reader reports such cells.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.forms import FORM_IDS
from pipelines.forms.workbook import InputCell, save_workbook, sheet_name, write_form
from pipelines.registry import Submitter, load_registry

ALL = "all"  # write_templates(submitter="all"): one workbook for every registered submitter


def template_name(campaign: int, who: str) -> str:
    """「季报表_2025_常泰街道.xlsx」 / 「季报表_2025_表一.xlsx」."""
    return f"季报表_{campaign}_{who}.xlsx"


def write_templates(
    out_dir: Path, campaign: int = 2025, submitter: str | None = None
) -> list[Path]:
    """Write blank templates into out_dir and return their paths.

    submitter None: the generic template, one workbook per form; a submitter's name (or alias):
    its own workbook; "all": one workbook for every registered submitter that owes forms (the
    office itself owes none).
    """
    out_dir = Path(out_dir)
    if submitter is None:
        return [_write_generic(out_dir, campaign, form_id) for form_id in FORM_IDS]
    registry = load_registry()
    if submitter == ALL:
        chosen: Iterable[Submitter] = [s for s in registry.submitters if s.forms]
    else:
        found = registry.resolve(submitter)
        if found is None:
            raise KeyError(f"报送单位名录中没有「{submitter}」")
        chosen = [found]
    return [_write_submitter(out_dir, campaign, s) for s in chosen]


def _write_generic(out_dir: Path, campaign: int, form_id: str) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name(form_id)
    plan = write_form(ws, form_id, campaign, submitter=None, protect_inputs=True)
    add_input_validation(ws, plan.inputs)
    return save_workbook(
        wb, out_dir / template_name(campaign, sheet_name(form_id)), _stamp(campaign)
    )


def _write_submitter(out_dir: Path, campaign: int, submitter: Submitter) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for form_id in submitter.forms:
        ws = wb.create_sheet(sheet_name(form_id))
        plan = write_form(ws, form_id, campaign, submitter=submitter, protect_inputs=True)
        add_input_validation(ws, plan.inputs)
    return save_workbook(wb, out_dir / template_name(campaign, submitter.name), _stamp(campaign))


def _stamp(campaign: int) -> dt.datetime:
    """A fixed document date per campaign, so regenerated templates are byte-identical."""
    return dt.datetime(campaign, 1, 1, 8, 0, 0)


def add_input_validation(ws: Worksheet, inputs: Iterable[InputCell]) -> list[DataValidation]:
    """Excel data validation on the open input cells: counts whole ≥ 0, 万元 decimal ≥ 0."""
    own = [c for c in inputs if c.own]
    rules = [
        (
            [c.ref for c in own if not c.column.is_amount],
            "whole",
            "请填写大于或等于 0 的整数（家、条、个、家次、人次、场次均为整数）。若无，请填写 0，不要留空或填写“无”“-”“/”。",
            "填写整数；若无请填写 0",
        ),
        (
            [c.ref for c in own if c.column.is_amount],
            "decimal",
            "请填写大于或等于 0 的金额（单位：万元，可有小数）。若无，请填写 0，不要留空或填写“无”“-”“/”。",
            "填写金额（万元），可有小数；若无请填写 0",
        ),
    ]
    added = []
    for refs, kind, error, prompt in rules:
        if not refs:
            continue
        dv = DataValidation(
            type=kind,
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            errorStyle="stop",
            errorTitle="输入有误",
            error=error,
            promptTitle="填写说明",
            prompt=prompt,
        )
        dv.sqref = MultiCellRange(" ".join(refs))
        ws.add_data_validation(dv)
        added.append(dv)
    return added
