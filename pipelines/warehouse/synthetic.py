"""Returns made by hand, shaped like the front door's: for tests and the scale benchmark.

Cells follow the official layout (pipelines.forms.layout), values only on the rows of the
submitter's own type, as the front door emits them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from pipelines.forms import get_form
from pipelines.forms.layout import layout
from pipelines.model import Issue, ReturnResult, Value
from pipelines.registry import load_registry
from pipelines.warehouse.archive import ReceivedFile


@cache
def own_cells(form_id: str, submitter_type: str) -> tuple[tuple[str, str, str], ...]:
    """(row_key, column_id, A1 cell) of every input cell a submitter of this type fills."""
    form, lay = get_form(form_id), layout(form_id)
    types = {r.key: r.submitter_type for r in form.rows} | {
        r.group: r.submitter_type for r in form.rows if r.group
    }
    return tuple(
        (row, col, lay.a1(row, col))
        for row, col, _, _ in lay.value_cells()
        if types[row] == submitter_type
    )


def make_return(
    form_id: str,
    submitter: str,
    quarter: str,
    values: Mapping[str | tuple[str, str], float | None] | None = None,
    *,
    default: float = 0.0,
    file: str | None = None,
    sheet: str | None = None,
    status: str = "accepted",
    issues: Iterable[Issue] = (),
    sha256: str | None = None,
) -> ReturnResult:
    """A return of `submitter` for `quarter`. `values` by (row_key, column_id), or by column_id
    for every own row that has the column; other cells get `default`."""
    sub = load_registry().by_name(submitter)
    given = dict(values or {})
    out = []
    for row, col, cell in own_cells(form_id, sub.type):
        v = given.get((row, col), given.get(col, default))
        out.append(Value(row, col, v, cell))
    name = file or f"{submitter}_{form_id}_{quarter}.xlsx"
    return ReturnResult(
        file=name,
        sheet=sheet or get_form(form_id).name,
        form=form_id,
        submitter=submitter,
        quarter=quarter,
        status=status,  # type: ignore[arg-type]
        issues=list(issues),
        values=out,
        sha256=sha256 or fake_sha(name),
        campaign=int(quarter[:4]),
        submitter_text=submitter,
        file_format="xlsx",
    )


def fake_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def received_for(
    result: ReturnResult, received_at: dt.datetime, source: str = "first_seen"
) -> ReceivedFile:
    """The ReceivedFile a result came from, without touching the disk."""
    sha = result.sha256 or fake_sha(result.file)
    return ReceivedFile(
        sha256=sha,
        path=Path("/drop") / result.file,
        original_name=Path(result.file).name,
        archive_path=Path("/archive") / f"{sha}.xlsx",
        received_at=received_at,
        received_at_source=source,
    )
