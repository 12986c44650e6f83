"""Upload records: what the page shows about one uploaded file — its receipt and the front
door's verdict — kept as one JSON file per upload under data/console/uploads/<unit code>/.

A record is written pending when the bytes are archived and rewritten once the verdict is in
(atomically: a reader sees the old record or the new one). It is the console's note of what it
answered, not a copy of the ledger: the warehouse's own ledger is built from the drop folder.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipelines.fsio import atomic_write_text
from pipelines.paths import Paths
from pipelines.registry import load_registry

PENDING, DONE, FAILED = "pending", "done", "failed"
_ID = re.compile(r"[0-9a-f]{24}")


@dataclass
class IssueView:
    severity: str  # error | warning
    severity_label: str  # 错误 | 提示
    rule: str
    cell: str | None
    value: str | None  # the value found
    message: str  # the fix, in the letters' words


@dataclass
class ReturnView:
    sheet: str | None
    form: str | None
    form_name: str
    submitter: str | None
    quarter: str | None
    quarter_label: str
    status: str  # accepted | rejected | unreadable
    status_label: str  # 通过 | 退回 | 无法读取
    issues: list[IssueView] = field(default_factory=list)


@dataclass
class UploadRecord:
    upload_id: str
    name: str  # as sent, sanitised
    size: int
    sha256: str
    received_at: str  # ISO, office time
    by: str
    unit: str
    state: str = PENDING
    pid: int = 0  # the server process answering it
    returns: list[ReturnView] = field(default_factory=list)
    quarter: str | None = None
    received: bool = False  # recorded as a return through the receipt (else archived only)
    receipt_id: str | None = None
    note: str = ""  # what else the page says (refresh requested, wrong unit, failure)
    finished_at: str | None = None

    @property
    def status_label(self) -> str:
        if self.state == PENDING:
            return "检查中"
        if self.state == FAILED:
            return "处理出错"
        statuses = {r.status for r in self.returns}
        if statuses == {"accepted"}:
            return "通过"
        if "unreadable" in statuses and len(statuses) == 1:
            return "无法读取"
        return "退回"

    @property
    def received_label(self) -> str:
        return self.received_at.replace("T", " ")[:16]

    @property
    def ok(self) -> bool:
        return self.state == DONE and self.status_label == "通过" and self.received

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> UploadRecord:
        d = json.loads(text)
        rets = []
        for r in d.pop("returns", []):
            issues = [IssueView(**i) for i in r.pop("issues", [])]
            rets.append(ReturnView(**r, issues=issues))
        return cls(**d, returns=rets)


def uploads_dir(paths: Paths) -> Path:
    return paths.data / "console" / "uploads"


def unit_folder(paths: Paths, unit: str) -> Path:
    try:
        code = load_registry().by_name(unit).code
    except KeyError:
        code = "_unknown"
    return uploads_dir(paths) / code


def save(paths: Paths, record: UploadRecord) -> None:
    atomic_write_text(
        unit_folder(paths, record.unit) / f"{record.upload_id}.json", record.to_json()
    )


def load(paths: Paths, upload_id: str) -> UploadRecord | None:
    """The record of `upload_id`, whatever unit it belongs to (the caller checks the scope)."""
    if not _ID.fullmatch(upload_id):
        return None
    root = uploads_dir(paths)
    if not root.is_dir():
        return None
    for folder in root.iterdir():
        path = folder / f"{upload_id}.json"
        if path.is_file():
            return UploadRecord.from_json(path.read_text(encoding="utf-8"))
    return None


def of_unit(paths: Paths, unit: str, limit: int = 200) -> list[UploadRecord]:
    """The unit's uploads, newest first."""
    folder = unit_folder(paths, unit)
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.json"), key=os.path.getmtime, reverse=True)[:limit]
    out = [UploadRecord.from_json(f.read_text(encoding="utf-8")) for f in files]
    return sorted(out, key=lambda r: (r.received_at, r.upload_id), reverse=True)


def pending(paths: Paths) -> list[UploadRecord]:
    root = uploads_dir(paths)
    if not root.is_dir():
        return []
    out = []
    for path in root.glob("*/*.json"):
        rec = UploadRecord.from_json(path.read_text(encoding="utf-8"))
        if rec.state == PENDING:
            out.append(rec)
    return out
