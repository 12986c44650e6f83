"""The journal in the warehouse: explanations.csv imported into it, and its copy `office_actions`.

`sync(paths, quarters)` is what a load calls before building: each quarter's explanations.csv
(data/raw/<quarter>/explanations.csv, the office's older way of recording 强制上报) is imported
into the journal — idempotently: a line's action id is a hash of what it says (quarter,
submitter, form, cell or rule, text), so reading the same file again appends nothing, and an
edited text is a new decision (the latest one for a cell is the one in force). Lines of a quarter
that is closed are not imported until it is reopened (a warning says so). It returns the whole
journal, which `store_actions` copies into `office_actions` and `explanations`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence

import duckdb
import polars as pl

from pipelines import clock
from pipelines.office import journal
from pipelines.office.decisions import locked_quarters
from pipelines.office.journal import SOURCE_CSV, OfficeAction
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.warehouse.archive import EXPLANATIONS_CSV
from pipelines.warehouse.frames import insert_frame

log = logging.getLogger(__name__)


def _csv_action_id(quarter: str, submitter: str, form: str, target: str, text: str) -> str:
    key = "\x1f".join((SOURCE_CSV, quarter, submitter, form, target.strip().lower(), text.strip()))
    return "csv-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def csv_actions(paths: Paths, quarter: str | Quarter) -> list[OfficeAction]:
    """The accept actions one quarter's explanations.csv stands for (not yet appended)."""
    from pipelines.warehouse.explanations import read_explanations

    q = str(quarter)
    path = paths.raw_quarter(q) / EXPLANATIONS_CSV
    rows = read_explanations(paths, q)
    if not rows:
        return []
    at = clock.from_timestamp(path.stat().st_mtime)
    return [
        OfficeAction(
            _csv_action_id(q, e.submitter, e.form, e.cell_or_rule, e.text),
            at,
            SOURCE_CSV,
            "accept",
            q,
            e.submitter,
            e.form,
            e.cell_or_rule.strip(),
            e.text.strip(),
            source=SOURCE_CSV,
        )
        for e in rows
    ]


def import_explanations(paths: Paths, quarters: Iterable[str | Quarter]) -> list[OfficeAction]:
    """Append the explanations.csv lines of `quarters` the journal does not have yet."""
    current = journal.read_actions(paths)
    have = {a.action_id for a in current}
    locked = locked_quarters(current)
    pending: list[OfficeAction] = []
    for q in sorted({str(q) for q in quarters}):
        fresh = [a for a in csv_actions(paths, q) if a.action_id not in have]
        if fresh and q in locked:
            log.warning(
                "%s 已审核锁定：explanations.csv 中新增的 %d 条情况说明暂不采用，重新开放后生效",
                q,
                len(fresh),
            )
            continue
        pending += fresh
    return journal.append_new(paths, pending) if pending else []


def sync(paths: Paths, quarters: Iterable[str | Quarter]) -> list[OfficeAction]:
    """Import the quarters' explanations.csv, then return the whole journal (for the load)."""
    import_explanations(paths, quarters)
    return journal.read_actions(paths)


_SCHEMA = {
    "action_id": pl.String,
    "seq": pl.Int32,
    "acted_at": pl.Datetime("us"),
    "actor": pl.String,
    "action": pl.String,
    "action_label": pl.String,
    "quarter": pl.String,
    "submitter": pl.String,
    "form": pl.String,
    "target": pl.String,
    "reason": pl.String,
    "source": pl.String,
}


def store_actions(con: duckdb.DuckDBPyConnection, actions: Sequence[OfficeAction]) -> None:
    """Replace `office_actions` with the journal, and rebuild `explanations` from its
    acceptances: the latest per quarter × submitter × form × cell or rule is in force."""
    rows = [
        {
            "action_id": a.action_id,
            "seq": a.seq or i,
            "acted_at": a.acted_at,
            "actor": a.actor,
            "action": a.action,
            "action_label": a.label,
            "quarter": a.quarter,
            "submitter": a.submitter,
            "form": a.form,
            "target": a.target,
            "reason": a.reason,
            "source": a.source,
        }
        for i, a in enumerate(actions, 1)
    ]
    con.execute("delete from office_actions")
    # The same id twice (a journal copied into itself by hand) counts once: the first.
    frame = pl.DataFrame(rows, schema=_SCHEMA).unique("action_id", keep="first")
    insert_frame(con, "office_actions", frame)
    con.execute("delete from explanations")
    con.execute(
        """
        insert into explanations (quarter, submitter, form, cell_or_rule, text, position)
        select quarter, submitter, form, target, reason, seq
        from office_actions
        where action = 'accept' and target is not null
        qualify row_number() over (
            partition by quarter, submitter, form, lower(target) order by seq desc
        ) = 1
        """
    )
