"""The office's views. Decisions are forms that call the OFFICE helper's library
(pipelines/office/decisions.py) with the logged-in user as actor; the board shows what the
warehouse says after the refresh they ask for."""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from pipelines import periods
from pipelines.console import files, labels, reads
from pipelines.console.accounts.access import office_only, returns_readers, scope_of
from pipelines.console.board.grid import board
from pipelines.console.clock import office_today
from pipelines.console.refresh import request_refresh
from pipelines.forms import FORM_IDS, load_forms
from pipelines.registry import load_registry
from pipelines.warehouse.receipts import CHANNEL_LABELS, read_receipts


def _quarter(text: str | None) -> str:
    if text:
        try:
            return str(periods.Quarter.parse(text))
        except ValueError:
            raise Http404("季度格式应为 YYYYQn") from None
    known = reads.board_quarters(settings.PATHS)
    current = str(periods.collecting_quarter(office_today()))
    return current if current in known or not known else known[0]


@office_only
@require_GET
def index(request, quarter: str | None = None):
    paths = settings.PATHS
    q = _quarter(quarter or request.GET.get("q"))
    type_ = request.GET.get("type") or None
    b = board(paths, scope_of(request.user), q, type_)
    known = {r["sha256"] for r in reads.history_all(paths, q)}
    waiting = [r for r in read_receipts(paths, q) if r.sha256 not in known]
    return render(
        request,
        "board/index.html",
        {
            "b": b,
            "quarter": q,
            "quarter_label": periods.Quarter.parse(q).label,
            "quarters": sorted(
                {*(str(x) for x in periods.quarters()), *reads.board_quarters(paths)}, reverse=True
            ),
            "type": type_ or "",
            "waiting": waiting,
            "outputs": files.quarter_outputs(paths, q),
            "channel_labels": CHANNEL_LABELS,
        },
    )


@returns_readers
@require_GET
def detail(request, quarter: str, unit: str, form: str):
    """One return: its versions, their issues, the files, and (for the office) the decisions."""
    paths = settings.PATHS
    q = _quarter(quarter)
    if form not in FORM_IDS:
        raise Http404("没有这张表")
    try:
        load_registry().by_name(unit)
    except KeyError:
        raise Http404("报送单位名录中没有这个单位") from None
    scope = scope_of(request.user)
    scope.require(unit)
    versions = labels.versions(reads.versions(paths, scope, q, unit, form))
    return render(
        request,
        "board/detail.html",
        {
            "quarter": q,
            "quarter_label": periods.Quarter.parse(q).label,
            "unit": unit,
            "form": form,
            "form_name": load_forms()[form].name,
            "versions": versions,
            "channel_labels": CHANNEL_LABELS,
        },
    )


@office_only
@require_POST
def refresh(request, quarter: str):
    q = _quarter(quarter)
    req = request_refresh(settings.PATHS, [q], source=f"console:{request.user.get_username()}")
    messages.info(request, req.note)
    return redirect("board:quarter", quarter=q)


@office_only
@require_GET
def output(request, quarter: str, name: str):
    q = _quarter(quarter)
    for item in files.quarter_outputs(settings.PATHS, q):
        if item.name == name:
            return files.download(item.path)
    raise Http404("没有这个文件")


@office_only
@require_GET
def letters_zip(request, quarter: str):
    """Every letter and annotated workbook of the quarter, one folder per unit."""
    q = _quarter(quarter)
    root = settings.PATHS.outbox_dir(q)
    if not root.is_dir():
        raise Http404("本季度还没有通知")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(root.rglob("*")):
            if f.is_file() and not any(p.startswith(".") for p in f.relative_to(root).parts):
                z.write(f, f.relative_to(root).as_posix())
    response = HttpResponse(buf.getvalue(), content_type="application/zip")
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'通知_{q}.zip')}"
    return response
