"""The one receipt: what every channel (drop folder, upload page, mailbox) records when a file
arrives, so that timeliness is judged by when it reached the office, whatever way it came.

A channel calls `receive_bytes` the moment it holds the bytes. The file is archived under its
sha256 (data/archive/), a copy is placed in the quarter's drop folder
(data/raw/<quarter>/<channel label>/<name>) so the office sees it where it sees every other
return and the drop-folder sensor requests the refresh, and one line is appended to the receipts
journal (data/receipts/receipts.jsonl: append-only, fsync'd, never rewritten). When the drop
folder is scanned, a file's received time is its earliest receipt (received.csv, typed by the
office, still wins), and the ledger records the channel, who sent it and the Message-ID.

Receiving is idempotent per (channel, message_id, sha256): a mail processed again after a crash
returns the receipt it already has instead of recording a second one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from pipelines.fsio import atomic_write_bytes, fsync_dir, locked
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.sanitize import safe_filename
from pipelines.warehouse.archive import archive_file

log = logging.getLogger(__name__)

# How each channel is named in the drop folder and to the office.
CHANNEL_LABELS = {"folder": "报送文件夹", "upload": "网页上传", "mail": "电子邮件"}
RECEIPTS_FILE = "receipts.jsonl"


@dataclass(frozen=True, slots=True)
class Receipt:
    """One arrival of one file by one channel."""

    receipt_id: str
    sha256: str
    name: str  # the file name as sent, sanitised
    channel: str  # folder | upload | mail
    received_at: dt.datetime  # office local time (naive, like every time in the ledger)
    quarter: str
    drop_path: str  # where the copy sits, relative to the data root's raw/ folder
    by: str | None = None  # the uploader's account or the sender's address
    message_id: str | None = None  # the e-mail's Message-ID

    def to_json(self) -> str:
        d = asdict(self)
        d["received_at"] = self.received_at.isoformat()  # to the microsecond: orders versions
        return json.dumps(d, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Receipt:
        d = json.loads(line)
        d["received_at"] = dt.datetime.fromisoformat(d["received_at"])
        return cls(**d)


def receipts_path(paths: Paths) -> Path:
    return paths.data / "receipts" / RECEIPTS_FILE


def read_receipts(paths: Paths, quarter: str | Quarter | None = None) -> list[Receipt]:
    """Every receipt (of `quarter`), in the order received. A torn last line (a crash while
    appending) is skipped with a warning: the copy it describes is still archived."""
    path = receipts_path(paths)
    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = Receipt.from_json(line)
        except (ValueError, TypeError, KeyError):
            log.warning("%s 第 %d 行无法读取（可能写入时中断），已跳过", path, n)
            continue
        if quarter is None or r.quarter == str(quarter):
            out.append(r)
    return out


def earliest_by_sha(paths: Paths, quarter: str | Quarter) -> dict[str, Receipt]:
    """The earliest receipt of each content received for `quarter`."""
    out: dict[str, Receipt] = {}
    for r in read_receipts(paths, quarter):
        if r.sha256 not in out or r.received_at < out[r.sha256].received_at:
            out[r.sha256] = r
    return out


def _receipt_id(channel: str, sha256: str, received_at: dt.datetime, message_id: str | None) -> str:
    key = f"{channel}\0{sha256}\0{message_id or received_at.isoformat()}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def _drop_copy(paths: Paths, quarter: str, channel: str, name: str, archived: Path) -> Path:
    """Place the content in the quarter's drop folder under its channel's label; a different
    file already there under the same name gets 「（2）」, the same content is not copied again."""
    folder = paths.raw_quarter(quarter) / CHANNEL_LABELS.get(channel, channel)
    stem, suffix = Path(name).stem, Path(name).suffix
    data = archived.read_bytes()
    candidate, n = folder / name, 2
    while candidate.exists():
        if candidate.read_bytes() == data:
            return candidate
        candidate, n = folder / f"{stem}（{n}）{suffix}", n + 1
    atomic_write_bytes(candidate, data)
    return candidate


def receive_bytes(
    paths: Paths,
    name: str,
    data: bytes,
    *,
    channel: str,
    received_at: dt.datetime,
    quarter: str | Quarter,
    by: str | None = None,
    message_id: str | None = None,
) -> Receipt:
    """Archive `data`, place it in `quarter`'s drop folder and record its receipt; returns the
    receipt (the existing one when this channel already received this content for this
    message). `received_at` is the channel's proof of timeliness: the server's receipt time for
    an upload, the mailbox's INTERNALDATE for an e-mail. The quarter is the caller's decision
    (the front door's, else the collection window the receipt falls in)."""
    quarter = str(quarter)
    channel = str(channel)
    safe = safe_filename(name, default="报送文件")
    # Kept to the microsecond: the ledger ranks two versions sent within one second by it.
    path = receipts_path(paths)
    with locked(path):
        digest = hashlib.sha256(data).hexdigest()
        rid = _receipt_id(channel, digest, received_at, message_id)
        if message_id:
            for r in read_receipts(paths, quarter):
                if r.receipt_id == rid:
                    return r
        incoming = paths.archive / f".incoming-{rid}"
        atomic_write_bytes(incoming, data)
        try:
            sha, archived = archive_file(incoming, paths.archive, suffix=Path(safe).suffix)
        finally:
            incoming.unlink(missing_ok=True)
        copy = _drop_copy(paths, quarter, channel, safe, archived)
        receipt = Receipt(
            receipt_id=rid,
            sha256=sha,
            name=safe,
            channel=channel,
            received_at=received_at,
            quarter=quarter,
            drop_path=copy.relative_to(paths.raw).as_posix(),
            by=by,
            message_id=message_id,
        )
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(receipt.to_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(path.parent)
    return receipt
