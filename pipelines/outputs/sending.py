"""Letters to submitters, written and delivered: files in the outbox folder, e-mail, group robot.

`pipelines.outputs.alerts` decides who gets which letter (building); this module writes each
letter (Markdown, HTML and annotated copies of the returns, all atomically through
pipelines.fsio) and delivers it on every configured channel through the durable outbox
(pipelines.outbox), so that a letter is delivered at most once and never lost, whatever happens
to the run. Nothing here writes the warehouse: it only reads it.

Entry points:

- `deliver_letters(paths, run, *, send, settings, by)`: what `alerts.write_alerts` /
  `write_reminders` (the Dagster assets) call;
- `send_quarter_letters(paths, quarter, *, by, today=None, send=True) -> SendSummary`: what the
  console's 「发送通知」 calls: builds the quarter's letters from the published warehouse (read
  only) and delivers them, recording `by` as who asked;
- `report_lines(run)`: the Chinese lines a run prints about interrupted and unknown deliveries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import clock, periods
from pipelines.fsio import atomic_write_text
from pipelines.outbox import UNKNOWN_NOTE, Intent, Outbox, Record, Result
from pipelines.outputs import delivery
from pipelines.outputs.alerts import (
    ANNOTATED_SUFFIX,
    Alert,
    AlertRun,
    Attachment,
    Channel,
    Delivery,
    Problem,
    _letter_stem,
    render_letter,
)
from pipelines.outputs.annotate import CellNote, annotate
from pipelines.paths import Paths
from pipelines.registry import load_registry
from pipelines.sanitize import one_line, safe_filename

CHANNEL_ZH = {"file": "文件", "email": "邮件", "webhook": "群机器人"}
KIND_ZH = {"alert": "问题通知", "reminder": "催报提醒", "reply": "邮件回复"}


# ---------------------------------------------------------------- files


def _archive_file(paths: Paths, archive_path: str) -> Path:
    p = Path(archive_path)
    if p.is_absolute():
        return p
    for base in (paths.root, paths.archive):
        if (base / p).exists():
            return base / p
    return paths.root / p


def _annotate_all(alert: Alert, paths: Paths, out_dir: Path) -> list[Attachment]:
    """One annotated copy per archived file that has problems (unreadable files excepted);
    copies left from an earlier, different set of problems are removed only after the new ones
    are in place."""
    by_file: dict[str, list[Problem]] = defaultdict(list)
    for p in alert.problems:
        if p.archive_path and p.file_status != "unreadable":
            by_file[p.archive_path].append(p)
    out: list[Attachment] = []
    used: set[str] = set()
    first_form = {a: min(p.form or "~" for p in items) for a, items in by_file.items()}
    for archive_path, items in sorted(by_file.items(), key=lambda kv: first_form[kv[0]]):
        source_name = items[0].file or Path(archive_path).name
        stem = safe_filename(Path(source_name).stem, default="报表")
        name, n = f"{stem}{ANNOTATED_SUFFIX}", 2
        while name in used:
            name, n = f"{stem}{ANNOTATED_SUFFIX}{n}", n + 1
        used.add(name)
        notes = [CellNote(p.severity, p.message, p.sheet, p.cell, p.form_name) for p in items]  # type: ignore[arg-type]
        copy = annotate(_archive_file(paths, archive_path), notes, out_dir / f"{name}.xlsx")
        if copy is not None:  # written atomically by annotate
            out.append(Attachment(copy.path, source_name, copy.values_only))
    keep = {a.path.name for a in out}
    for old in out_dir.glob(f"*{ANNOTATED_SUFFIX}*.xlsx"):
        if old.name not in keep:
            old.unlink(missing_ok=True)
    return out


def _write_letter(alert: Alert, paths: Paths, out_dir: Path) -> tuple[Path, str, str]:
    """The letter's .md and .html (and, for an alert, its annotated copies), atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if alert.kind == "alert":
        alert.attachments = _annotate_all(alert, paths, out_dir)
    md, html = render_letter(alert)
    md_path = out_dir / f"{_letter_stem(alert)}.md"
    atomic_write_text(md_path, md)
    atomic_write_text(md_path.with_suffix(".html"), html)
    return md_path, md, html


# ---------------------------------------------------------------- delivering


def _due(ob: Outbox, intent: Intent, md_path: Path) -> bool:
    """Should this channel be delivered now? Not when sent (a file: unless it is gone), nor when
    its outcome is unknown (the office checks it first)."""
    rec = ob.get(intent.key)
    if rec is None or rec.status in ("failed", "pending"):
        return True
    return rec.status == "sent" and intent.channel == "file" and not md_path.exists()


def _note(run: AlertRun, alert: Alert, intent: Intent, result: Result) -> None:
    if result.status == "skipped" or (result.status == "unknown" and result.previous == "unknown"):
        return  # nothing was attempted this time
    run.deliveries.append(
        Delivery(alert.submitter, intent.channel, intent.recipient, result.status, result.detail)  # type: ignore[arg-type]
    )


def _intent(alert: Alert, channel: Channel, to: str, by: str) -> Intent:
    return Intent(
        kind=alert.kind, channel=channel, fingerprint=alert.fingerprint, recipient=to,
        quarter=alert.quarter, submitter=alert.submitter, subject=one_line(alert.subject), by=by,
    )  # fmt: skip


def _send_one(
    ob: Outbox,
    intent: Intent,
    alert: Alert,
    letter: tuple[Path, str, str],
    recipient: delivery.Recipient,
    settings: delivery.AlertSettings,
) -> Result:
    """Deliver one written letter on one channel, through the outbox."""
    md_path, md, html = letter
    if intent.channel == "file":
        files = [md_path.name, md_path.with_suffix(".html").name]
        files += [a.path.name for a in alert.attachments]
        return delivery.deliver_file(ob, intent, lambda: "、".join(files), rewrite=True)
    if intent.channel == "email":
        smtp = settings.smtp
        assert smtp is not None
        attachments = [a.path for a in alert.attachments]
        return delivery.deliver_email(
            ob,
            intent,
            smtp,
            lambda: delivery.compose_email(
                smtp, recipient.emails, alert.subject, md, html, attachments
            ),
        )
    assert recipient.webhook
    note = (
        f"\n\n（内容较长已截断，完整通知及标注附件见邮件或{alert.office['short_name']}下发的文件）"
    )
    content = delivery.truncate_utf8(md, settings.webhook.max_bytes, note)
    return delivery.deliver_webhook(
        ob, intent, recipient.webhook, content, timeout=settings.webhook.timeout
    )


def deliver_letters(
    paths: Paths,
    run: AlertRun,
    *,
    send: bool,
    settings: delivery.AlertSettings,
    by: str = "jibao",
    outbox: Outbox | None = None,
) -> AlertRun:
    """Write and deliver `run.alerts`. First settles deliveries a crashed run left pending
    (`run.recovered`); after, lists those whose outcome is unknown (`run.unresolved`)."""
    ob = outbox or Outbox.open(paths)
    run.recovered = ob.recover(kinds=[run.kind], quarters=[run.quarter])
    registry = load_registry()
    for alert in run.alerts:
        recipient = settings.recipient(registry.by_name(alert.submitter))
        if not settings.smtp:
            recipient = delivery.Recipient((), recipient.webhook)
        out_dir = paths.outbox_dir(alert.quarter, safe_filename(alert.submitter))
        md_path = out_dir / f"{_letter_stem(alert)}.md"
        wanted = [_intent(alert, "file", str(out_dir), by)]
        if send and recipient.emails:
            wanted.append(_intent(alert, "email", ", ".join(recipient.emails), by))
        if send and recipient.webhook:
            wanted.append(_intent(alert, "webhook", delivery.redact_url(recipient.webhook), by))
        if send and not recipient.emails and not recipient.webhook:
            run.no_recipient.append(alert.submitter)
        due = [i for i in wanted if _due(ob, i, md_path)]
        if not due:
            run.unchanged.append(alert.submitter)
            continue
        letter = _write_letter(alert, paths, out_dir)
        for intent in due:
            _note(run, alert, intent, _send_one(ob, intent, alert, letter, recipient, settings))
    run.unresolved = ob.unresolved(kinds=[run.kind], quarters=[run.quarter])
    return run


# ---------------------------------------------------------------- what a run says


def _when(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _what(kind: str, submitter: str | None, channel: str) -> str:
    return f"{one_line(submitter or '（未指明单位）')} 的{KIND_ZH.get(kind, kind)}（{CHANNEL_ZH.get(channel, channel)}）"


def report_lines(run: AlertRun) -> list[str]:
    """Chinese lines about deliveries that need a person: interrupted ones found at the start of
    the run, and those whose outcome is unknown."""
    lines = []
    for r in run.recovered:
        what = _what(r.intent.kind, r.intent.submitter, r.intent.channel)
        if r.status == "unknown":
            lines.append(f"{run.quarter} 上次运行在发送中中断：{what}，{UNKNOWN_NOTE}（不会重发）")
        else:
            lines.append(f"{run.quarter} 上次运行在发送中中断：{what}，本次重新发送")
    for rec in run.unresolved:
        lines.append(
            f"{run.quarter} {UNKNOWN_NOTE}：{_what(rec.kind, rec.submitter, rec.channel)}，"
            f"{_when(rec.updated_at)} 发往 {one_line(rec.recipient)}（核实后在控制台登记结果）"
        )
    return lines


# ---------------------------------------------------------------- the console's button


@dataclass
class SendSummary:
    """What one 「发送通知」 did for a quarter: per letter and channel, sent / failed / unknown,
    and the submitters whose letters had all gone out before (skipped)."""

    quarter: str
    by: str
    runs: list[AlertRun] = field(default_factory=list)

    def _of(self, status: str) -> list[Delivery]:
        return [d for r in self.runs for d in r.deliveries if d.status == status]

    @property
    def sent(self) -> list[Delivery]:
        return self._of("sent")

    @property
    def failed(self) -> list[Delivery]:
        return self._of("failed")

    @property
    def unknown(self) -> list[Record]:
        return [rec for r in self.runs for rec in r.unresolved]

    @property
    def skipped(self) -> list[str]:
        return [s for r in self.runs for s in r.unchanged]

    @property
    def no_recipient(self) -> list[str]:
        return [s for r in self.runs for s in r.no_recipient]


def send_quarter_letters(
    paths: Paths,
    quarter: str,
    *,
    by: str,
    today: dt.date | None = None,
    send: bool = True,
) -> SendSummary:
    """Send (or, after a change, send again) the letters of `quarter`: the alerts and, before
    the due date, the reminders, built from the published warehouse (opened read-only) and
    delivered through the outbox with `by` recorded as who asked. A letter already delivered on
    a channel is skipped; a changed letter (new fingerprint) goes out."""
    from pipelines.outputs import alerts
    from pipelines.warehouse import connect_published

    q = str(periods.Quarter.parse(quarter))
    day = today or clock.today()
    summary = SendSummary(q, by)
    con = connect_published(paths)
    try:
        summary.runs.append(alerts.write_alerts(con, paths, q, today=day, send=send, by=by))
        summary.runs.append(alerts.write_reminders(con, paths, q, today=day, send=send, by=by))
    finally:
        con.close()
    return summary
