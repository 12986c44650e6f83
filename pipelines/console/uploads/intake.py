"""Upload → the one front door → the one receipt → a refresh request (paperless-ngx's shape:
every channel joins one consumer).

`submit` runs in the request: it archives the bytes by content hash (the file is kept whatever
happens next), writes a pending record and queues `_answer` in a bounded thread pool, then the
request returns. `_answer` runs the front door (`validate_paths`, with its reader worker pool
and limits) on the archived copy, decides the quarter (the front door's, else the collection
window the receipt time falls in), records the receipt through `receive_bytes` — which places the
file in the quarter's drop folder — and asks for a refresh through the run queue. The page
polls the record. Twenty uploaders at once wait in the pool's queue, never on each other's
request threads, and the board's requests never wait on a verdict.

A file whose 填报单位 is another unit is archived but not received as a return: a unit reports
for itself.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import os
import secrets
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from pipelines import periods
from pipelines.console.clock import office_now
from pipelines.console.conf import console_config
from pipelines.console.labels import SEVERITY_ZH, STATUS_ZH
from pipelines.console.refresh import request_refresh
from pipelines.console.uploads import records
from pipelines.console.uploads.records import DONE, FAILED, IssueView, ReturnView, UploadRecord
from pipelines.forms import load_forms
from pipelines.model import ReturnResult
from pipelines.paths import Paths
from pipelines.sanitize import one_line, safe_filename
from pipelines.warehouse.archive import archive_file

log = logging.getLogger(__name__)


class Busy(Exception):
    """Too many uploads are waiting for a verdict (config/console.yaml › upload.queue_limit)."""


_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid = 0
_in_flight: set[str] = set()


def _pool() -> ThreadPoolExecutor:
    """One bounded pool per server process (created after gunicorn forks its workers)."""
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            workers = int(console_config()["upload"]["verdict_workers"])
            _executor = ThreadPoolExecutor(workers, thread_name_prefix="jibao-verdict")
            _executor_pid = os.getpid()
        return _executor


def _queue(paths: Paths, record: UploadRecord, archived: Path) -> Future:
    limit = int(console_config()["upload"]["queue_limit"])
    with _lock:
        if len(_in_flight) >= limit:
            raise Busy("当前上传较多，请稍后再试")
        _in_flight.add(record.upload_id)
    return _pool().submit(_answer_safely, paths, record, archived)


def submit(paths: Paths, name: str, source: Path, *, by: str, unit: str) -> UploadRecord:
    """Receive one uploaded file (already on disk at `source`); returns its pending record.
    Raises Busy when the queue is full (the file is then not taken)."""
    received_at = office_now()  # the channel's proof of timeliness: when the server got it
    sha, archived = archive_file(source, paths.archive, suffix=Path(safe_filename(name)).suffix)
    record = UploadRecord(
        upload_id=secrets.token_hex(12),
        name=safe_filename(name, default="报送文件"),
        size=archived.stat().st_size,
        sha256=sha,
        received_at=received_at.isoformat(timespec="seconds"),
        by=by,
        unit=unit,
        pid=os.getpid(),
    )
    records.save(paths, record)
    _queue(paths, record, archived)
    return record


def resume_orphans(paths: Paths) -> int:
    """Answer pending uploads whose server process died before it answered (called when a
    server process starts and when a page finds such a record)."""
    n = 0
    for rec in records.pending(paths):
        if rec.upload_id in _in_flight or _alive(rec.pid):
            continue
        archived = _archived(paths, rec)
        if archived is None:
            continue
        rec.pid = os.getpid()
        records.save(paths, rec)
        with contextlib.suppress(Busy):
            _queue(paths, rec, archived)
            n += 1
    return n


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _archived(paths: Paths, rec: UploadRecord) -> Path | None:
    found = sorted(paths.archive.glob(f"{rec.sha256}*"))
    return found[0] if found else None


def _answer_safely(paths: Paths, record: UploadRecord, archived: Path) -> UploadRecord:
    try:
        return answer(paths, record, archived)
    except Exception as exc:  # the server must outlive any file: the record says what happened
        log.exception("upload %s failed", record.upload_id)
        record.state = FAILED
        record.note = f"处理时出错（{type(exc).__name__}），文件已保存，办公室将跟进处理"
        record.finished_at = office_now().isoformat(timespec="seconds")
        records.save(paths, record)
        return record
    finally:
        with _lock:
            _in_flight.discard(record.upload_id)


def answer(paths: Paths, record: UploadRecord, archived: Path) -> UploadRecord:
    """The front door's verdict on the archived copy, the receipt, the refresh; saved."""
    from pipelines.validate import validate_paths

    received_at = dt.datetime.fromisoformat(record.received_at)
    results = validate_paths([archived])
    quarter = _quarter_of(results)
    if quarter is None:
        # The drop folder will name the quarter: judge the file as the pipeline will judge it.
        quarter = str(periods.collecting_quarter(received_at.date()))
        if any(r.quarter is None and r.form for r in results):
            results = validate_paths([archived], quarter=quarter)
    record.returns = [_view(r) for r in results]
    record.quarter = quarter
    others = sorted({r.submitter for r in results if r.submitter and r.submitter != record.unit})
    if others:
        record.note = (
            f"此文件的填报单位是「{'、'.join(others)}」，不是本账户的单位「{record.unit}」："
            "文件已存档，但未作为本单位的报送接收。请上传本单位的报表。"
        )
    else:
        from pipelines.warehouse.receipts import receive_bytes

        receipt = receive_bytes(
            paths,
            record.name,
            archived.read_bytes(),
            channel="upload",
            received_at=received_at,
            quarter=quarter,
            by=record.by,
        )
        record.received, record.receipt_id = True, receipt.receipt_id
        record.note = request_refresh(paths, [quarter], source=f"upload:{record.by}").note
    record.state = DONE
    record.finished_at = office_now().isoformat(timespec="seconds")
    records.save(paths, record)
    return record


def _quarter_of(results: list[ReturnResult]) -> str | None:
    found = collections.Counter(r.quarter for r in results if r.quarter)
    return found.most_common(1)[0][0] if found else None


def _view(r: ReturnResult) -> ReturnView:
    forms = load_forms()
    q = periods.Quarter.parse(r.quarter) if r.quarter else None
    return ReturnView(
        sheet=one_line(r.sheet) if r.sheet else None,
        form=r.form,
        form_name=forms[r.form].name if r.form else "（未识别到季报表）",
        submitter=r.submitter,
        quarter=r.quarter,
        quarter_label=q.label if q else "（季度不明）",
        status=r.status,
        status_label=STATUS_ZH[r.status],
        issues=[
            IssueView(
                severity=i.severity,
                severity_label=SEVERITY_ZH[i.severity],
                rule=i.rule,
                cell=i.cell,
                value=one_line(i.value) if i.value not in (None, "") else None,
                message=i.message,
            )
            for i in r.issues
        ],
    )
