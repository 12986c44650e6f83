"""Asking for a refresh of the warehouse: through the OPS helper's run queue
(`pipelines.runqueue.request_run`), the same queue the drop-folder sensor's runs go to. The web
process never runs the pipeline itself. Where the run queue is not available, the file placed in
the drop folder is picked up by the sensor on its own, so nothing is lost: the caller is told."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.paths import Paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshRequest:
    run_id: str | None
    note: str  # what the page tells the user (Chinese)


def request_refresh(paths: Paths, quarters: Sequence[str], *, source: str) -> RefreshRequest:
    quarters = sorted(set(quarters))
    try:
        from pipelines import runqueue
    except ImportError:
        return RefreshRequest(None, "文件已放入报送文件夹，系统将自动更新数据")
    try:
        run_id = runqueue.request_run(quarters, source=source, paths=paths)
    except Exception as exc:  # the queue is an edge: a failure here must not lose the upload
        log.warning("refresh request for %s failed: %s", quarters, exc)
        return RefreshRequest(None, "更新请求未能提交，文件已放入报送文件夹，系统将自动更新数据")
    if run_id is None:
        return RefreshRequest(None, "已有更新在排队，数据将随其一并更新")
    return RefreshRequest(run_id, "已请求更新数据")
