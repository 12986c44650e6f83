"""The submitter's page: upload (several files, drag and drop or the picker), each file's verdict
as soon as the front door gives it, the unit's versions, letters and blank template."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from pipelines.console import files, labels, reads
from pipelines.console.accounts.access import returns_readers, scope_of, submitter_only
from pipelines.console.conf import console_config, max_upload_bytes
from pipelines.console.uploads import intake, records
from pipelines.console.uploads.handlers import LimitedUploadHandler
from pipelines.sanitize import one_line

STATUS_ZH = labels.STATUS_ZH


def _shown_ids(request) -> list[str]:
    raw = request.GET.get("shown", "")
    return [x for x in raw.split(",") if x][: int(console_config()["upload"]["max_files"])]


@submitter_only
@require_GET
def index(request):
    paths, unit = settings.PATHS, request.user.unit
    scope = scope_of(request.user)
    shown = [r for r in (records.load(paths, i) for i in _shown_ids(request)) if r]
    shown = [r for r in shown if scope.allows(r.unit)]
    versions = labels.versions(reads.history(paths, scope, unit))
    known = {v["sha256"] for v in versions}
    waiting = [r for r in records.of_unit(paths, unit) if r.received and r.sha256 not in known]
    if any(r.state == records.PENDING for r in shown):
        intake.resume_orphans(paths)
    return render(
        request,
        "uploads/index.html",
        {
            "unit": unit,
            "shown": shown,
            "any_pending": any(r.state == records.PENDING for r in shown),
            "versions": versions,
            "waiting": waiting,
            "letters": files.letters(paths, unit),
            "limits": console_config()["upload"],
            "status_zh": STATUS_ZH,
        },
    )


@csrf_exempt  # the upload handler must be set before CSRF reads the body; checked just below
@submitter_only
@require_POST
def upload(request):
    request.upload_handlers = [LimitedUploadHandler(request, max_bytes=max_upload_bytes())]
    return _upload(request)


@csrf_protect
def _upload(request):
    paths, user = settings.PATHS, request.user
    limits = console_config()["upload"]
    handler = request.upload_handlers[0]
    incoming = request.FILES.getlist("files")
    refused = [f"「{one_line(n)}」超过 {limits['max_file_mb']} MB，未接收" for n in handler.refused]
    if len(incoming) > int(limits["max_files"]):
        refused.append(
            f"一次最多上传 {limits['max_files']} 个文件，本次 {len(incoming)} 个，请分批上传"
        )
        incoming = []
    taken = []
    for f in incoming:
        try:
            with _as_path(f) as source:
                rec = intake.submit(paths, f.name, source, by=user.get_username(), unit=user.unit)
        except intake.Busy as exc:
            refused.append(f"「{one_line(f.name)}」：{exc}")
            continue
        taken.append(rec)
    if not taken and not refused:
        refused.append("没有收到文件，请选择要上传的报表")
    for text in refused:
        messages.error(request, text)
    shown = ",".join(r.upload_id for r in taken)
    return redirect(
        f"{reverse('uploads:index')}?shown={shown}" if shown else reverse("uploads:index")
    )


@contextlib.contextmanager
def _as_path(f) -> Iterator[Path]:
    """Uploaded content as a path: larger files are already in a temporary file, small ones
    are written to one (removed once archived: the archive keeps its own copy)."""
    if hasattr(f, "temporary_file_path"):
        yield Path(f.temporary_file_path())
        return
    fd, name = tempfile.mkstemp(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in f.chunks():
                out.write(chunk)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _record_for(request, upload_id: str) -> records.UploadRecord:
    rec = records.load(settings.PATHS, upload_id)
    if rec is None:
        raise Http404("没有这次上传")
    scope_of(request.user).require(rec.unit)
    return rec


@submitter_only
@require_GET
def status(request, upload_id: str):
    """For the page's script: is the verdict in yet?"""
    rec = _record_for(request, upload_id)
    if rec.state == records.PENDING:
        intake.resume_orphans(settings.PATHS)
    return JsonResponse(
        {
            "state": rec.state,
            "status": rec.status_label,
            "fragment": reverse("uploads:fragment", args=[rec.upload_id]),
        }
    )


@submitter_only
@require_GET
def fragment(request, upload_id: str):
    rec = _record_for(request, upload_id)
    return render(request, "uploads/_verdict.html", {"rec": rec})


@submitter_only
@require_GET
def letter(request, quarter: str, name: str):
    return files.download(files.letter(settings.PATHS, request.user.unit, quarter, name))


@submitter_only
@require_GET
def template(request):
    name, data = files.template_for(request.user.unit)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = _attachment(name)
    return response


def _attachment(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(name)}"


@returns_readers
@require_GET
def version_file(request, submission_id: int):
    """One archived version, as the submitter sent it (403 for another unit's)."""
    paths = settings.PATHS
    scope = scope_of(request.user)
    unit = reads.unit_of_submission(paths, submission_id)
    if unit is None and reads.submission(paths, scope, submission_id) is None:
        raise Http404("没有这个版本")
    scope.require(unit)
    row = reads.submission(paths, scope, submission_id)
    if row is None or not row.get("archive_path"):
        raise Http404("没有这个版本")
    archived = paths.archive / Path(row["archive_path"]).name  # never a path from elsewhere
    return files.download(archived, row.get("original_name") or None)
