"""The durable record of handled messages (data/mail/mail.sqlite), as paperless-ngx keeps its
ProcessedMail: a message is handled once even if the server's mark is lost, the folder is
rebuilt (new UIDVALIDITY) or the message is moved back, because it is known by its mailbox
UIDVALIDITY + UID and by its Message-ID.

A row is written only after the message's attachments are archived and their receipts
recorded; the server mark comes after the row. A crash before the row means the message is
handled again (the receipts are idempotent per Message-ID); a crash after it only leaves the
mark to set, which the next look does. SQLite in WAL mode with synchronous=FULL: a committed row
survives a power cut; the sensor and a run may use it at once (busy timeout).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines import clock
from pipelines.paths import Paths

SCHEMA = """
create table if not exists messages (
    key              text primary key,  -- account|UIDVALIDITY|UID
    account          text not null,     -- user@host:port/folder
    uidvalidity      integer not null,
    uid              integer not null,
    message_id       text not null,     -- as sent, or <content hash@jibao.invalid>
    sender           text,              -- From address
    reply_to         text,              -- where the reply goes (Reply-To, else From)
    subject          text,
    received_at      text not null,     -- INTERNALDATE in office local time (ISO)
    size             integer,
    intake           text not null,     -- JSON: what was received, refused, listed
    no_reply         text,              -- why no reply goes out (auto-reply, list, bounce …)
    handled_at       text not null,
    marked           integer not null default 0,
    reply_status     text,              -- sent | failed | suppressed | unsent (outbox: the truth)
    reply_message_id text,
    reply_detail     text,
    replied_at       text
);
create index if not exists messages_by_id on messages (account, message_id);
create index if not exists messages_by_reply on messages (reply_to, replied_at);
"""


def store_path(paths: Paths) -> Path:
    return paths.data / "mail" / "mail.sqlite"


@dataclass(frozen=True, slots=True)
class Handled:
    """One recorded message."""

    key: str
    account: str
    uidvalidity: int
    uid: int
    message_id: str
    sender: str | None
    reply_to: str | None
    subject: str
    received_at: dt.datetime
    size: int
    intake: dict[str, Any]
    no_reply: str | None
    marked: bool
    reply_status: str | None
    reply_message_id: str | None
    reply_detail: str | None
    replied_at: dt.datetime | None


def message_key(account: str, uidvalidity: int, uid: int) -> str:
    return f"{account}|{uidvalidity}|{uid}"


class Store:
    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    # ---- intake

    def known(self, account: str, uidvalidity: int, uid: int) -> Handled | None:
        return self._one(
            "select * from messages where key = ?", message_key(account, uidvalidity, uid)
        )

    def by_message_id(self, account: str, message_id: str) -> Handled | None:
        return self._one(
            "select * from messages where account = ? and message_id = ? order by handled_at limit 1",
            account, message_id,
        )  # fmt: skip

    def record(
        self, *, account: str, uidvalidity: int, uid: int, message_id: str, sender: str | None,
        reply_to: str | None, subject: str, received_at: dt.datetime, size: int,
        intake: dict[str, Any], no_reply: str | None,
    ) -> str:  # fmt: skip
        key = message_key(account, uidvalidity, uid)
        with self.con:
            self.con.execute(
                """
                insert into messages (key, account, uidvalidity, uid, message_id, sender, reply_to,
                    subject, received_at, size, intake, no_reply, handled_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                on conflict (key) do nothing
                """,
                [key, account, uidvalidity, uid, message_id, sender, reply_to, subject,
                 received_at.isoformat(timespec="seconds"), size,
                 json.dumps(intake, ensure_ascii=False), no_reply, _now()],
            )  # fmt: skip
        return key

    def set_marked(self, key: str) -> None:
        with self.con:
            self.con.execute("update messages set marked = 1 where key = ?", [key])

    def unmarked(self, account: str, uidvalidity: int) -> list[Handled]:
        return self._all(
            "select * from messages where account = ? and uidvalidity = ? and not marked",
            account, uidvalidity,
        )  # fmt: skip

    # ---- replies

    def awaiting_reply(self) -> list[Handled]:
        """Messages whose reply has not gone out: never tried, or failed (retried; the outbox
        knows whether an interrupted send must be repeated)."""
        return self._all(
            """
            select * from messages
            where no_reply is null and (reply_status is null or reply_status = 'failed')
            order by received_at, key
            """
        )

    def finish_reply(
        self, key: str, status: str, detail: str, message_id: str | None = None
    ) -> None:
        """What became of the reply: sent | failed | suppressed (cap) | unsent (no SMTP)."""
        with self.con:
            self.con.execute(
                "update messages set reply_status = ?, reply_detail = ?, replied_at = ?, "
                "reply_message_id = coalesce(?, reply_message_id) where key = ?",
                [status, detail, _now(), message_id, key],
            )

    def all(self) -> list[Handled]:
        return self._all("select * from messages order by received_at, key")

    # ---- rows

    def _one(self, sql: str, *args: object) -> Handled | None:
        rows = self._all(sql, *args)
        return rows[0] if rows else None

    def _all(self, sql: str, *args: object) -> list[Handled]:
        cur = self.con.execute(sql, list(args))
        names = [d[0] for d in cur.description]
        return [_handled(dict(zip(names, row, strict=True))) for row in cur.fetchall()]


def _handled(row: dict[str, Any]) -> Handled:
    return Handled(
        key=row["key"], account=row["account"], uidvalidity=row["uidvalidity"], uid=row["uid"],
        message_id=row["message_id"], sender=row["sender"], reply_to=row["reply_to"],
        subject=row["subject"] or "", received_at=dt.datetime.fromisoformat(row["received_at"]),
        size=row["size"] or 0, intake=json.loads(row["intake"]), no_reply=row["no_reply"],
        marked=bool(row["marked"]), reply_status=row["reply_status"],
        reply_message_id=row["reply_message_id"], reply_detail=row["reply_detail"],
        replied_at=dt.datetime.fromisoformat(row["replied_at"]) if row["replied_at"] else None,
    )  # fmt: skip


def _now() -> str:
    return clock.now().isoformat(timespec="seconds")


@contextlib.contextmanager
def open_store(paths: Paths) -> Iterator[Store]:
    path = store_path(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, isolation_level="DEFERRED")
    try:
        con.execute("pragma journal_mode = wal")
        con.execute("pragma synchronous = full")
        con.executescript(SCHEMA)
        yield Store(con)
    finally:
        con.close()


def exists(paths: Paths) -> bool:
    return store_path(paths).exists()
