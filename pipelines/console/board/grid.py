"""The quarter board as rows of cells, from the warehouse's `reporting_status` and
`reporting_summary` (the OFFICE helper's collection-window states: `state`, `state_label`,
`received_after_lock`). The board only lays out what those views say; it decides nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.console import reads
from pipelines.console.accounts.access import Scope
from pipelines.forms import FORM_IDS, load_forms
from pipelines.paths import Paths
from pipelines.registry import load_registry

# How a state reads on the board (the states' own labels come from the view).
CELL_TEXT = {"按时报送": "已报送（按时）", "逾期报送": "已报送（逾期）"}
CELL_CLASS = {
    "not_due": "s-not-due",
    "on_time": "s-on-time",
    "late": "s-late",
    "sent_back": "s-sent-back",
    "missing": "s-missing",
}
LOCKED_TEXT = "锁定后收到"


@dataclass
class Cell:
    form: str
    text: str
    css: str
    versions: int = 0
    after_lock: bool = False
    owed: bool = True


@dataclass
class UnitRow:
    unit: str
    type: str
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Board:
    quarter: str
    forms: list[tuple[str, str]]
    rows: list[UnitRow]
    summary: list[dict]
    types: list[str]


def _state(row: dict) -> tuple[str, str]:
    """(state key, label) of one reporting_status row."""
    label = row.get("state_label") or row.get("status_label") or ""
    state = row.get("state")
    if state is None:  # a warehouse published before the collection-window states existed
        state = "on_time" if row.get("on_time") else "late" if row.get("late") else "missing"
    return state, label


def board(paths: Paths, scope: Scope, quarter: str, type_: str | None = None) -> Board:
    forms = load_forms()
    form_cols = [(f, forms[f].name) for f in FORM_IDS]
    registry = load_registry()
    owing = [s for s in registry.submitters if s.forms]
    types = list(dict.fromkeys(s.type for s in owing))
    where, params = scope.sql()
    with reads.published(paths) as con:
        if con is None:
            return Board(quarter, form_cols, [], [], types)
        status = reads.rows(
            con,
            f"select * from reporting_status where quarter = ? and {where}",
            [quarter, *params],
        )
        summary = reads.rows(
            con,
            "select * from reporting_summary where quarter = ? and form is null "
            "order by submitter_type",
            [quarter],
        )
    by_key = {(r["submitter"], r["form"]): r for r in status}
    out = []
    for s in owing:
        if type_ and s.type != type_:
            continue
        if not scope.allows(s.name):
            continue
        row = UnitRow(s.name, s.type)
        for f, _name in form_cols:
            r = by_key.get((s.name, f))
            if r is None:
                row.cells.append(Cell(f, "—" if f not in s.forms else "", "s-none", owed=False))
                continue
            state, label = _state(r)
            row.cells.append(
                Cell(
                    f,
                    CELL_TEXT.get(label, label),
                    CELL_CLASS.get(state, "s-none"),
                    versions=int(r.get("versions") or 0),
                    after_lock=bool(r.get("received_after_lock")),
                    owed=bool(r.get("expected", True)),
                )
            )
        out.append(row)
    if type_:
        summary = [s for s in summary if s["submitter_type"] == type_]
    return Board(quarter, form_cols, out, summary, types)
