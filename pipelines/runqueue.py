"""Ask the Dagster daemon for a run: the console's 「立即刷新」, uploads and the mailbox use this,
so their runs wait in the same queue (and the same `warehouse` pool) as the drop-folder
sensor's and the schedules' instead of running beside them.

    run_id = request_run(["2026Q1"], source="console:王芳")
    run_id = request_run(["2025Q4", "2026Q1"], source="mail", paths=paths)

The run is one `quarterly_job` run over the quarter range (first … last, in calendar order),
created in the instance at DAGSTER_HOME with status QUEUED; the daemon's run coordinator
(QueuedRunCoordinator, the default) launches it when the pool allows. Tags say who asked
(`jibao/source`) and, for the UI, which quarters. Returns None, with a Chinese log line, when
no instance is configured (DAGSTER_HOME unset or without dagster.yaml): the caller then tells
the user that the run will happen at the next scheduled or manual run.

Light at import time (Dagster is imported on the first call only).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from pipelines.paths import Paths

__all__ = ["CODE_LOCATION", "SOURCE_TAG", "instance_configured", "request_run"]

log = logging.getLogger(__name__)

CODE_LOCATION = "pipelines"  # pyproject.toml › [tool.dagster] code_location_name
MODULE = "pipelines.definitions"
JOB = "quarterly_job"
SOURCE_TAG = "jibao/source"
QUARTERS_TAG = "jibao/quarters"
REPO_ROOT = Path(__file__).resolve().parents[1]


def instance_configured() -> bool:
    home = os.environ.get("DAGSTER_HOME")
    return bool(home) and (Path(home) / "dagster.yaml").is_file()


def _range(quarters: Iterable[str]) -> tuple[str, str, list[str]]:
    from pipelines import periods

    configured = [str(q) for q in periods.quarters()]
    wanted = sorted({str(periods.Quarter.parse(str(q))) for q in quarters}, key=configured.index)
    unknown = [q for q in wanted if q not in configured]
    if unknown:
        raise ValueError(f"季度 {'、'.join(unknown)} 未在 config/calendar.yaml 中配置")
    if not wanted:
        raise ValueError("没有要处理的季度")
    return wanted[0], wanted[-1], wanted


def request_run(quarters: Iterable[str], *, source: str, paths: Paths | None = None) -> str | None:
    """Queue a quarterly_job run over `quarters` (their range) for the daemon; its run id, or
    None when no Dagster instance is configured. `source` says who asked ("console:<user>",
    "mail", "upload:<user>"). `paths` (default: JIBAO_HOME) is the data root the run uses."""
    if not instance_configured():
        log.warning(
            "未配置 Dagster 实例（DAGSTER_HOME），未能排队运行；将在下次定时或手动运行时处理"
        )
        return None
    try:
        quarters = list(quarters)
        first, last, wanted = _range(quarters)
    except (ValueError, KeyError) as exc:
        log.warning("未能排队运行：%s", exc)
        return None
    run_config: dict = {}
    if paths is not None:
        run_config = {"resources": {"jibao": {"config": {"home": str(paths.root)}}}}
    tags = {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
        SOURCE_TAG: source,
        QUARTERS_TAG: ",".join(wanted),
    }
    return _submit(run_config, tags)


def _submit(run_config: dict, tags: dict[str, str]) -> str:
    """Create the run from the code location loaded in this process (same module, same location
    name as the daemon's workspace, so the daemon's launcher finds it) and submit it to the
    instance's run coordinator."""
    import dagster as dg
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

    instance = dg.DagsterInstance.get()
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable,
            module_name=MODULE,
            working_directory=str(REPO_ROOT),
        ),
        location_name=CODE_LOCATION,
    )
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as process:
        workspace = process.create_request_context()
        location = workspace.get_code_location(CODE_LOCATION)
        repo = next(iter(location.get_repositories().values()))
        remote_job = repo.get_full_job(JOB)
        plan = location.get_execution_plan(
            remote_job, run_config, step_keys_to_execute=None, known_state=None, instance=instance
        ).execution_plan_snapshot
        run = instance.create_run(
            job_name=JOB,
            run_id=None,
            run_config=run_config,
            resolved_op_selection=None,
            step_keys_to_execute=plan.step_keys_to_execute,
            op_selection=None,
            status=None,
            root_run_id=None,
            parent_run_id=None,
            tags={**remote_job.tags, **tags},
            job_snapshot=remote_job.job_snapshot,
            execution_plan_snapshot=plan,
            parent_job_snapshot=remote_job.parent_job_snapshot,
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
            asset_selection=None,
            asset_check_selection=None,
            asset_graph=repo.asset_graph,
        )
        instance.submit_run(run.run_id, workspace)
    log.info("已排队运行 %s（%s，%s–%s）", run.run_id, tags[SOURCE_TAG], *_ends(tags))
    return run.run_id


def _ends(tags: dict[str, str]) -> tuple[str, str]:
    return tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
