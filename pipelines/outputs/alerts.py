"""Data-quality alerts and reminders to submitters: who gets which letter, and what it says.

A letter goes to a submitter with open errors or warnings, or a late or missing return. Each run
is idempotent per quarter: an alert's fingerprint hashes exactly what it reports, and a channel
that already delivered that fingerprint (the outbox, pipelines.outbox) is skipped; a changed
set of problems is a new fingerprint and goes out again; a failed send is retried next run.
Writing and delivering the letters is pipelines.outputs.sending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb

from pipelines import config, periods
from pipelines.forms import get_form
from pipelines.outputs import delivery
from pipelines.outputs.letters import render
from pipelines.paths import Paths
from pipelines.registry import Submitter, load_registry

Kind = Literal["alert", "reminder"]
Channel = Literal["file", "email", "webhook"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One open validation issue, with where it was found."""

    submission_id: str
    form: str | None
    form_name: str
    severity: str
    rule: str
    cell: str | None
    value: str | None
    message: str
    file: str | None  # the file name as received
    sheet: str | None
    archive_path: str | None
    file_status: str | None  # the submission's status: accepted / rejected / unreadable


@dataclass(frozen=True, slots=True)
class ReturnStatus:
    """A form owed this quarter that is late, (still) missing, or sent back by the office."""

    form: str
    form_name: str
    status: Literal["late", "missing", "sent_back"]
    due: dt.date
    received: dt.date | None = None
    rejected_only: bool = False  # something arrived, but no version passed validation
    reason: str | None = None  # sent_back: the office's reason
    sent_back_at: dt.datetime | None = None  # sent_back: when the office decided
    file: str | None = None  # sent_back: the file name of the version sent back


@dataclass(frozen=True, slots=True)
class Attachment:
    path: Path
    source_name: str
    values_only: bool


@dataclass
class Alert:
    kind: Kind
    quarter: str
    quarter_label: str
    submitter: str
    submitter_type: str
    subject: str
    salutation: str
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    returns: tuple[ReturnStatus, ...]  # late and missing
    due: dt.date
    correct_by: dt.date
    today: dt.date
    office: dict
    fingerprint: str
    attachments: list[Attachment] = field(default_factory=list)
    sent_back: tuple[ReturnStatus, ...] = ()  # returns the office sent back, with its reason

    @property
    def due_rule(self) -> str:
        return periods.due_rule(periods.Quarter.parse(self.quarter))

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.errors + self.warnings

    @property
    def missing(self) -> tuple[ReturnStatus, ...]:
        return tuple(r for r in self.returns if r.status == "missing")

    @property
    def late_only(self) -> bool:
        """Nothing to correct or send: the letter only records lateness."""
        return not self.problems and not self.missing and not self.sent_back


@dataclass(frozen=True, slots=True)
class Delivery:
    submitter: str
    channel: Channel
    recipient: str
    status: str  # sent / failed
    detail: str


@dataclass
class AlertRun:
    kind: Kind
    quarter: str
    alerts: list[Alert] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # submitters whose letter went out before
    no_recipient: list[str] = field(default_factory=list)  # send=True but no address configured
    unassigned: list[str] = field(default_factory=list)  # files with issues but no known submitter
    recovered: list = field(default_factory=list)  # outbox.Result: interrupted by a crash, settled
    unresolved: list = field(default_factory=list)  # outbox.Record: outcome unknown, to check

    @property
    def sent(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status == "sent"]

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status == "failed"]


# ---------------------------------------------------------------- building


def _form_name(form_id: str | None) -> str:
    return get_form(form_id).name if form_id else "报送文件"


def _office() -> dict:
    return dict(config.load("office.yaml"))


_A1 = re.compile(r"([A-Za-z]+)(\d+)")


def _cell_order(cell: str | None) -> tuple[int, int]:
    m = _A1.match(cell or "")
    if not m:
        return (0, 0)
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return (int(m.group(2)), col)


def _problems(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str | None, list[Problem]]:
    """Open issues of the current (not superseded) submissions, by submitter (None: unknown).
    Versions received after the quarter was closed are left out: they change nothing until the
    office reopens the quarter."""
    rows = con.execute(
        """
        select s.submission_id, s.submitter, s.form, s.sheet, s.original_name, s.archive_path,
               s.status, i.severity, i.rule, i.cell, i.value, i.message
        from validation_issues i join submissions s on s.submission_id = i.submission_id
        where s.quarter = ? and i.status = 'open' and s.superseded_by is null
            and not coalesce(s.received_after_lock, false)
        """,
        [quarter],
    ).fetchall()
    out: dict[str | None, list[Problem]] = defaultdict(list)
    for sid, sub, form, sheet, name, archive, fstatus, sev, rule, cell, value, msg in rows:
        out[sub].append(
            Problem(
                str(sid), form, _form_name(form), sev, rule, cell, value, msg, name, sheet,
                archive, fstatus,
            )
        )  # fmt: skip
    for items in out.values():
        items.sort(
            key=lambda p: (p.form or "~", p.file or "", p.sheet or "", _cell_order(p.cell), p.rule)
        )
    return out


@dataclass(frozen=True, slots=True)
class _Status:
    """One row of the warehouse view reporting_status (the one definition of the states)."""

    state: str = "missing"  # not_due | on_time | late | sent_back | missing
    due: bool = True
    received: bool = False
    accepted: bool = False
    late: bool = False
    missing: bool = True
    first_accepted_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class _SentBack:
    reason: str
    at: dt.datetime
    file: str | None


def _statuses(
    con: duckdb.DuckDBPyConnection, quarter: str, today: dt.date
) -> dict[tuple[str, str], _Status]:
    """(submitter, form) → its state this quarter as of `today`, for the forms it owes."""
    from pipelines.office.read import set_as_of

    set_as_of(con, today)  # the view counts deadlines from the letter's date, not the clock's
    rows = con.execute(
        """
        select submitter, form, state, due, received, accepted, late, missing, first_accepted_at
        from reporting_status
        where quarter = ? and expected
        """,
        [quarter],
    ).fetchall()
    return {(s, f): _Status(*rest) for s, f, *rest in rows}


def _sent_back(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[tuple[str, str], _SentBack]:
    """(submitter, form) → the office's send-back, where the latest version (not held by a
    lock) is one the office sent back and nothing newer was accepted."""
    rows = con.execute(
        """
        with latest as (
            select submitter, form,
                arg_max(submission_id, (received_at, submission_id)) as submission_id
            from submissions
            where quarter = ? and submitter is not null and form is not null
                and not coalesce(received_after_lock, false)
            group by submitter, form
        )
        select s.submitter, s.form, arg_max(a.reason, a.seq), arg_max(a.acted_at, a.seq),
            any_value(s.original_name)
        from latest
        join submissions as s on s.submission_id = latest.submission_id
        join office_actions as a
            on a.action = 'send_back' and try_cast(a.target as bigint) = s.submission_id
        where coalesce(s.sent_back, false)
        group by s.submitter, s.form
        """,
        [quarter],
    ).fetchall()
    return {(s, f): _SentBack(r, at, name) for s, f, r, at, name in rows}


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _return_statuses(
    sub: Submitter,
    statuses: dict[tuple[str, str], _Status],
    q: periods.Quarter,
    today: dt.date,
    *,
    reminder: bool,
    sent_back: dict[tuple[str, str], _SentBack] | None = None,
) -> list[ReturnStatus]:
    """The returns a letter reports for one submitter, from the collection-window states.

    Alerts: a return the office sent back (due or not, with its reason); a missing one only once
    it is due (未报送, or 退回待重报 by validation after the due date: its errors are listed
    with the problems before); a late one. A return not yet due is never called missing.
    Reminders (before the due date): every owed form without an accepted version."""
    due = periods.due_date(q)
    back = sent_back or {}
    out = []
    for form_id in sub.forms:
        st = statuses.get((sub.name, form_id), _Status(due=periods.is_due(q, today)))
        name = _form_name(form_id)
        office = back.get((sub.name, form_id))
        if reminder:
            if not st.accepted and not st.due:
                out.append(ReturnStatus(form_id, name, "missing", due, rejected_only=st.received))
        elif office is not None and not st.accepted:
            out.append(
                ReturnStatus(
                    form_id, name, "sent_back", due, reason=office.reason,
                    sent_back_at=office.at, file=office.file,
                )
            )  # fmt: skip
        elif st.missing and st.due:
            out.append(ReturnStatus(form_id, name, "missing", due, rejected_only=st.received))
        elif st.late:
            out.append(ReturnStatus(form_id, name, "late", due, _as_date(st.first_accepted_at)))
    return out


def fingerprint(kind: Kind, quarter: str, submitter: str, items: Iterable[tuple]) -> str:
    """sha256 of what a letter reports, independent of order and of the run's date."""
    canon = sorted({tuple("" if x is None else str(x) for x in item) for item in items})
    payload = json.dumps([kind, quarter, submitter, canon], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _items(
    submitter: str, problems: Iterable[Problem], returns: Iterable[ReturnStatus]
) -> list[tuple]:
    out: list[tuple] = [(submitter, p.form, p.rule, p.cell, p.message, "") for p in problems]
    out += [
        (submitter, r.form, r.status, "", r.reason or "", f"{r.status}:{r.rejected_only}")
        for r in returns
    ]
    return out


def _subject(kind: Kind, submitter: str, q: periods.Quarter) -> str:
    if kind == "reminder":
        return f"【季报表报送提醒】{submitter} {q.label} 季报表报送提醒"
    return f"【季报表数据核查】{submitter} {q.label} 报表问题通知"


def _alert(
    kind: Kind,
    sub: Submitter,
    q: periods.Quarter,
    today: dt.date,
    problems: list[Problem],
    returns: list[ReturnStatus],
    settings: delivery.AlertSettings,
) -> Alert:
    back = tuple(r for r in returns if r.status == "sent_back")
    return Alert(
        kind=kind,
        quarter=str(q),
        quarter_label=q.label,
        submitter=sub.name,
        submitter_type=sub.type,
        subject=_subject(kind, sub.name, q),
        salutation=f"{sub.name}：",
        errors=tuple(p for p in problems if p.severity == "error"),
        warnings=tuple(p for p in problems if p.severity != "error"),
        returns=tuple(r for r in returns if r.status != "sent_back"),
        sent_back=back,
        due=periods.due_date(q),
        correct_by=settings.correct_by(today),
        today=today,
        office=_office(),
        fingerprint=fingerprint(kind, str(q), sub.name, _items(sub.name, problems, returns)),
    )


def build_alerts(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    *,
    today: dt.date,
    settings: delivery.AlertSettings | None = None,
) -> list[Alert]:
    """One letter per registered submitter that has open errors or warnings, a return the office
    sent back, or a late or missing (due) return, this quarter (registry order)."""
    q = periods.Quarter.parse(quarter)
    settings = settings or delivery.load_settings()
    problems = _problems(con, str(q))
    statuses = _statuses(con, str(q), today)
    back = _sent_back(con, str(q))
    alerts = []
    for sub in load_registry().submitters:
        if not sub.forms:
            continue  # the office itself
        found = problems.get(sub.name, [])
        returns = _return_statuses(sub, statuses, q, today, reminder=False, sent_back=back)
        if found or returns:
            alerts.append(_alert("alert", sub, q, today, found, returns, settings))
    return alerts


def build_reminders(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    *,
    today: dt.date,
    settings: delivery.AlertSettings | None = None,
) -> list[Alert]:
    """One reminder per submitter that owes a form with no accepted version yet. Empty once the
    due date has passed: from then on the alert letter reports missing returns."""
    q = periods.Quarter.parse(quarter)
    if periods.is_due(q, today):
        return []
    settings = settings or delivery.load_settings()
    statuses = _statuses(con, str(q), today)
    out = []
    for sub in load_registry().submitters:
        returns = _return_statuses(sub, statuses, q, today, reminder=True)
        if returns:
            out.append(_alert("reminder", sub, q, today, [], returns, settings))
    return out


# ---------------------------------------------------------------- writing and sending


def render_letter(alert: Alert) -> tuple[str, str]:
    """(Markdown, HTML) of the letter."""
    return render(alert.kind, a=alert)


def _letter_stem(alert: Alert) -> str:
    return f"{'通知' if alert.kind == 'alert' else '报送提醒'}_{alert.quarter}"


ANNOTATED_SUFFIX = "_问题标注"


def write_alerts(
    con: duckdb.DuckDBPyConnection,
    paths: Paths,
    quarter: str,
    *,
    today: dt.date,
    send: bool,
    by: str = "jibao",
) -> AlertRun:
    """Write data/outbox/<quarter>/<submitter>/通知_<quarter>.md/.html and annotated copies; with
    `send`, also e-mail and post them on the configured channels, through the outbox (every
    delivery recorded before and after it is sent). `con` is only read."""
    from pipelines.outputs import sending

    settings = delivery.load_settings()
    run = AlertRun("alert", str(periods.Quarter.parse(quarter)))
    run.alerts = build_alerts(con, quarter, today=today, settings=settings)
    run.unassigned = sorted(
        {p.file or p.submission_id for p in _problems(con, run.quarter).get(None, [])}
    )
    return sending.deliver_letters(paths, run, send=send, settings=settings, by=by)


def write_reminders(
    con: duckdb.DuckDBPyConnection,
    paths: Paths,
    quarter: str,
    *,
    today: dt.date,
    send: bool,
    by: str = "jibao",
) -> AlertRun:
    """Before the due date: remind submitters of the forms they owe and have not yet submitted
    (报送提醒_<quarter>.md/.html), on the same channels, with their own fingerprints."""
    from pipelines.outputs import sending

    settings = delivery.load_settings()
    run = AlertRun("reminder", str(periods.Quarter.parse(quarter)))
    run.alerts = build_reminders(con, quarter, today=today, settings=settings)
    return sending.deliver_letters(paths, run, send=send, settings=settings, by=by)
