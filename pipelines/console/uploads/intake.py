"""Upload → the one front door → the one receipt → a refresh request (paperless-ngx's shape:
every channel joins one consumer).

`submit` runs in the request: it archives the bytes by content hash (the file is kept whatever
happens next), writes a pending record and queues the upload for a bounded pool of verdict
threads, then the request returns. A verdict thread takes every upload waiting and runs the
front door (`validate_paths`, with its reader worker pool and limits) once on their archived
copies; `answer` then decides each one's quarter (the front door's, else the collection window
its receipt time falls in) and records its receipt through `receive_bytes` — which places the
file in the quarter's drop folder — and one refresh is requested through the run queue. The page
polls the record. Twenty uploaders at once wait in the queue, never on each other's request
threads, and the board's requests never wait on a verdict.

A file whose 填报单位 is another unit is archived but not received as a return: a unit reports
for itself.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import os
import queue
import secrets
import threading
from pathlib import Path

from pipelines import periods
from pipelines.console.clock import office_now, receipt_time
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


Job = tuple[Paths, UploadRecord, Path]  # (data root, pending record, archived copy)

_lock = threading.Lock()
_jobs: queue.Queue[Job] = queue.Queue()
_threads_pid = 0
_in_flight: set[str] = set()


def _start_threads() -> None:
    """The bounded pool: `verdict_workers` threads per server process (started after gunicorn
    forks its workers). Each takes every upload waiting at that moment (up to `batch_max`) into
    one front-door call — the front door is built for batches (one rules pass per form) — so a
    crowd of uploaders costs less per file than one uploader, not more."""
    global _threads_pid
    if _threads_pid == os.getpid():
        return
    _threads_pid = os.getpid()
    for n in range(int(console_config()["upload"]["verdict_workers"])):
        threading.Thread(target=_serve_jobs, name=f"jibao-verdict-{n}", daemon=True).start()


def _serve_jobs() -> None:
    batch_max = int(console_config()["upload"]["batch_max"])
    while True:
        batch = [_jobs.get()]
        while len(batch) < batch_max:
            try:
                batch.append(_jobs.get_nowait())
            except queue.Empty:
                break
        _answer_batch(batch)


def _queue(paths: Paths, record: UploadRecord, archived: Path) -> None:
    limit = int(console_config()["upload"]["queue_limit"])
    with _lock:
        if len(_in_flight) >= limit:
            raise Busy("当前上传较多，请稍后再试")
        _in_flight.add(record.upload_id)
        _start_threads()
    _jobs.put((paths, record, archived))


def submit(paths: Paths, name: str, source: Path, *, by: str, unit: str) -> UploadRecord:
    """Receive one uploaded file (already on disk at `source`); returns its pending record.
    Raises Busy when the queue is full (the file is then not taken)."""
    received_at = receipt_time()  # the channel's proof of timeliness: when the server got it
    sha, archived = archive_file(source, paths.archive, suffix=Path(safe_filename(name)).suffix)
    record = UploadRecord(
        upload_id=secrets.token_hex(12),
        name=safe_filename(name, default="报送文件"),
        size=archived.stat().st_size,
        sha256=sha,
        received_at=received_at.isoformat(),  # to the microsecond: orders two quick uploads
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


def _answer_batch(batch: list[Job]) -> None:
    """One front-door call for the batch, then each upload's receipt; one refresh request per
    data root for the quarters received. No upload's failure touches another's record."""
    from pipelines.validate import validate_paths

    by_root: dict[Paths, list[Job]] = collections.defaultdict(list)
    for job in batch:
        by_root[job[0]].append(job)
    for paths, jobs in by_root.items():
        try:
            files = list(dict.fromkeys(str(archived) for _, _, archived in jobs))
            found: dict[str, list[ReturnResult]] = collections.defaultdict(list)
            for r in validate_paths(files):
                found[r.file].append(r)
        except Exception as exc:  # each record then says what happened
            for _, record, _ in jobs:
                _failed(paths, record, exc)
            continue
        received: list[UploadRecord] = []
        for _, record, archived in jobs:
            try:
                if answer(paths, record, archived, found[str(archived)]):
                    received.append(record)
            except Exception as exc:  # the server must outlive any file
                _failed(paths, record, exc)
        for record in received:  # the verdict first: asking the run queue may take seconds
            _finish(paths, record, "已接收，正在请求更新数据")
        if received:
            users = sorted({r.by for r in received})
            note = request_refresh(
                paths, sorted({r.quarter for r in received}), source=f"upload:{','.join(users)}"
            ).note
            for record in received:
                _finish(paths, record, note)
    with _lock:
        for _, record, _ in batch:
            _in_flight.discard(record.upload_id)


def _failed(paths: Paths, record: UploadRecord, exc: Exception) -> None:
    log.error("upload %s failed", record.upload_id, exc_info=exc)
    record.state = FAILED
    record.note = f"处理时出错（{type(exc).__name__}），文件已保存，办公室将跟进处理"
    _finish(paths, record, record.note)


def _finish(paths: Paths, record: UploadRecord, note: str) -> None:
    if record.state != FAILED:
        record.state = DONE
    record.note = note
    record.finished_at = office_now().isoformat(timespec="seconds")
    records.save(paths, record)


def answer(paths: Paths, record: UploadRecord, archived: Path, results: list[ReturnResult]) -> bool:
    """Settle one upload from the front door's `results` on its archived copy: its verdict, its
    quarter, its receipt. True when it was received as a return (the caller then requests the
    refresh and saves the record); a file of another unit is finished here, archived only."""
    from pipelines.validate import validate_paths

    received_at = dt.datetime.fromisoformat(record.received_at)
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
        _finish(
            paths,
            record,
            f"此文件的填报单位是「{'、'.join(others)}」，不是本账户的单位「{record.unit}」："
            "文件已存档，但未作为本单位的报送接收。请上传本单位的报表。",
        )
        return False
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
    return True


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
