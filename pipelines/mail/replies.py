"""Answer each received message once: 已收到, then per return its verdict, the problems with
their cells and fixes, the deadline and the office's contact; the letter and, for rejected
returns, the annotated workbook attached; threaded to the message (In-Reply-To, References).

A message with workbooks is answered by the run that loaded them (its files are in the
published warehouse); a message with nothing to load (no workbook, too large, refused
attachments only) is answered at once. The letter is rendered from the letters package
(`mail_reply` templates), the copies by `outputs.annotate`, the e-mail assembled by
`outputs.delivery.build_email`: this module only decides what the reply says.

At most once: every reply goes through the outbox (pipelines/outbox.py, kind "reply", keyed by
the Message-ID it answers): the intent is recorded before the send and the outcome after; a send
interrupted between the two is repeated with the same Message-ID (SMTP receivers drop the
duplicate). Never to auto-replies, bounces or lists, never twice, and at most N new replies per
address per hour (counted in the outbox).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import duckdb

from pipelines import clock, config, periods
from pipelines.fsio import atomic_write_text
from pipelines.mail.intake import after_lock_label, mail_dir
from pipelines.mail.parts import megabytes
from pipelines.mail.settings import load_settings
from pipelines.mail.store import Handled, open_store
from pipelines.outbox import Intent, Outbox, Result
from pipelines.outputs import delivery
from pipelines.outputs.alerts import ANNOTATED_SUFFIX
from pipelines.outputs.annotate import CellNote, annotate
from pipelines.outputs.letters import render
from pipelines.paths import Paths
from pipelines.registry import Submitter, load_registry
from pipelines.sanitize import one_line, safe_filename

log = logging.getLogger(__name__)

LETTER_NAME = "季报表报送回执"
VERDICT = {"accepted": "通过", "rejected": "退回", "unreadable": "无法读取"}


@dataclass(frozen=True, slots=True)
class Problem:
    severity: str
    cell: str | None
    message: str
    sheet: str | None = None


@dataclass
class ReturnVerdict:
    """One return (or one file without a return) of the message, as the warehouse judged it."""

    file: str
    sheet: str | None
    form_name: str
    submitter: str | None
    quarter_label: str
    status: str  # accepted | rejected | unreadable | not_loaded
    verdict: str
    detail: str
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sha256: str = ""
    archive_path: str | None = None


@dataclass
class Reply:
    """Everything the mail_reply letter says."""

    kind: str  # returns | no_workbook | too_large | error
    subject: str
    salutation: str
    received_text: str
    files: int
    returns: list[ReturnVerdict]
    refused: list[dict[str, str]]
    others: list[str]
    notes: list[str]
    office: dict[str, Any]
    today: dt.date
    correct_by: dt.date
    due_words: str  # 「2025年10月1日前」: this quarter's deadline, as letters state it
    due_rule: str
    size_mb: str = ""
    limit_mb: str = ""
    error: str = ""
    annotated: list[Path] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(v.errors for v in self.returns)


@dataclass
class ReplyRun:
    """What one pass did, for the CLI, the asset's metadata and the tests."""

    sent: list[str] = field(default_factory=list)  # keys
    failed: list[tuple[str, str]] = field(default_factory=list)
    suppressed: list[tuple[str, str]] = field(default_factory=list)  # (key, why)
    unsent: list[str] = field(default_factory=list)  # no SMTP configured: letter written only
    waiting: list[str] = field(default_factory=list)  # returns not yet in the warehouse

    def line(self) -> str:
        out = f"回复 {len(self.sent)} 封"
        if self.failed:
            out += f"，发送失败 {len(self.failed)} 封（下次重试）"
        if self.suppressed:
            out += f"，按规则不回复 {len(self.suppressed)} 封"
        if self.unsent:
            out += f"，未配置发信服务器仅写入文件 {len(self.unsent)} 封"
        if self.waiting:
            out += f"，待入库后回复 {len(self.waiting)} 封"
        return out


# ---------------------------------------------------------------- what the reply says


def _known_addresses() -> dict[str, Submitter]:
    """Sender address → unit: the registry's emails, and the alert recipients in alerts.yaml."""
    settings = delivery.load_settings()
    out: dict[str, Submitter] = {}
    for sub in load_registry().submitters:
        own = settings.recipients.get(sub.name)
        for addr in (*sub.emails, sub.email, *(own.emails if own else ())):
            if addr:
                out.setdefault(addr.strip().lower(), sub)
    return out


def _form_name(form: str | None) -> str:
    from pipelines.forms import get_form

    return get_form(form).name if form else "报送文件"


def _quarter_label(quarter: str | None) -> str:
    try:
        return periods.Quarter.parse(quarter).label if quarter else ""
    except ValueError:
        return str(quarter)


def verdicts(
    con: duckdb.DuckDBPyConnection | None, handled: Handled, sender_unit: Submitter | None
) -> list[ReturnVerdict] | None:
    """The message's returns as the published warehouse holds them; None while a file it
    received for a configured quarter is not loaded yet."""
    files = handled.intake.get("files", [])
    loadable = [f for f in files if f.get("configured")]
    if loadable and con is None:
        return None
    rows: dict[str, list[tuple]] = defaultdict(list)
    if loadable:
        shas = sorted({f["sha256"] for f in loadable})
        loaded = con.execute(  # type: ignore[union-attr]
            """
            select sha256, submission_id, sheet, form, submitter, quarter, status, is_official,
                   superseded_by, on_time, archive_path, coalesce(received_after_lock, false)
            from submissions where sha256 in (select unnest($1::varchar[]))
            order by sha256, sheet nulls first, form nulls first
            """,
            [shas],
        ).fetchall()
        for row in loaded:
            rows[row[0]].append(row[1:])
        if any(f["sha256"] not in rows for f in loadable):
            return None
    issues = _issues(con, [r[0] for rs in rows.values() for r in rs]) if rows else {}
    out: list[ReturnVerdict] = []
    seen: set[str] = set()
    for f in files:
        if f["sha256"] in seen:  # the same file attached twice: one file, answered once
            continue
        seen.add(f["sha256"])
        if not f.get("configured"):
            out.append(
                ReturnVerdict(
                    f.get("shown", f["name"]), None, "报送文件", None,
                    _quarter_label(f["quarter"]), "not_loaded", "未入库",
                    f"报表所属季度 {f['quarter']} 不在本系统的报送季度内，文件已存档；"
                    "请核对表头的填报日期是否正确。", sha256=f["sha256"],
                )
            )  # fmt: skip
            continue
        for row in rows[f["sha256"]]:
            sid, sheet, form, submitter, quarter, status, official, superseded, on_time = row[:9]
            archive, after_lock = row[9], row[10]
            problems = issues.get(sid, [])
            v = ReturnVerdict(
                file=f.get("shown", f["name"]),
                sheet=sheet,
                form_name=_form_name(form),
                submitter=submitter,
                quarter_label=_quarter_label(quarter),
                status=status,
                verdict=VERDICT.get(status, status)
                if form or status == "unreadable"
                else "未识别到季报表",
                detail="",
                errors=[p for p in problems if p.severity == "error"],
                warnings=[p for p in problems if p.severity != "error"],
                sha256=f["sha256"],
                archive_path=archive,
            )
            v.detail = _detail(v, form, official, superseded, on_time, quarter, after_lock)
            if v.status in ("unreadable",) or not form:
                v.errors, v.warnings = [], []  # the detail already says why
            v.notes = _notes(f, v, submitter, sender_unit, quarter)
            out.append(v)
    return out


def _issues(con, ids: list[int]) -> dict[int, list[Problem]]:
    found = con.execute(
        """
        select i.submission_id, i.severity, i.cell, i.message, s.sheet
        from validation_issues i join submissions s using (submission_id)
        where i.submission_id in (select unnest($1::bigint[])) and i.status = 'open'
        order by i.submission_id, i.severity, i.seq
        """,
        [ids],
    ).fetchall()
    out: dict[int, list[Problem]] = defaultdict(list)
    for sid, severity, cell, message, sheet in found:
        out[sid].append(Problem(severity, cell, message, sheet))
    return out


def _detail(v: ReturnVerdict, form, official, superseded, on_time, quarter, after_lock) -> str:
    if v.status == "unreadable" or not form:
        return _first_message(v) or "未能从文件中识别出季报表，请使用办公室下发的模板填报。"
    if v.status == "rejected":
        return f"须更正的错误 {len(v.errors)} 处（见下）。"
    parts = []
    if after_lock:
        parts.append(
            f"{_quarter_label(quarter)}已审核锁定，本报表已存档并登记为「{after_lock_label()}」，"
            "办公室重新开放该季度前不采用，正式数据不变；如需更正，请联系办公室"
        )
    elif official:
        parts.append("已作为正式报表采用")
    elif superseded is not None:
        parts.append("本单位此后报送的新版本已替代此版本")
    else:
        parts.append("本单位该季度已有更新的正式版本")
    if quarter and on_time is not None:
        due = periods.due_date(periods.Quarter.parse(quarter))
        parts.append(
            "按时报送"
            if on_time
            else f"逾期报送（应于 {due.year}年{due.month}月{due.day}日前报送）"
        )
    text = "，".join(parts) + "。"
    if v.warnings:
        text += f"另有 {len(v.warnings)} 处数据请核实，如数据属实请回复说明情况。"
    return text


def _first_message(v: ReturnVerdict) -> str:
    for p in (*v.errors, *v.warnings):
        return p.message
    return ""


def _notes(
    f: dict, v: ReturnVerdict, submitter, sender_unit: Submitter | None, quarter
) -> list[str]:
    notes = [f["note"]] if f.get("note") else []
    if sender_unit and submitter and submitter != sender_unit.name:
        notes.append(
            f"发件邮箱登记为 {sender_unit.name} 的邮箱，但报表「填报单位」为 {submitter}；"
            "报表按所填单位登记。如填写有误，请更正后重新发送。"
        )
    elif sender_unit and not submitter and v.status != "unreadable":
        notes.append(
            f"未能识别报表的「填报单位」。发件邮箱登记为 {sender_unit.name} 的邮箱，"
            f"请在表头「填报单位」处填写「{sender_unit.name}」后重新发送。"
        )
    if f.get("quarter_from") == "window" and v.status != "unreadable":
        notes.append(f"表头未能识别填报日期，按收到时间计入{_quarter_label(quarter)}。")
    return notes


def _subject(original: str) -> str:
    if not original:
        return f"{LETTER_NAME}"
    if original.lower().startswith(("回复", "re:", "答复")):
        return one_line(original)
    return f"回复：{one_line(original)}"


def _salutation(handled: Handled, sender_unit: Submitter | None, found: list[ReturnVerdict]) -> str:
    if sender_unit:
        return f"{sender_unit.name}："
    units = {v.submitter for v in found if v.submitter}
    return f"{units.pop()}：" if len(units) == 1 else "您好："


def build_reply(
    handled: Handled, found: list[ReturnVerdict], *, today: dt.date, sender_unit: Submitter | None
) -> Reply:
    intake = handled.intake
    kind = "returns"
    if "too_large" in intake:
        kind = "too_large"
    elif "error" in intake:
        kind = "error"
    elif not found:
        kind = "no_workbook"
    quarters = [f["quarter"] for f in intake.get("files", []) if f.get("configured")]
    q = (
        periods.Quarter.parse(quarters[0])
        if quarters
        else periods.collecting_quarter(handled.received_at.date())
    )
    when = handled.received_at
    return Reply(
        kind=kind,
        subject=_subject(handled.subject),
        salutation=_salutation(handled, sender_unit, found),
        received_text=f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}",
        files=len(intake.get("files", [])),
        returns=found,
        refused=list(intake.get("refused", [])),
        others=list(intake.get("others", [])),
        notes=list(intake.get("notes", [])),
        office=dict(config.load("office.yaml")),
        today=today,
        correct_by=delivery.load_settings().correct_by(today),
        due_words=periods.due_words(q) if q in periods.quarters() else "",
        due_rule=periods.due_rule(q) if q in periods.quarters() else periods.due_rule(),
        size_mb=megabytes(int(intake.get("too_large", 0))),
        limit_mb=megabytes(int(intake.get("limit", 0))),
        error=str(intake.get("error", "")),
    )


# ---------------------------------------------------------------- files and the e-mail


def reply_dir(paths: Paths, handled: Handled) -> Path:
    digest = hashlib.sha256(handled.key.encode()).hexdigest()[:10]
    return mail_dir(paths) / "replies" / f"{handled.received_at:%Y%m%d-%H%M%S}_{digest}"


def _archive_file(paths: Paths, archive_path: str | None, sha256: str) -> Path | None:
    if archive_path and Path(archive_path).exists():
        return Path(archive_path)
    found = sorted(paths.archive.glob(f"{sha256}*"))
    return found[0] if found else None


def write_reply(paths: Paths, handled: Handled, reply: Reply) -> tuple[str, str, list[Path]]:
    """The letter (.md, .html) and, for rejected returns, annotated copies, in the reply's
    folder under data/mail/replies/; returns (text, html, attachments)."""
    out = reply_dir(paths, handled)
    by_file: dict[str, list[ReturnVerdict]] = defaultdict(list)
    for v in reply.returns:
        if v.errors:
            by_file[v.sha256].append(v)
    used: set[str] = set()
    for sha, items in by_file.items():
        source = _archive_file(paths, items[0].archive_path, sha)
        if source is None:
            continue
        stem = safe_filename(Path(items[0].file).stem, default="报表")
        name, n = f"{stem}{ANNOTATED_SUFFIX}", 2
        while name in used:
            name, n = f"{stem}{ANNOTATED_SUFFIX}{n}", n + 1
        used.add(name)
        notes = [
            CellNote(p.severity, p.message, v.sheet, p.cell, v.form_name)  # type: ignore[arg-type]
            for v in items
            for p in (*v.errors, *v.warnings)
        ]
        copy = annotate(source, notes, out / f"{name}.xlsx")
        if copy is not None:
            reply.annotated.append(copy.path)
    md, html = render("mail_reply", r=reply)
    atomic_write_text(out / f"{LETTER_NAME}.md", md)
    letter = atomic_write_text(out / f"{LETTER_NAME}.html", html)
    return md, html, [letter, *reply.annotated]


def reply_intent(handled: Handled, reply: Reply, unit: Submitter | None) -> Intent:
    """The reply as the outbox knows it: one per answered Message-ID, ever."""
    quarters = [f["quarter"] for f in handled.intake.get("files", [])]
    return Intent(
        kind="reply",
        channel="email",
        fingerprint=handled.message_id,
        recipient=handled.reply_to or "",
        quarter=quarters[0] if quarters else None,
        submitter=unit.name if unit else None,
        subject=reply.subject,
    )


def build_message(
    smtp: delivery.SmtpSettings, handled: Handled, reply: Reply, md: str, html: str,
    attachments: list[Path],
) -> EmailMessage:  # fmt: skip
    """The reply, threaded under the message when it has a real Message-ID. The outbox sets
    the reply's own (stable) Message-ID."""
    threaded = not handled.message_id.endswith("@jibao.invalid>")
    refs = [*handled.intake.get("references", []), handled.message_id] if threaded else []
    msg = delivery.compose_email(
        smtp, [handled.reply_to or ""], reply.subject, md, html, attachments,
        in_reply_to=handled.message_id if threaded else None, references=list(dict.fromkeys(refs)),
    )  # fmt: skip
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer it
    msg["X-Auto-Response-Suppress"] = "All"
    return msg


def _send(
    ob: Outbox, smtp: delivery.SmtpSettings, intent: Intent, build: Callable[[], EmailMessage]
) -> Result:
    """The one place a reply leaves: through the outbox (intent, send, outcome)."""
    return delivery.deliver_email(ob, intent, smtp, build)


# ---------------------------------------------------------------- the pass


def answer(
    paths: Paths,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ReplyRun:
    """Answer every recorded message that awaits its reply and is ready: with `con` (the
    published warehouse), those whose returns are loaded; without, those with nothing to load."""
    run = ReplyRun()
    if not (mail_dir(paths) / "mail.sqlite").exists():
        return run
    today = today or periods.today()
    now = now.astimezone(clock.zone()) if now else clock.aware_now()
    smtp = delivery.load_settings().smtp
    try:
        settings = load_settings()
    except Exception:  # noqa: BLE001 - a broken mailbox configuration must not stop replies
        settings = None
    per_hour = settings.replies_per_sender_per_hour if settings else 10
    known = _known_addresses()
    ob = Outbox.open(paths)
    with open_store(paths) as store:
        for handled in store.awaiting_reply():
            unit = known.get((handled.sender or "").lower())
            found = verdicts(con, handled, unit)
            if found is None:
                run.waiting.append(handled.key)
                continue
            reply = build_reply(handled, found, today=today, sender_unit=unit)
            md, html, attachments = write_reply(paths, handled, reply)
            if smtp is None:
                where = reply_dir(paths, handled)
                store.finish_reply(handled.key, "unsent", f"未配置发信服务器，回执已写入 {where}")
                run.unsent.append(handled.key)
                continue
            intent = reply_intent(handled, reply, unit)
            if ob.get(intent.key) is None:  # a new reply (not a retry): within the hourly cap?
                sent = ob.sent_count("email", intent.recipient, now - dt.timedelta(hours=1))
                if sent >= per_hour:
                    why = f"一小时内已向 {intent.recipient} 自动回复 {sent} 封，达到上限，本封不再回复"
                    store.finish_reply(handled.key, "suppressed", why)
                    run.suppressed.append((handled.key, why))
                    log.warning(why)
                    continue
            result = _send(
                ob, smtp, intent,
                lambda h=handled, r=reply, m=md, x=html, a=attachments: build_message(smtp, h, r, m, x, a),
            )  # fmt: skip
            status = "sent" if result.status in ("sent", "skipped") else "failed"
            store.finish_reply(handled.key, status, result.detail, result.message_id)
            if status == "sent":
                run.sent.append(handled.key)
            else:
                run.failed.append((handled.key, result.detail))
                log.warning("回复 %s 失败：%s", handled.reply_to, result.detail)
    return run
