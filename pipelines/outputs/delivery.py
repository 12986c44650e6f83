"""Delivery channels for letters: e-mail (SMTP), a group-robot webhook (WeCom/DingTalk style)
and the letter files, every one of them through the outbox (pipelines.outbox).

Settings come from config/alerts.yaml with environment overrides, so an office can switch a
channel on without editing files and keep the SMTP password out of the repository.

The only public way to send is `deliver_email` / `deliver_webhook` / `deliver_file`: each hands
the transport to `Outbox.deliver`, which records the intent before the transport runs and its
outcome after. A send never raises: the outcome is recorded, so one bad channel does not stop a
run. Transports classify what they know: a refused connection, an HTTP error status, a robot's
errcode or an SMTP rejection is a KNOWN failure (sent again next time); a timeout or a broken
connection after a webhook request went out is UNKNOWN (never posted again; the office checks).
E-mail is idempotent by its Message-ID, derived from the delivery key (`message_id_for`): a
resend after an interruption is the same message, not a new one.

Mail replies (pipelines.mail) build their message with `compose_email(..., in_reply_to=,
references=)` and send it with `deliver_email(outbox, Intent(kind="reply", channel="email",
fingerprint=<the Message-ID answered>, ...), smtp, build)`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import mimetypes
import os
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pipelines import clock, config
from pipelines.outbox import Attempt, Intent, Outbox, Outcome, Result
from pipelines.registry import Submitter
from pipelines.sanitize import display, one_line

__all__ = [
    "AlertSettings",
    "Outcome",
    "Recipient",
    "SmtpSettings",
    "WebhookSettings",
    "compose_email",
    "deliver_email",
    "deliver_file",
    "deliver_webhook",
    "load_settings",
    "message_id_for",
    "redact_url",
    "truncate_utf8",
]


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # none | starttls | ssl
    sender: str
    sender_name: str
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    url: str | None
    timeout: float = 10.0
    max_bytes: int = 4000


@dataclass(frozen=True, slots=True)
class Recipient:
    emails: tuple[str, ...] = ()
    webhook: str | None = None


@dataclass(frozen=True)
class AlertSettings:
    smtp: SmtpSettings | None
    webhook: WebhookSettings
    recipients: dict[str, Recipient] = field(default_factory=dict)
    working_days: int = 5
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def recipient(self, submitter: Submitter) -> Recipient:
        """Configured addresses of a submitter; its registry e-mail is added, the group robot is
        the fallback webhook."""
        own = self.recipients.get(submitter.name, Recipient())
        emails = list(own.emails)
        if submitter.email and submitter.email not in emails:
            emails.append(submitter.email)
        return Recipient(tuple(emails), own.webhook or self.webhook.url)

    def correct_by(self, today: dt.date) -> dt.date:
        """`today` + the configured number of working days (weekends and holidays skipped)."""
        day, left = today, self.working_days
        while left > 0:
            day += dt.timedelta(days=1)
            working = (day.weekday() < 5 and day not in self.holidays) or day in self.workdays
            left -= working
        return day


def _env(name: str, default: object) -> object:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def _dates(values: Sequence[object] | None) -> frozenset[dt.date]:
    return frozenset(
        v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)) for v in values or ()
    )


def load_settings() -> AlertSettings:
    raw = config.load("alerts.yaml") or {}
    office = config.load("office.yaml")
    s = raw.get("smtp") or {}
    host = _env("JIBAO_SMTP_HOST", s.get("host"))
    smtp = None
    if host:
        smtp = SmtpSettings(
            host=str(host),
            port=int(_env("JIBAO_SMTP_PORT", s.get("port") or 25)),
            tls=str(_env("JIBAO_SMTP_TLS", s.get("tls") or "none")).lower(),
            sender=str(_env("JIBAO_SMTP_SENDER", s.get("sender") or office["email"])),
            sender_name=str(_env("JIBAO_SMTP_SENDER_NAME", s.get("sender_name") or office["name"])),
            user=_env("JIBAO_SMTP_USER", s.get("user")) or None,  # type: ignore[arg-type]
            password=os.environ.get("JIBAO_SMTP_PASSWORD") or None,
            timeout=float(_env("JIBAO_SMTP_TIMEOUT", s.get("timeout") or 30)),
        )
    w = raw.get("webhook") or {}
    webhook = WebhookSettings(
        url=_env("JIBAO_WEBHOOK_URL", w.get("url")) or None,  # type: ignore[arg-type]
        timeout=float(_env("JIBAO_WEBHOOK_TIMEOUT", w.get("timeout") or 10)),
        max_bytes=int(w.get("max_bytes") or 4000),
    )
    recipients = {
        name: Recipient(
            emails=tuple([r["email"]] if isinstance(r.get("email"), str) else r.get("email") or ()),
            webhook=r.get("webhook"),
        )
        for name, r in (raw.get("recipients") or {}).items()
    }
    c = raw.get("correction") or {}
    return AlertSettings(
        smtp=smtp,
        webhook=webhook,
        recipients=recipients,
        working_days=int(c.get("working_days", 5)),
        holidays=_dates(c.get("holidays")),
        workdays=_dates(c.get("workdays")),
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def message_id_for(key: str, sender: str) -> str:
    """The Message-ID of a delivery: from its key, so every resend carries the same one."""
    domain = one_line(sender).rpartition("@")[2].strip("<> ") or "jibao.invalid"
    return f"<{key}.jibao@{domain}>"


def compose_email(
    smtp: SmtpSettings,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Path] = (),
    *,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
) -> EmailMessage:
    """multipart/mixed: (text/plain | text/html) alternative, then the attachments. Headers are
    one line each with no control or bidi characters (sanitize.one_line); non-ASCII subject,
    names and file names are encoded by the email package (RFC 2047 / RFC 2231). The Message-ID
    is set by `deliver_email`."""
    msg = EmailMessage()
    msg["Subject"] = one_line(subject)
    msg["From"] = Address(display_name=one_line(smtp.sender_name), addr_spec=one_line(smtp.sender))
    msg["To"] = ", ".join(one_line(a) for a in to)
    msg["Date"] = format_datetime(clock.aware_now())
    if in_reply_to:
        msg["In-Reply-To"] = one_line(in_reply_to)
    refs = [one_line(r) for r in references if r]
    if refs:
        msg["References"] = " ".join(refs)
    msg.set_content(text, charset="utf-8")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    for path in attachments:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix.lower() == ".xlsx":
            ctype = XLSX
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=one_line(path.name)
        )
    return msg


def _smtp_send(smtp: SmtpSettings, msg: EmailMessage) -> Outcome:
    """Hand one message to the SMTP server. Every failure is retryable: the Message-ID makes a
    second copy recognisably the same message."""
    try:
        if smtp.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            refused = client.send_message(msg)
        if refused:
            return Outcome("failed", f"收件人被拒绝：{refused}")
        return Outcome("sent", f"{smtp.host}:{smtp.port} 已接收")
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        return Outcome("failed", f"{type(exc).__name__}: {exc}")


def deliver_email(
    outbox: Outbox,
    intent: Intent,
    smtp: SmtpSettings,
    build: Callable[[], EmailMessage],
) -> Result:
    """Send the message `build()` makes, through the outbox, with the delivery's stable
    Message-ID (any Message-ID the builder set is replaced)."""
    if intent.channel != "email":
        raise ValueError(f"deliver_email needs an e-mail intent, got {intent.channel}")
    if intent.message_id is None:
        intent = dataclasses.replace(intent, message_id=message_id_for(intent.key, smtp.sender))

    def send(attempt: Attempt) -> Outcome:
        msg = build()
        del msg["Message-ID"]
        msg["Message-ID"] = attempt.message_id or intent.message_id
        return _smtp_send(smtp, msg)

    return outbox.deliver(intent, send)


def truncate_utf8(text: str, max_bytes: int, note: str) -> str:
    """Cut `text` so that it plus `note` fits in max_bytes of UTF-8 (robots count bytes)."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max(0, max_bytes - len(note.encode("utf-8")))
    return data[:room].decode("utf-8", errors="ignore") + note


# Nothing reached the robot: safe to post again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _post(url: str, content: str, timeout: float) -> Outcome:
    """POST a markdown message; a robot answers 200 with {"errcode": 0} when it accepted it."""
    payload = {"msgtype": "markdown", "markdown": {"content": content}}
    try:
        resp = httpx.post(url, json=payload, timeout=timeout)
    except _NOT_SENT as exc:
        return Outcome("failed", f"{type(exc).__name__}: {exc}")
    except httpx.HTTPError as exc:  # the request may have reached the robot
        return Outcome("unknown", f"{type(exc).__name__}: {exc}")
    if resp.is_error:
        return Outcome("failed", f"HTTP {resp.status_code} {one_line(resp.reason_phrase)}")
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("errcode") not in (None, 0):
        return Outcome(
            "failed",
            f"HTTP {resp.status_code} errcode={body.get('errcode')} "
            f"{one_line(body.get('errmsg', ''))}",
        )
    return Outcome("sent", f"HTTP {resp.status_code}")


def deliver_webhook(
    outbox: Outbox, intent: Intent, url: str, content: str, *, timeout: float = 10.0
) -> Result:
    """Post `content` to a group robot through the outbox. The payload is sanitised
    (sanitize.display: no control or bidi characters reach the robot). `intent.recipient`
    should be `redact_url(url)`: the key in the URL is never recorded."""
    if intent.channel != "webhook":
        raise ValueError(f"deliver_webhook needs a webhook intent, got {intent.channel}")
    safe = display(content)
    return outbox.deliver(intent, lambda attempt: _post(url, safe, timeout))


def deliver_file(
    outbox: Outbox, intent: Intent, write: Callable[[], str], *, rewrite: bool = False
) -> Result:
    """Record letter files handed over on disk; `write()` writes them (atomically) and returns
    what it wrote. `rewrite`: write again although recorded (the folder was cleaned)."""
    if intent.channel != "file":
        raise ValueError(f"deliver_file needs a file intent, got {intent.channel}")
    return outbox.deliver(intent, lambda attempt: Outcome("sent", write()), rewrite=rewrite)


def redact_url(url: str) -> str:
    """A robot URL carries its key in the query: record where it went, never the key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}" + ("?…" if parts.query else "")
