"""Explanations the office accepts (强制上报 with a 上报说明).

Like 强制上报 in national reporting systems: a submitter confirms that a flagged value is right and
says why; the office records it, and the matching issues become `explained`. An explained error
no longer rejects its return. Only issues of rules config/rules.yaml marks explainable are ever
explained (pipelines/office/policy.py): an explanation naming a blank cell changes nothing.

The office's decisions live in its journal (pipelines/office/): `jibao accept`, the console, and
data/raw/<quarter>/explanations.csv (imported into the journal by pipelines/office/store.py). The
`explanations` table holds those in force, rebuilt from the journal at every load; `read` and
`store` below remain for loads that pass explanations directly (no journal).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb

from pipelines.forms import FORM_IDS, get_form
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.registry import load_registry
from pipelines.text import norm
from pipelines.warehouse.archive import EXPLANATIONS_CSV, read_sidecar_csv


@dataclass(frozen=True, slots=True)
class Explanation:
    submitter: str
    form: str  # form1 … form4
    cell_or_rule: (
        str  # "K7", a rule id ("cumulative_decrease", "form1.fixed_le_found") or a column id
    )
    text: str
    position: int = 0  # line in the CSV


def form_id(text: str) -> str:
    """「表一」「一」「1」「附件4」「form1」 → form1; anything else is returned unchanged."""
    key = norm(text).lower()
    for fid in FORM_IDS:
        f = get_form(fid)
        if key in {fid, f.name, f.number, f.attachment, fid.removeprefix("form")}:
            return fid
    return text.strip()


def read_explanations(paths: Paths, quarter: str | Quarter) -> list[Explanation]:
    """The quarter's explanations.csv (columns submitter, form, cell_or_rule, text), if any."""
    path = paths.raw_quarter(quarter) / EXPLANATIONS_CSV
    if not path.exists():
        return []
    registry = load_registry()
    out = []
    for line, row in read_sidecar_csv(path, ("submitter", "form", "cell_or_rule", "text")):
        who, what = row["submitter"], row["cell_or_rule"]
        if not who or not what:
            continue
        resolved = registry.resolve(who)
        out.append(
            Explanation(
                submitter=resolved.name if resolved else who,
                form=form_id(row["form"]),
                cell_or_rule=what,
                text=row["text"],
                position=line,
            )
        )
    return out


def store(con: duckdb.DuckDBPyConnection, quarter: str, rows: Sequence[Explanation]) -> None:
    """Replace the stored explanations of `quarter` with `rows`."""
    con.execute("delete from explanations where quarter = ?", [quarter])
    if rows:
        con.executemany(
            "insert into explanations values (?, ?, ?, ?, ?, ?)",
            [[quarter, e.submitter, e.form, e.cell_or_rule, e.text, e.position] for e in rows],
        )


def apply(con: duckdb.DuckDBPyConnection, quarters: Iterable[str]) -> None:
    """Mark the issues of `quarters` that an explanation covers as explained (matching submitter,
    form and quarter, and the issue's cell, rule or column), for explainable rules only.
    Expects statuses already reset."""
    from pipelines.office.policy import explainable_rules

    qs = sorted(set(quarters))
    if not qs:
        return
    allowed = sorted(explainable_rules())
    con.execute(
        """
        update validation_issues
        set status = 'explained', explanation = matched.text
        from (
            select issues.issue_id, string_agg(explanations.text, '；' order by explanations.position) as text
            from validation_issues as issues
            join submissions on submissions.submission_id = issues.submission_id
            join explanations
                on explanations.quarter = submissions.quarter
                and explanations.submitter = submissions.submitter
                and explanations.form = submissions.form
                and lower(explanations.cell_or_rule) in (
                    lower(issues.cell), lower(issues.rule), lower(issues.column_id)
                )
            where submissions.quarter in (select unnest(?::varchar[]))
                and issues.rule in (select unnest(?::varchar[]))
            group by issues.issue_id
        ) as matched
        where validation_issues.issue_id = matched.issue_id
        """,
        [qs, allowed],
    )
