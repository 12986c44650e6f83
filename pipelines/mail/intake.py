"""Receive what arrived in the office's mailbox: every workbook through the one receipt.

For each new message (oldest first, at most `batch` per look, within a time budget):

1. A message larger than the limit is not downloaded: its header is enough to answer it.
2. The message is kept as it arrived (data/mail/messages/<sha256>.eml): every received file is
   kept, attachments that are not returns included.
3. Its parts are sorted (parts.py); each workbook goes through the front door to learn its
   quarter (the header date), else the collection window its arrival falls in, and is received
   with `receive_bytes(channel="mail", received_at=INTERNALDATE in office time, by=sender,
   message_id=Message-ID)`: archived by content, placed in data/raw/<quarter>/电子邮件/, where
   the drop-folder sensor sees it.
4. Only then is the message recorded (store.py), and only then marked on the server.

A mailbox that cannot be reached ends the look with a Chinese warning; the next look retries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines import clock, config, periods
from pipelines.fsio import atomic_write_bytes
from pipelines.mail import mime
from pipelines.mail.mailbox import Envelope, Mailbox, MailboxError, MarkRefused
from pipelines.mail.parts import Workbook, classify
from pipelines.mail.settings import MailSettings, load_settings
from pipelines.mail.store import Store, open_store
from pipelines.office.decisions import is_locked
from pipelines.paths import Paths
from pipelines.warehouse.receipts import receive_bytes

log = logging.getLogger(__name__)


@dataclass
class Handled:
    """One message handled in this look, for the CLI and the sensor's log."""

    key: str
    sender: str | None
    subject: str
    received_at: dt.datetime
    files: int
    quarters: list[str]
    no_reply: str | None
    problem: str | None  # the first refusal or note, for the summary line


@dataclass
class IntakeReport:
    configured: bool = True
    handled: list[Handled] = field(default_factory=list)
    remaining: int = 0  # new messages left for the next look
    warning: str | None = None  # Chinese: the mailbox could not be used this time
    mark_warning: str | None = None  # Chinese: the server refused the mark (handled anyway)

    @property
    def quarters(self) -> list[str]:
        return sorted({q for h in self.handled for q in h.quarters}, key=periods.Quarter.parse)


def mail_dir(paths: Paths) -> Path:
    return paths.data / "mail"


def office_time(when: dt.datetime) -> dt.datetime:
    """An aware time as the office's local wall-clock time (naive, like every ledger time)."""
    return clock.office_time(when)


def after_lock_label() -> str:
    """「锁定后收到」: how the office names a version that arrived while its quarter was closed."""
    return str(
        (config.load("calendar.yaml").get("collection") or {}).get(
            "received_after_lock", "锁定后收到"
        )
    )


def fetch(
    paths: Paths, settings: MailSettings | None = None, *, budget_s: float = 40.0
) -> IntakeReport:
    """One look at the mailbox. Raises MailConfigError (Chinese) for an unusable configuration;
    returns a report with `configured=False` when no mailbox is configured."""
    settings = settings or load_settings()
    if settings is None:
        return IntakeReport(configured=False)
    report = IntakeReport()
    started = time.monotonic()
    with _one_intake(paths) as alone:
        if not alone:
            report.warning = "另一个收件程序正在读取邮箱，本次跳过"
            return report
        try:
            with Mailbox(settings) as box, open_store(paths) as store:
                _look(paths, settings, box, store, report, started, budget_s)
        except MailboxError as exc:
            report.warning = f"收件邮箱暂时无法使用：{exc}；下次检查时重试"
        except OSError as exc:  # the disk: nothing was marked that is not recorded
            report.warning = f"收件时无法写入数据目录（{exc}）；下次检查时重试"
    if report.warning:
        log.warning(report.warning)
    return report


@contextlib.contextmanager
def _one_intake(paths: Paths) -> Iterator[bool]:
    """One look at a time (the sensor and `jibao mail fetch` may overlap)."""
    lock = mail_dir(paths) / "intake.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _look(
    paths: Paths, settings: MailSettings, box: Mailbox, store: Store, report: IntakeReport,
    started: float, budget_s: float,
) -> None:  # fmt: skip
    account, validity = settings.account, box.uidvalidity
    for row in store.unmarked(account, validity):  # recorded, then interrupted before the mark
        _mark(box, store, row.key, row.uid, report)
    known = {r.uid for r in store.all() if r.account == account and r.uidvalidity == validity}
    since = periods.today() - dt.timedelta(days=settings.max_age_days)
    unmarked = box.unmarked(since)
    for uid in unmarked:
        if uid in known and settings.mark == "flag":  # handled, but its mark was lost
            with contextlib.suppress(MarkRefused):
                box.mark(uid)
    new = [u for u in unmarked if u not in known]
    envelopes = box.envelopes(new[: settings.batch])
    for n, env in enumerate(envelopes):
        if time.monotonic() - started > budget_s:
            break
        try:
            done = _handle(paths, settings, box, store, env, report)
        except (MailboxError, OSError):
            raise
        except Exception as exc:  # a message no step could handle: answer it, never loop on it
            log.exception("邮件 UID %s 无法处理", env.uid)
            done = _unprocessable(settings, box, store, env, exc, report)
        if done is not None:
            report.handled.append(done)
        report.remaining = len(new) - n - 1


def _unprocessable(
    settings: MailSettings, box: Mailbox, store: Store, env: Envelope, exc: Exception,
    report: IntakeReport,
) -> Handled:  # fmt: skip
    """Record a message that could not be handled, so it is answered once and not retried."""
    try:
        msg = mime.parse(box.header(env.uid) or b"")
        sender, reply_to, subject = (
            mime.sender_address(msg),
            mime.reply_address(msg),
            mime.subject(msg),
        )
        message_id = mime.message_id(msg)
        no_reply = _no_reply(msg, reply_to)
    except Exception:  # noqa: BLE001 - not even the header can be read
        sender = reply_to = message_id = None
        subject, no_reply = "", "邮件头无法读取"
    received_at = office_time(env.internaldate)
    error = f"邮件无法处理（{type(exc).__name__}），请检查附件后重新发送"
    key = store.record(
        account=settings.account, uidvalidity=box.uidvalidity, uid=env.uid,
        message_id=message_id or f"<uid-{box.uidvalidity}-{env.uid}@jibao.invalid>",
        sender=sender, reply_to=reply_to, subject=subject, received_at=received_at,
        size=env.size, intake={"error": error}, no_reply=no_reply,
    )  # fmt: skip
    _mark(box, store, key, env.uid, report)
    return Handled(key, sender, subject, received_at, 0, [], no_reply, error)


def _mark(box: Mailbox, store: Store, key: str, uid: int, report: IntakeReport) -> None:
    """Mark a recorded message on the server. A refusal is reported once, not retried: the
    record already keeps the message from being handled twice."""
    try:
        box.mark(uid)
    except MarkRefused as exc:
        if report.mark_warning is None:
            report.mark_warning = f"{exc}；已处理的邮件由 jibao 自己的记录识别，不会重复处理"
            log.warning(report.mark_warning)
    store.set_marked(key)


def _handle(
    paths: Paths, settings: MailSettings, box: Mailbox, store: Store, env: Envelope,
    report: IntakeReport,
) -> Handled | None:  # fmt: skip
    account = settings.account
    received_at = office_time(env.internaldate)
    too_large = env.size > settings.max_message_bytes
    raw = box.header(env.uid) if too_large else box.fetch(env.uid)
    if raw is None:  # deleted while we looked
        return None
    msg = mime.parse(raw)
    message_id = mime.message_id(msg) or mime.content_id(raw)
    if (earlier := store.by_message_id(account, message_id)) is not None:
        # the same message under a new UID (moved back, folder rebuilt): handled already
        key = store.record(
            account=account, uidvalidity=box.uidvalidity, uid=env.uid, message_id=message_id,
            sender=earlier.sender, reply_to=earlier.reply_to, subject=earlier.subject,
            received_at=earlier.received_at, size=env.size,
            intake={"duplicate_of": earlier.key}, no_reply="同一封邮件此前已处理",
        )  # fmt: skip
        _mark(box, store, key, env.uid, report)
        return None
    sender = mime.sender_address(msg)
    if too_large:
        intake: dict[str, Any] = {"too_large": env.size, "limit": settings.max_message_bytes}
    else:
        _keep(paths, raw)
        intake = _receive(paths, settings, msg, received_at, sender, message_id)
    reply_to = mime.reply_address(msg)
    key = store.record(
        account=account, uidvalidity=box.uidvalidity, uid=env.uid, message_id=message_id,
        sender=sender, reply_to=reply_to, subject=mime.subject(msg), received_at=received_at,
        size=env.size, intake=intake, no_reply=_no_reply(msg, reply_to),
    )  # fmt: skip
    _mark(box, store, key, env.uid, report)
    files = intake.get("files", [])
    locked = sorted({f["quarter"] for f in files if f.get("locked")})
    problem = next(
        (r["message"] for r in intake.get("refused", [])), next(iter(intake.get("notes", [])), None)
    )
    if locked:
        problem = f"{'、'.join(locked)} 已审核锁定，登记为「{after_lock_label()}」"
    return Handled(
        key, sender, mime.subject(msg), received_at, len(files),
        sorted({f["quarter"] for f in files}), _no_reply(msg, reply_to), problem,
    )  # fmt: skip


def _keep(paths: Paths, raw: bytes) -> Path:
    target = mail_dir(paths) / "messages" / f"{hashlib.sha256(raw).hexdigest()}.eml"
    if not target.exists():
        atomic_write_bytes(target, raw)
    return target


def _no_reply(msg, reply_to: str | None) -> str | None:
    why = mime.automatic(msg)
    if why:
        return why
    if reply_to is None:
        return "邮件没有可回复的发件地址"
    office = str(config.load("office.yaml").get("email") or "").lower()
    if reply_to == office:
        return "发件人为本办公室邮箱"
    return None


def _receive(
    paths: Paths, settings: MailSettings, msg, received_at: dt.datetime, sender: str | None,
    message_id: str,
) -> dict[str, Any]:  # fmt: skip
    """Sort the parts and receive every workbook; what the reply needs, as plain data."""
    found = classify(mime.parts(msg), max_attachment_bytes=settings.max_attachment_bytes)
    notes = []
    if broken := mime.defects(msg):
        notes.append(f"邮件结构异常（{'、'.join(broken)}），附件可能不完整")
    quarters = _front_door_quarters(found.workbooks)
    window = str(periods.collecting_quarter(received_at.date()))
    configured = {str(q) for q in periods.quarters()}
    files = []
    for wb, q in zip(found.workbooks, quarters, strict=True):
        quarter = q or window
        receipt = receive_bytes(
            paths, wb.name, wb.data, channel="mail", received_at=received_at, quarter=quarter,
            by=sender, message_id=message_id,
        )  # fmt: skip
        files.append(
            {
                "name": wb.name,
                "shown": wb.shown or wb.name,
                "sha256": receipt.sha256,
                "quarter": quarter,
                "quarter_from": "header" if q else "window",
                "drop_path": receipt.drop_path,
                "configured": quarter in configured,
                "locked": is_locked(paths, quarter),  # at intake, for the office's log
                "note": wb.note,
            }
        )
    return {
        "files": files,
        "refused": [{"name": v.name, "message": v.message} for v in found.refused],
        "others": found.others,
        "notes": notes,
        "references": mime.references(msg),
    }


def _front_door_quarters(workbooks: list[Workbook]) -> list[str | None]:
    """The quarter the front door reads from each workbook (its header date), None when it
    finds none. The files are checked from a private temporary folder whose name says nothing
    about a quarter (the front door also reads quarters from folder names)."""
    if not workbooks:
        return []
    from pipelines.validate import validate_paths

    folder = Path(tempfile.mkdtemp(prefix="jibao-mail-"))
    try:
        files = []
        for n, wb in enumerate(workbooks):
            path = folder / f"{n}{Path(wb.name).suffix.lower()[:8]}"
            path.write_bytes(wb.data)
            files.append(path)
        by_file: dict[str, str | None] = {}
        for r in validate_paths(files):
            if r.quarter and by_file.get(r.file) is None:
                by_file[r.file] = r.quarter
        return [by_file.get(str(p)) for p in files]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
