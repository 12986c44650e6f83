"""The IMAP connection: which messages are new, when each reached the server, its bytes, and
the mark that says it was handled. imap-tools does the connection (TLS modes, login, folders,
search, flags, move); INTERNALDATE and the raw bytes come from its underlying imaplib client,
because imap-tools' messages expose neither.

Every network operation is bounded by the configured timeout, and every failure becomes a
MailboxError with a Chinese message: an unreachable mailbox is a warning and a retry on the next
look, never a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import re
import ssl
from dataclasses import dataclass

from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError

from pipelines.mail.settings import MailSettings

# NetEase (126/163) and some other Chinese providers refuse SELECT ("Unsafe Login") until the
# client has introduced itself with the ID command (RFC 2971), which imaplib does not know.
imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))
CLIENT_ID = '("name" "jibao" "version" "1.0" "vendor" "jibao")'

_FETCH_LINE = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
NETWORK_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError, EOFError, ValueError)


class MailboxError(Exception):
    """The mailbox could not be used this time (Chinese message)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the server says about a message before it is downloaded."""

    uid: int
    size: int  # RFC822.SIZE
    internaldate: dt.datetime  # aware: when the message reached the server
    flags: tuple[str, ...]


_DATE = re.compile(r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def parse_internaldate(text: str) -> dt.datetime:
    """「09-Oct-2025 10:30:12 +0800」 → aware datetime (RFC 3501: month names are English,
    whatever the locale, so no strptime)."""
    m = _DATE.match(text)
    if not m:
        raise ValueError(f"INTERNALDATE {text!r}")
    day, month, year, hh, mm, ss, sign, oh, om = m.groups()
    offset = dt.timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    return dt.datetime(
        int(year), _MONTHS.index(month.lower()) + 1, int(day), int(hh), int(mm), int(ss),
        tzinfo=dt.timezone(offset),
    )  # fmt: skip


def _context(settings: MailSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file)


class Mailbox:
    """One session with the configured folder selected (a context manager)."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.box: MailBox | MailBoxStartTls | MailBoxUnencrypted | None = None
        self.uidvalidity = 0

    def __enter__(self) -> Mailbox:
        s = self.settings
        where = f"{s.host}:{s.port}"
        try:
            if s.tls == "ssl":
                box = MailBox(s.host, s.port, timeout=s.timeout, ssl_context=_context(s))
            elif s.tls == "starttls":
                box = MailBoxStartTls(s.host, s.port, timeout=s.timeout, ssl_context=_context(s))
            else:
                box = MailBoxUnencrypted(s.host, s.port, timeout=s.timeout)
        except ssl.SSLError as exc:
            raise MailboxError(
                f"无法与收件服务器 {where} 建立加密连接（{exc.reason or exc}）"
            ) from exc
        except NETWORK_ERRORS as exc:
            raise MailboxError(f"无法连接收件服务器 {where}（{_why(exc)}）") from exc
        self.box = box
        try:
            box.login(s.user, s.password, initial_folder=None)
        except NETWORK_ERRORS as exc:
            self._close()
            raise MailboxError(
                f"收件邮箱 {s.user} 登录失败（{_why(exc)}），请核对账号和授权码"
            ) from exc
        try:
            if "ID" in box.client.capabilities:
                box.client._simple_command("ID", CLIENT_ID)  # noqa: SLF001 - see CLIENT_ID
            box.folder.set(s.folder)
            status = box.folder.status(s.folder, ["UIDVALIDITY"])
            self.uidvalidity = int(status.get("UIDVALIDITY") or 0)
        except NETWORK_ERRORS as exc:
            self._close()
            raise MailboxError(f"无法打开收件邮箱的文件夹「{s.folder}」（{_why(exc)}）") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def _close(self) -> None:
        if self.box is not None:
            try:
                self.box.logout()
            except Exception:  # noqa: BLE001 - the session is over either way
                with contextlib.suppress(Exception):
                    self.box.client.shutdown()
            self.box = None

    @property
    def client(self) -> imaplib.IMAP4:
        assert self.box is not None
        return self.box.client

    def unmarked(self) -> list[int]:
        """UIDs in the folder not yet marked as handled (flag mode: without the keyword; move
        mode: everything still in the folder), oldest first."""
        criteria = AND(no_keyword=self.settings.flag) if self.settings.mark == "flag" else "ALL"
        try:
            assert self.box is not None
            return sorted(int(u) for u in self.box.uids(criteria))
        except NETWORK_ERRORS as exc:
            raise MailboxError(f"无法检索收件邮箱（{_why(exc)}）") from exc

    def envelopes(self, uids: list[int]) -> list[Envelope]:
        if not uids:
            return []
        seq = ",".join(str(u) for u in uids)
        try:
            typ, data = self.client.uid("FETCH", seq, "(UID INTERNALDATE RFC822.SIZE FLAGS)")
        except NETWORK_ERRORS as exc:
            raise MailboxError(f"无法读取收件邮箱的邮件信息（{_why(exc)}）") from exc
        if typ != "OK":
            raise MailboxError(f"收件服务器拒绝读取邮件信息（{_text(data)}）")
        out = []
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid, when, size = (
                _FETCH_LINE.search(line),
                _INTERNALDATE.search(line),
                _SIZE.search(line),
            )
            if not (uid and when):
                continue
            flags = tuple(f.decode(errors="replace") for f in imaplib.ParseFlags(line))
            out.append(
                Envelope(
                    int(uid.group(1)),
                    int(size.group(1)) if size else 0,
                    parse_internaldate(when.group(1).decode()),
                    flags,
                )
            )
        return sorted(out, key=lambda e: e.uid)

    def fetch(self, uid: int) -> bytes | None:
        """The message as it sits on the server (None if it vanished meanwhile). PEEK: reading
        it does not mark it as read for the office's own mail client."""
        try:
            typ, data = self.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        except NETWORK_ERRORS as exc:
            raise MailboxError(f"无法下载邮件（{_why(exc)}）") from exc
        if typ != "OK":
            raise MailboxError(f"收件服务器拒绝下载邮件（{_text(data)}）")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def mark(self, uid: int) -> None:
        """Mark a handled message: the keyword, or a move to the processed folder."""
        s = self.settings
        assert self.box is not None
        try:
            if s.mark == "flag":
                self.box.flag(str(uid), [s.flag], True)
                return
            if not self.box.folder.exists(s.move_to):
                self.box.folder.create(s.move_to)
            self.box.move(str(uid), s.move_to)
        except NETWORK_ERRORS as exc:
            raise MailboxError(f"无法标记已处理的邮件（{_why(exc)}）") from exc


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200]


def _text(data: object) -> str:
    if isinstance(data, list) and data and isinstance(data[0], bytes):
        return data[0].decode(errors="replace")[:200]
    return str(data)[:200]
