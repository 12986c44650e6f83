"""Delivery channels for letters: e-mail (SMTP) and a group-robot webhook (WeCom/DingTalk style).

Settings come from config/alerts.yaml with environment overrides, so an office can switch a
channel on without editing files and keep the SMTP password out of the repository. A send never
raises: it returns an Outcome that the caller records, so one bad channel does not stop a run.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

from pipelines import config
from pipelines.registry import Submitter

DeliveryStatus = Literal["sent", "failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    status: DeliveryStatus
    detail: str


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


def _one_line(text: str) -> str:
    """Header values must not carry line breaks (header injection)."""
    return " ".join(str(text).split())


def build_email(
    smtp: SmtpSettings,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str,
    attachments: Sequence[Path] = (),
) -> EmailMessage:
    """multipart/mixed: (text/plain | text/html) alternative, then the workbooks. Non-ASCII
    subject, names and file names are encoded by the email package (RFC 2047 / RFC 2231)."""
    msg = EmailMessage()
    msg["Subject"] = _one_line(subject)
    msg["From"] = Address(display_name=_one_line(smtp.sender_name), addr_spec=smtp.sender)
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(dt.datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    msg.set_content(text, charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    for path in attachments:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix.lower() == ".xlsx":
            ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    return msg


def send_email(
    smtp: SmtpSettings,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str,
    attachments: Sequence[Path] = (),
) -> Outcome:
    try:
        msg = build_email(smtp, to, subject, text, html, attachments)
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


def truncate_utf8(text: str, max_bytes: int, note: str) -> str:
    """Cut `text` so that it plus `note` fits in max_bytes of UTF-8 (robots count bytes)."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max(0, max_bytes - len(note.encode("utf-8")))
    return data[:room].decode("utf-8", errors="ignore") + note


def post_webhook(url: str, content: str, *, timeout: float = 10.0) -> Outcome:
    """POST a markdown message; a robot answers 200 with {"errcode": 0} when it accepted it."""
    payload = {"msgtype": "markdown", "markdown": {"content": content}}
    try:
        resp = httpx.post(url, json=payload, timeout=timeout)
        resp.raise_for_status()
    except httpx.HTTPError as exc:
        return Outcome("failed", f"{type(exc).__name__}: {exc}")
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("errcode") not in (None, 0):
        return Outcome(
            "failed",
            f"HTTP {resp.status_code} errcode={body.get('errcode')} {body.get('errmsg', '')}",
        )
    return Outcome("sent", f"HTTP {resp.status_code}")


def redact_url(url: str) -> str:
    """A robot URL carries its key in the query: record where it went, never the key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}" + ("?…" if parts.query else "")
