"""Files of a quarter that no registered submitter could be recognised in: nothing disappears.

A file whose 填报单位 is blank or unknown (or that could not be read at all) has no submitter to
write to, so it would otherwise only be a count. It is listed by name in the run summary, in the
report's appendix (every one, never cut off) and in a letter to the office itself
(data/outbox/<quarter>/<office>/未识别单位文件_<quarter>.md/.html), each with what was written
as 填报单位 and the front door's message (which carries the nearest registered names).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines import clock, config, periods
from pipelines.forms import get_form
from pipelines.fsio import atomic_write_text
from pipelines.outputs.letters import render
from pipelines.paths import Paths
from pipelines.sanitize import one_line, safe_filename

# The rules whose message says why no submitter was recognised (and suggests one).
SUBMITTER_RULES = ("submitter_unknown", "submitter_missing")
STATUS_LABEL = {"accepted": "已通过校验", "rejected": "未通过校验", "unreadable": "无法读取"}
LETTER_STEM = "未识别单位文件"


@dataclass(frozen=True, slots=True)
class UnassignedFile:
    """One received file (one content) with no recognised submitter."""

    name: str  # as received
    received_at: dt.datetime | None
    channel: str | None
    forms: tuple[str, ...]  # 表一 … found in it (empty: none)
    written_as: tuple[str, ...]  # 填报单位 as written, when any
    status: str  # 未通过校验 / 无法读取 …
    reasons: tuple[str, ...]  # the front door's messages: unknown unit (with suggestions) …

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


def unassigned_files(con: duckdb.DuckDBPyConnection, quarter: str) -> list[UnassignedFile]:
    """Every file of `quarter` whose returns have no recognised submitter, in order received."""
    rows = con.execute(
        """
        select s.sha256, any_value(s.original_name), min(s.received_at), any_value(s.channel),
               list(distinct s.form) filter (where s.form is not null),
               list(distinct s.submitter_text) filter (where s.submitter_text is not null
                                                        and trim(s.submitter_text) <> ''),
               list(distinct s.status),
               list(distinct i.message) filter (where i.rule in ?),
               list(distinct s.reason) filter (where s.status = 'unreadable')
        from submissions s
        left join validation_issues i on i.submission_id = s.submission_id
        where s.quarter = ? and s.submitter is null
        group by s.sha256
        order by min(s.received_at), any_value(s.original_name)
        """,
        [list(SUBMITTER_RULES), quarter],
    ).fetchall()
    out = []
    for _, name, received, channel, forms, written, statuses, messages, unreadable in rows:
        worst = next(
            (s for s in ("unreadable", "rejected", "accepted") if s in (statuses or [])), ""
        )
        out.append(
            UnassignedFile(
                name=name or "",
                received_at=received,
                channel=channel,
                forms=tuple(get_form(f).name for f in sorted(forms or [])),
                written_as=tuple(sorted(written or [])),
                status=STATUS_LABEL.get(worst, worst),
                reasons=tuple(sorted(messages or [])) or tuple(unreadable or []),
            )
        )
    return out


def summary_lines(files: list[UnassignedFile], quarter: str) -> list[str]:
    """Lines for the run summary (a terminal and the Dagster log): one per file, made safe."""
    if not files:
        return []
    lines = [f"{quarter} 未识别报送单位的文件 {len(files)} 个（详见报告附录和给办公室的清单）："]
    for f in files:
        unit = f"，填报单位「{'、'.join(f.written_as)}」" if f.written_as else ""
        lines.append("  " + one_line(f"「{f.name}」{unit}：{f.reason or f.status}"))
    return lines


def office_letter_dir(paths: Paths, quarter: str) -> Path:
    """data/outbox/<quarter>/<the office's short name>/"""
    office = config.load("office.yaml")
    return paths.outbox_dir(quarter, safe_filename(office["short_name"]))


def write_office_letter(
    con: duckdb.DuckDBPyConnection, paths: Paths, quarter: str, *, today: dt.date | None = None
) -> Path | None:
    """Write (or, when there is nothing to list, remove) the office's list of unrecognised
    files for `quarter`. Returns the Markdown letter's path, or None."""
    files = unassigned_files(con, quarter)
    folder = office_letter_dir(paths, quarter)
    md_path = folder / f"{LETTER_STEM}_{quarter}.md"
    if not files:
        for stale in (md_path, md_path.with_suffix(".html")):
            stale.unlink(missing_ok=True)
        return None
    q = periods.Quarter.parse(quarter)
    md, html = render(
        "office",
        office=config.load("office.yaml"),
        quarter=str(q),
        quarter_label=q.label,
        files=files,
        today=today or clock.today(),
    )
    atomic_write_text(md_path, md)
    atomic_write_text(md_path.with_suffix(".html"), html)
    return md_path
