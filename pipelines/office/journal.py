"""The office journal: every decision the office takes, with who and when, in one append-only file.

data/office/journal.jsonl holds one JSON object per line (an `OfficeAction`). Lines are only ever
appended — under an exclusive lock on journal.jsonl.lock, flushed and fsync'd before the call
returns — and never rewritten, so the file is the office's record and the warehouse's
`office_actions` table is a copy of it, rebuilt at every load.

A crash while appending can leave a torn last line. Reading skips it (and any other line that is
not a complete record) with a warning naming the line; the next append starts on a fresh line, so
the fragment stays where it is and nothing written after it is lost.

API:
- `OfficeAction(action_id, acted_at, actor, action, quarter, submitter, form, target, reason,
  source)`; `action` ∈ ACTIONS (accept, send_back, close, reopen); `target` is the cell ("K7") or
  rule id an acceptance explains, the submission id a send-back returns, None for close/reopen;
  `source` is "office" (CLI, console) or "explanations.csv" (imported).
- `journal_path(paths)`, `read_actions(paths, quarter=None) -> list[OfficeAction]` (journal order),
- `append(paths, action)`, `transact(paths, decide)` (decide sees the journal under the lock and
  returns the action to append, or raises), `append_new(paths, actions)` (skips ids already
  there: the idempotent import).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipelines import clock
from pipelines.fsio import fsync_dir, locked
from pipelines.paths import Paths

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.jsonl"

# Action → how the office names it.
ACTIONS = {
    "accept": "强制上报",
    "send_back": "退回",
    "close": "审核锁定",
    "reopen": "重新开放",
}
SOURCE_OFFICE = "office"
SOURCE_CSV = "explanations.csv"


@dataclass(frozen=True, slots=True)
class OfficeAction:
    """One decision of the office."""

    action_id: str
    acted_at: dt.datetime  # office local time, seconds (naive, like every time in the ledger)
    actor: str  # the logged-in user, the login user of the CLI, or 「explanations.csv」
    action: str  # accept | send_back | close | reopen
    quarter: str
    submitter: str | None = None
    form: str | None = None
    target: str | None = None  # accept: cell or rule id; send_back: submission id
    reason: str = ""
    source: str = SOURCE_OFFICE
    seq: int = field(default=0, compare=False)  # line in the journal (set when read)

    @property
    def label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    def to_json(self) -> str:
        d = asdict(self)
        d.pop("seq")
        d["acted_at"] = self.acted_at.isoformat(timespec="seconds")
        return json.dumps(d, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, line: str, seq: int = 0) -> OfficeAction:
        d = json.loads(line)
        if not isinstance(d, dict) or d.get("action") not in ACTIONS:
            raise ValueError("not an office action")
        d["acted_at"] = dt.datetime.fromisoformat(d["acted_at"])
        known = {k: v for k, v in d.items() if k in _FIELDS}  # a newer writer's extra keys
        return cls(**known, seq=seq)


_FIELDS = frozenset(OfficeAction.__dataclass_fields__) - {"seq"}


def new_action_id() -> str:
    return uuid.uuid4().hex[:16]


def now() -> dt.datetime:
    return clock.now()


def journal_path(paths: Paths) -> Path:
    return paths.data / "office" / JOURNAL_FILE


def _read(path: Path) -> list[OfficeAction]:
    if not path.exists():
        return []
    out: list[OfficeAction] = []
    lines = path.read_bytes().split(b"\n")
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            out.append(OfficeAction.from_json(raw.decode("utf-8"), seq=n))
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            torn = n == len(lines)  # no newline after it: cut off while being written
            log.warning(
                "办公室操作日志 %s 第 %d 行%s，已跳过（日志不会被改写）",
                path,
                n,
                "不完整（可能写入时中断）" if torn else "无法读取",
            )
    return out


def read_actions(paths: Paths, quarter: str | None = None) -> list[OfficeAction]:
    """Every decision (of `quarter`), in the order taken."""
    actions = _read(journal_path(paths))
    return [a for a in actions if quarter is None or a.quarter == str(quarter)]


def _write(path: Path, actions: Iterable[OfficeAction]) -> None:
    created = not path.exists()
    with open(path, "ab") as fh:
        if not created and fh.tell() > 0:
            with open(path, "rb") as check:
                check.seek(-1, os.SEEK_END)
                if check.read(1) != b"\n":
                    fh.write(b"\n")  # after a torn line: start afresh, leave the fragment alone
        for a in actions:
            fh.write((a.to_json() + "\n").encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())
    if created:
        fsync_dir(path.parent)


def transact(
    paths: Paths, decide: Callable[[list[OfficeAction]], OfficeAction | None]
) -> OfficeAction | None:
    """Read the journal under its lock, let `decide` check the decision against it (it raises to
    refuse) and return the action to append; appended durably before this returns."""
    path = journal_path(paths)
    with locked(path):
        action = decide(_read(path))
        if action is not None:
            _write(path, [action])
    return action


def append(paths: Paths, action: OfficeAction) -> OfficeAction:
    """Append one decision (no checks: decisions.py checks before it calls this)."""
    transact(paths, lambda _: action)
    return action


def append_new(paths: Paths, actions: Iterable[OfficeAction]) -> list[OfficeAction]:
    """Append the actions whose ids are not in the journal yet; returns those appended."""
    path = journal_path(paths)
    with locked(path):
        have = {a.action_id for a in _read(path)}
        fresh = []
        for a in actions:
            if a.action_id not in have:
                have.add(a.action_id)
                fresh.append(a)
        if fresh:
            _write(path, fresh)
    return fresh
