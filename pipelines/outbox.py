"""The durable outbox: every letter that leaves jibao is recorded before it is sent and after.

Why: letters used to be recorded inside the warehouse build, so a build that failed or was
killed discarded the records and every letter went out again next run. The outbox lives outside
the build, in `data/outbox/outbox.sqlite3`, and is never rolled back with it. The warehouse's
`alert_deliveries` table is a copy of it, loaded at the next build (`load_into_warehouse`).

Why SQLite (stdlib `sqlite3`, WAL, `synchronous=FULL`) rather than an append-only journal: the
question every send asks — "was this letter already sent on this channel?" — is a lookup by a
unique key, and two senders (a run and the console) may ask it at once. SQLite answers it with a
primary key and a transaction that is durable when `commit` returns; a journal would need its
own replay, index, locking and compaction to answer the same question. The file is readable with
any SQLite tool, and each state change is one committed row, so a crash never leaves half a
record.

One delivery = one letter on one channel (`Intent.key` = kind + channel + fingerprint): the same
fingerprint is never sent twice on a channel. Its life:

    intent recorded (pending, committed) → transport → result recorded (sent | failed | unknown)

The only way to send is `Outbox.deliver(intent, send)`: it records the intent, then calls
`send(attempt)` (the transport), then records what it returned. So no caller can send without
the intent on disk first. Channel helpers that build on it live in `pipelines.outputs.delivery`
(`deliver_email`, `deliver_webhook`, `deliver_file`).

What `deliver` does with a key it has seen before:

- sent → not sent again (`Result.status == "skipped"`);
- failed (a KNOWN failure: refused connection, HTTP error, robot errcode, SMTP rejection) →
  sent again, a new attempt;
- unknown (a webhook whose outcome is not known: a timeout after the request went out, or a
  crash between the transport and the record) → not sent again; reported to the office as
  「发送结果不明，请核实」 until someone resolves it (`resolve`);
- pending (found pending: the sender died between intent and result — senders hold an exclusive
  lock while a delivery is pending, so a pending row seen under the lock is an interrupted one):
  e-mail and files are idempotent and are sent again (e-mail with the same Message-ID, derived
  from the key, so the resend is recognisably the same message); a webhook becomes unknown.

`recover(kinds, quarters)` applies the last rule to every interrupted delivery at once and
returns what it found, so a run can report it (in Chinese) before it sends anything.

API:

- `Intent(kind, channel, fingerprint, recipient, quarter=None, submitter=None, subject="",
  by="jibao", message_id=None)`: what is about to be sent. `kind`: alert / reminder / reply /
  send_back / …; `channel`: file / email / webhook; `fingerprint`: what the letter says (for a
  mail reply: the Message-ID it answers); `recipient`: addresses, a redacted robot URL or a
  folder; `by`: who asked for the send (a run, a console user).
- `Outbox(file)` / `Outbox.open(paths)`.
- `deliver(intent, send: Callable[[Attempt], Outcome], *, rewrite=False) -> Result` (above;
  `rewrite` only for letter files, which may be written again when the folder was cleaned). `send` returns an
  `Outcome("sent" | "failed" | "unknown", detail)`; an exception from it counts as failed
  (unknown for a webhook).
- `recover(kinds=None, quarters=None) -> list[Result]`: interrupted deliveries, settled.
- `unresolved(kinds=None, quarters=None) -> list[Record]`: deliveries whose outcome is unknown.
- `resolve(key, *, delivered, by, note="") -> Record`: the office checked an unknown delivery
  (`delivered=True`: it arrived, never send it again; `False`: send it again next time).
- `get(key) -> Record | None`, `find(key_prefix) -> Record`, `records(kinds=None, quarters=None) -> list[Record]`,
  `sent_count(channel, recipient, since) -> int` (rate limits for mail replies).
- `attempt_rows() -> list[dict]`: one row per attempt, the warehouse copy's content.
- `load_into_warehouse(con, paths)`: replace `alert_deliveries` with a copy of the outbox.

Tests reach the gap between intent and result through `_fault_hooks`, a list that only Python
code in the same process can fill (nothing in the environment or configuration does): each hook
is called with a stage name ("intent", "sent", "recorded") and the attempt.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from pipelines import clock
from pipelines.paths import Paths
from pipelines.runlock import RunInProgress

__all__ = [
    "UNKNOWN_NOTE",
    "Attempt",
    "Intent",
    "Outbox",
    "OutboxBusy",
    "OutboxError",
    "Outcome",
    "Record",
    "Result",
    "load_into_warehouse",
]

Channel = Literal["file", "email", "webhook"]
Status = Literal["pending", "sent", "failed", "unknown"]
OutcomeStatus = Literal["sent", "failed", "unknown"]
ResultStatus = Literal["sent", "failed", "unknown", "skipped"]

FILE_NAME = "outbox.sqlite3"
# Channels where sending the same thing again is harmless: a file is rewritten whole; an e-mail
# goes out with the same Message-ID. A webhook post is not: a robot shows it twice.
IDEMPOTENT: frozenset[str] = frozenset({"file", "email"})
UNKNOWN_NOTE = "发送结果不明，请核实"
STATUS_ZH = {
    "pending": "发送中",
    "sent": "已发送",
    "failed": "发送失败（下次重发）",
    "unknown": "结果不明",
}
INTERRUPTED_NOTE = "上次发送中断（进程终止）"
LOCK_WAIT_SECONDS = 600.0

log = logging.getLogger(__name__)
_fault_hooks: list[Callable[[str, Attempt], None]] = []


class OutboxError(ValueError):
    """A request the outbox refuses (no such delivery, nothing to resolve); Chinese message."""


class OutboxBusy(RunInProgress):
    """Another sender held the outbox for longer than LOCK_WAIT_SECONDS (Chinese message). A
    RunInProgress, so the CLI exits 75 with the message."""

    def __init__(self, lock: Path, message: str) -> None:
        Exception.__init__(self, message)
        self.lock, self.held_by = lock, {}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a transport reports: `sent`, a known `failed`, or `unknown` (it may have arrived)."""

    status: OutcomeStatus
    detail: str


@dataclass(frozen=True, slots=True)
class Intent:
    kind: str
    channel: Channel
    fingerprint: str
    recipient: str
    quarter: str | None = None
    submitter: str | None = None
    subject: str = ""
    by: str = "jibao"
    message_id: str | None = None  # e-mail only; not part of the key

    @property
    def key(self) -> str:
        """Stable identity of this letter on this channel: the same on every run and resend."""
        raw = json.dumps([self.kind, self.channel, self.fingerprint], ensure_ascii=False)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at a delivery, handed to the transport: send exactly this."""

    key: str
    number: int
    intent: Intent
    message_id: str | None


@dataclass(frozen=True, slots=True)
class Record:
    """A delivery as the outbox holds it (its latest state)."""

    key: str
    kind: str
    channel: str
    fingerprint: str
    recipient: str
    quarter: str | None
    submitter: str | None
    subject: str
    message_id: str | None
    status: Status
    attempts: int
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    detail: str
    resolved_by: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """What `deliver` (or `recover`) did with one delivery.

    `status`: sent / failed (known failure; sent again next time) / unknown (its outcome is not
    known: nothing more is sent until the office resolves it) / skipped (already sent, nothing
    sent). `interrupted`: an earlier attempt was found cut off by a crash."""

    key: str
    intent: Intent
    status: ResultStatus
    detail: str
    attempt: int
    message_id: str | None = None
    interrupted: bool = False
    previous: Status | None = None  # the delivery's state before this call


def _now() -> dt.datetime:
    return clock.aware_now()


def _ts(value: dt.datetime) -> str:
    return value.isoformat()


_SCHEMA = """
create table if not exists deliveries (
    key          text primary key,
    kind         text not null,
    channel      text not null check (channel in ('file', 'email', 'webhook')),
    fingerprint  text not null,
    recipient    text not null,
    quarter      text,
    submitter    text,
    subject      text not null default '',
    message_id   text,
    status       text not null check (status in ('pending', 'sent', 'failed', 'unknown')),
    attempts     integer not null,
    created_at   text not null,
    created_by   text not null,
    updated_at   text not null,
    detail       text not null default '',
    resolved_by  text,
    resolved_at  text
);
create index if not exists deliveries_by_quarter on deliveries (quarter, kind);
create table if not exists attempts (
    key          text not null references deliveries (key),
    attempt      integer not null,
    requested_by text not null,
    recipient    text not null,
    started_at   text not null,
    finished_at  text,
    status       text not null check (status in ('pending', 'sent', 'failed', 'unknown')),
    detail       text not null default '',
    primary key (key, attempt)
);
"""


class Outbox:
    """The outbox file. Cheap to create; every method opens its own short connection, so one
    instance may be shared by threads (the console) and processes share the file safely."""

    def __init__(self, file: str | Path) -> None:
        self.file = Path(file)
        self.lock_file = self.file.with_name(self.file.name + ".lock")
        self.file.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)

    @classmethod
    def open(cls, paths: Paths) -> Outbox:
        return cls(paths.outbox / FILE_NAME)

    # ------------------------------------------------------------ storage

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.file, timeout=60, isolation_level=None)
        try:
            con.row_factory = sqlite3.Row
            con.execute("pragma journal_mode=wal")
            con.execute("pragma synchronous=full")  # a commit is on disk when it returns
            con.execute("pragma foreign_keys=on")
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One committed transaction (BEGIN IMMEDIATE: writers queue instead of failing)."""
        with self._connect() as con:
            con.execute("begin immediate")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Held by whoever has a delivery pending; released by the OS when a sender dies, so a
        pending row seen while holding it belongs to a sender that died."""
        with open(self.lock_file, "a") as fh:
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OutboxBusy(
                            self.lock_file,
                            f"发件箱 {self.file} 被另一发送进程占用超过 {LOCK_WAIT_SECONDS:.0f} 秒，"
                            "请稍后再试",
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @staticmethod
    def _record(row: sqlite3.Row) -> Record:
        return Record(
            key=row["key"],
            kind=row["kind"],
            channel=row["channel"],
            fingerprint=row["fingerprint"],
            recipient=row["recipient"],
            quarter=row["quarter"],
            submitter=row["submitter"],
            subject=row["subject"],
            message_id=row["message_id"],
            status=row["status"],
            attempts=row["attempts"],
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            created_by=row["created_by"],
            updated_at=dt.datetime.fromisoformat(row["updated_at"]),
            detail=row["detail"],
            resolved_by=row["resolved_by"],
        )

    @staticmethod
    def _intent(row: sqlite3.Row, by: str | None = None) -> Intent:
        return Intent(
            kind=row["kind"],
            channel=row["channel"],
            fingerprint=row["fingerprint"],
            recipient=row["recipient"],
            quarter=row["quarter"],
            submitter=row["submitter"],
            subject=row["subject"],
            by=by or row["created_by"],
            message_id=row["message_id"],
        )

    def find(self, prefix: str) -> Record:
        """The one delivery whose key starts with `prefix` (people type the first characters of
        the key a listing shows). OutboxError (Chinese message) otherwise."""
        prefix = prefix.strip().lower()
        with self._connect() as con:
            rows = con.execute(
                "select * from deliveries where key like ? || '%' limit 2", [prefix]
            ).fetchall()
        if len(prefix) < 4 or not rows:
            raise OutboxError(f"发件箱中没有标识以「{prefix}」开头的发送记录（至少输入 4 位）")
        if len(rows) > 1:
            raise OutboxError(f"标识「{prefix}」对应多条发送记录，请多输入几位")
        return self._record(rows[0])

    def get(self, key: str) -> Record | None:
        with self._connect() as con:
            row = con.execute("select * from deliveries where key = ?", [key]).fetchone()
        return self._record(row) if row else None

    def records(
        self,
        kinds: Iterable[str] | None = None,
        quarters: Iterable[str] | None = None,
        *,
        status: Iterable[str] | None = None,
    ) -> list[Record]:
        """Deliveries, oldest first, optionally of some kinds / quarters / states."""
        sql, params = "select * from deliveries where 1=1", []
        for column, values in (("kind", kinds), ("quarter", quarters), ("status", status)):
            if values is not None:
                values = list(values)
                sql += f" and {column} in ({','.join('?' * len(values))})"
                params += values
        with self._connect() as con:
            rows = con.execute(sql + " order by created_at, key", params).fetchall()
        return [self._record(r) for r in rows]

    def unresolved(
        self, kinds: Iterable[str] | None = None, quarters: Iterable[str] | None = None
    ) -> list[Record]:
        """Deliveries whose outcome is unknown: the office must check them (「发送结果不明」)."""
        return self.records(kinds, quarters, status=["unknown"])

    def sent_count(self, channel: str, recipient: str, since: dt.datetime) -> int:
        """How many deliveries went to `recipient` on `channel` since `since` (rate limits)."""
        with self._connect() as con:
            rows = con.execute(
                "select a.finished_at from attempts a join deliveries d on d.key = a.key "
                "where d.channel = ? and a.recipient = ? and a.status = 'sent'",
                [channel, recipient],
            ).fetchall()
        since = since if since.tzinfo else since.astimezone()
        return sum(1 for (at,) in rows if at and dt.datetime.fromisoformat(at) >= since)

    # ------------------------------------------------------------ state changes

    def _start(self, con: sqlite3.Connection, intent: Intent, row: sqlite3.Row | None) -> int:
        """Record the intent (a new delivery or a new attempt of a known one): pending."""
        now = _ts(_now())
        if row is None:
            con.execute(
                "insert into deliveries (key, kind, channel, fingerprint, recipient, quarter, "
                "submitter, subject, message_id, status, attempts, created_at, created_by, "
                "updated_at, detail) values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 1, ?, ?, ?, '')",
                [
                    intent.key, intent.kind, intent.channel, intent.fingerprint, intent.recipient,
                    intent.quarter, intent.submitter, intent.subject, intent.message_id, now,
                    intent.by, now,
                ],
            )  # fmt: skip
            number = 1
        else:
            number = row["attempts"] + 1
            con.execute(
                "update deliveries set status = 'pending', attempts = ?, recipient = ?, "
                "updated_at = ?, resolved_by = null, resolved_at = null where key = ?",
                [number, intent.recipient, now, intent.key],
            )
        con.execute(
            "insert into attempts (key, attempt, requested_by, recipient, started_at, status) "
            "values (?, ?, ?, ?, ?, 'pending')",
            [intent.key, number, intent.by, intent.recipient, now],
        )
        return number

    @staticmethod
    def _finish(con: sqlite3.Connection, key: str, number: int, status: Status, detail: str):
        now = _ts(_now())
        con.execute(
            "update attempts set status = ?, detail = ?, finished_at = ? "
            "where key = ? and attempt = ?",
            [status, detail, now, key, number],
        )
        con.execute(
            "update deliveries set status = ?, detail = ?, updated_at = ? where key = ?",
            [status, detail, now, key],
        )

    def _settle_interrupted(self, con: sqlite3.Connection, row: sqlite3.Row) -> Status:
        """A pending row under the lock: its sender died. Idempotent channels become failed (sent
        again), a webhook becomes unknown (never posted twice)."""
        if row["channel"] in IDEMPOTENT:
            status: Status = "failed"
            detail = f"{INTERRUPTED_NOTE}，将重新发送"
            if row["channel"] == "email" and row["message_id"]:
                detail += f"（Message-ID 不变：{row['message_id']}）"
        else:
            status, detail = "unknown", f"{INTERRUPTED_NOTE}，{UNKNOWN_NOTE}"
        self._finish(con, row["key"], row["attempts"], status, detail)
        return status

    def recover(
        self, kinds: Iterable[str] | None = None, quarters: Iterable[str] | None = None
    ) -> list[Result]:
        """Settle every delivery a dead sender left pending, and say what became of each."""
        out: list[Result] = []
        with self._exclusive():
            pending = self.records(kinds, quarters, status=["pending"])
            for rec in pending:
                with self._write() as con:
                    row = con.execute(
                        "select * from deliveries where key = ?", [rec.key]
                    ).fetchone()
                    if row["status"] != "pending":
                        continue
                    status = self._settle_interrupted(con, row)
                    after = con.execute(
                        "select detail from deliveries where key = ?", [rec.key]
                    ).fetchone()
                out.append(
                    Result(
                        rec.key, self._intent(row), status, after["detail"], row["attempts"],
                        row["message_id"], interrupted=True, previous="pending",
                    )
                )  # fmt: skip
        return out

    def deliver(
        self, intent: Intent, send: Callable[[Attempt], Outcome], *, rewrite: bool = False
    ) -> Result:
        """Send `intent` through `send` at most once per key (e-mail and files: again after a
        known failure or an interruption). See the module docstring for the rules. `rewrite`
        (file channel only): write again although recorded as done (the folder was cleaned)."""
        if rewrite and intent.channel != "file":
            raise ValueError("rewrite is for letter files only: a message is never sent twice")
        with self._exclusive():
            with self._write() as con:
                row = con.execute("select * from deliveries where key = ?", [intent.key]).fetchone()
                previous: Status | None = row["status"] if row else None
                interrupted = previous == "pending"
                if interrupted:
                    self._settle_interrupted(con, row)
                    row = con.execute(
                        "select * from deliveries where key = ?", [intent.key]
                    ).fetchone()
                again = rewrite and row is not None and row["status"] == "sent"
                if row is not None and row["status"] in ("sent", "unknown") and not again:
                    sent = row["status"] == "sent"
                    return Result(
                        intent.key, intent, "skipped" if sent else "unknown",
                        "已发送，不重复发送" if sent else row["detail"],
                        row["attempts"], row["message_id"], interrupted, previous,
                    )  # fmt: skip
                message_id = row["message_id"] if row is not None else intent.message_id
                number = self._start(con, replace(intent, message_id=message_id), row)
            attempt = Attempt(intent.key, number, intent, message_id)
            self._fault("intent", attempt)
            try:
                outcome = send(attempt)
            except Exception as exc:  # a transport must not stop the run: record it instead
                kind = "failed" if intent.channel in IDEMPOTENT else "unknown"
                outcome = Outcome(kind, f"{type(exc).__name__}: {exc}")
            self._fault("sent", attempt)
            status: Status = outcome.status
            detail = outcome.detail
            if status == "unknown":
                if intent.channel in IDEMPOTENT:
                    status, detail = "failed", f"{detail}（结果不明，将以相同内容重发）"
                else:
                    detail = f"{detail}；{UNKNOWN_NOTE}"
            with self._write() as con:
                self._finish(con, intent.key, number, status, detail)
            self._fault("recorded", attempt)
        return Result(intent.key, intent, status, detail, number, message_id, interrupted, previous)

    def resolve(self, key: str, *, delivered: bool, by: str, note: str = "") -> Record:
        """The office checked an unknown delivery: it arrived (never send again) or it did not
        (send again next time). Only unknown deliveries can be resolved."""
        with self._exclusive(), self._write() as con:
            row = con.execute("select * from deliveries where key = ?", [key]).fetchone()
            if row is None:
                raise OutboxError(f"发件箱中没有发送记录 {key}")
            if row["status"] != "unknown":
                raise OutboxError(
                    f"发送记录 {key} 的状态为「{STATUS_ZH[row['status']]}」，只有结果不明的发送需要核实"
                )
            status: Status = "sent" if delivered else "failed"
            verdict = "已核实收到" if delivered else "已核实未收到，将重新发送"
            detail = f"{row['detail']}；{by} {verdict}" + (f"：{note}" if note else "")
            self._finish(con, key, row["attempts"], status, detail)
            con.execute(
                "update deliveries set resolved_by = ?, resolved_at = ? where key = ?",
                [by, _ts(_now()), key],
            )
        rec = self.get(key)
        assert rec is not None
        return rec

    @staticmethod
    def _fault(stage: str, attempt: Attempt) -> None:
        for hook in list(_fault_hooks):
            hook(stage, attempt)

    # ------------------------------------------------------------ the warehouse copy

    def attempt_rows(self) -> list[dict]:
        """One row per attempt, with its delivery's identity: what `alert_deliveries` holds."""
        with self._connect() as con:
            rows = con.execute(
                """
                select a.key || '-' || a.attempt as alert_id, d.key as delivery_key, d.kind,
                       d.quarter, d.submitter, d.channel, d.fingerprint, a.recipient,
                       d.message_id, d.subject, a.attempt, d.created_at, a.requested_by,
                       a.started_at, coalesce(a.finished_at, a.started_at) as sent_at,
                       a.status, a.detail
                from attempts a join deliveries d on d.key = a.key
                order by a.started_at, d.key, a.attempt
                """
            ).fetchall()
        return [dict(r) for r in rows]


WAREHOUSE_COLUMNS: Sequence[str] = (
    "alert_id", "delivery_key", "kind", "quarter", "submitter", "channel", "fingerprint",
    "recipient", "message_id", "subject", "attempt", "created_at", "requested_by", "started_at",
    "sent_at", "status", "detail",
)  # fmt: skip


def _local_naive(text: str | None) -> dt.datetime | None:
    """Warehouse timestamps are local wall-clock time (as the rest of the ledger)."""
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    return value.astimezone().replace(tzinfo=None) if value.tzinfo else value


def load_into_warehouse(con, paths: Paths) -> int:
    """Replace the rows of the warehouse's `alert_deliveries` (sql/03_alert_deliveries.sql) with
    a copy of the outbox, inside a build. Returns the number of rows; no outbox yet = none."""
    import polars as pl

    from pipelines.warehouse.frames import insert_frame

    file = paths.outbox / FILE_NAME
    con.execute("delete from alert_deliveries")
    try:
        rows = Outbox(file).attempt_rows() if file.exists() else []
    except sqlite3.DatabaseError as exc:  # the copy is for analysts: never fail a build for it
        log.warning("发件箱 %s 无法读取，本次入库的 alert_deliveries 为空：%s", file, exc)
        return 0
    if rows:
        times = ("created_at", "started_at", "sent_at")
        frame = pl.DataFrame(
            {c: [_local_naive(r[c]) if c in times else r[c] for r in rows] for c in WAREHOUSE_COLUMNS},
            schema={c: pl.Datetime("us") if c in times else pl.Int32 if c == "attempt" else pl.String
                    for c in WAREHOUSE_COLUMNS},
        )  # fmt: skip
        insert_frame(con, "alert_deliveries", frame)
    return len(rows)
