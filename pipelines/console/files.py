"""Files the pages hand out: letters and annotated workbooks (data/outbox/<quarter>/<unit>/),
reports and consolidated returns (data/reports/<quarter>/), archived versions, blank templates.
Names come from the folder listing, never from the request, so no path can leave its folder."""

from __future__ import annotations

import mimetypes
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.http import FileResponse, Http404

from pipelines import periods
from pipelines.paths import Paths
from pipelines.sanitize import safe_filename


@dataclass(frozen=True)
class Listed:
    quarter: str
    name: str
    path: Path
    size: int


def letters(paths: Paths, unit: str) -> list[Listed]:
    """Every file the office's letters left for `unit`, newest quarter first."""
    folder = safe_filename(unit)
    out = []
    for q in sorted(periods.quarters(), reverse=True):
        d = paths.outbox_dir(str(q), folder)
        if d.is_dir():
            out += [
                Listed(str(q), f.name, f, f.stat().st_size)
                for f in sorted(d.iterdir())
                if f.is_file() and not f.name.startswith(".")
            ]
    return out


def letter(paths: Paths, unit: str, quarter: str, name: str) -> Path:
    for item in letters(paths, unit):
        if item.quarter == quarter and item.name == name:
            return item.path
    raise Http404("没有这个文件")


def quarter_outputs(paths: Paths, quarter: str) -> list[Listed]:
    d = paths.report_dir(quarter)
    if not d.is_dir():
        return []
    return [
        Listed(quarter, f.name, f, f.stat().st_size)
        for f in sorted(d.iterdir())
        if f.is_file() and not f.name.startswith(".")
    ]


def report_file(paths: Paths, quarter: str) -> Path | None:
    from pipelines.outputs.report import report_path

    p = report_path(paths.reports, quarter)
    return p if p.is_file() else None


def reports(paths: Paths) -> list[tuple[str, str, Path]]:
    """(quarter, label, path) of every published leaders' report, newest first."""
    out = []
    for q in sorted(periods.quarters(), reverse=True):
        p = report_file(paths, str(q))
        if p:
            out.append((str(q), q.label, p))
    return out


def download(path: Path, name: str | None = None) -> FileResponse:
    if not path.is_file():
        raise Http404("文件不存在")
    kind = mimetypes.guess_type(name or path.name)[0] or "application/octet-stream"
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=name or path.name, content_type=kind
    )


def template_for(unit: str) -> tuple[str, bytes]:
    """The unit's blank template for the campaign being collected now (written fresh: the
    writer is fast and the forms' configuration may have changed)."""
    from pipelines.console.clock import office_today
    from pipelines.outputs.templates import write_templates

    campaign = periods.collecting_quarter(office_today()).campaign
    with tempfile.TemporaryDirectory(prefix="jibao-template-") as tmp:
        (written,) = write_templates(Path(tmp), campaign=campaign, submitter=unit)
        return written.name, written.read_bytes()
