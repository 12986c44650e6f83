"""Reports as published in data/reports/<quarter>/. The report is one self-contained HTML file
whose charts are inline scripts; it is served as it is, and its Content-Security-Policy allows
exactly those scripts (by their sha256) and nothing else — no other script, no connection."""

from __future__ import annotations

import base64
import hashlib
import re

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pipelines import periods
from pipelines.console import files
from pipelines.console.accounts.access import report_readers

_SCRIPT = re.compile(rb"<script\b[^>]*>(.*?)</script>", re.S | re.I)


def script_hashes(html: bytes) -> list[str]:
    """CSP source expressions for every inline script of `html`."""
    out = []
    for body in _SCRIPT.findall(html):
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        out.append(f"'sha256-{digest}'")
    return sorted(set(out))


@report_readers
@require_GET
def index(request):
    return render(request, "leaders/index.html", {"reports": files.reports(settings.PATHS)})


@report_readers
@require_GET
def report(request, quarter: str):
    try:
        q = str(periods.Quarter.parse(quarter))
    except ValueError:
        raise Http404("季度格式应为 YYYYQn") from None
    path = files.report_file(settings.PATHS, q)
    if path is None:
        raise Http404("本季度的进展报告尚未生成")
    html = path.read_bytes()
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response._csp_replace = {
        "script-src": script_hashes(html) or ["'none'"],
        # plotly and great-tables style their own elements inline
        "style-src": ["'self'", "'unsafe-inline'"],
        "connect-src": ["'none'"],
        "form-action": ["'none'"],
    }
    return response
