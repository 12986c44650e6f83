"""Measuring a command as a whole process: wall time, CPU time and peak memory of its process tree.

Benchmarks run what they time in a child process so that each figure belongs to one step and
nothing the benchmark itself holds (imports, written workbooks) is counted:

- wall: from spawning the child to reaping it;
- CPU: user + system time of the child and every descendant it waited for (``os.wait4``: the
  kernel adds reaped children's times to their parent), so worker pools count;
- peak RSS: the largest sum of resident memory over the child and all its live descendants,
  sampled every ``interval`` seconds (psutil, which Dagster already depends on). Pages shared
  between forked workers are counted once per process, so this is an upper bound.

A child reports figures of its own (timings taken inside it, counts) as a JSON object on its
last stdout line; `Measured.report` holds it.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Measured:
    """One run of a command."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    report: dict = field(default_factory=dict)  # the child's last stdout line, if JSON

    def line(self) -> str:
        return f"wall {self.wall_s:7.2f} s  cpu {self.cpu_s:7.2f} s  peak rss {self.peak_rss_mb:7.0f} MB"


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.Error):  # it ended meanwhile
            total += p.memory_info().rss
    return total


def run(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.05,
    check: bool = True,
) -> Measured:
    """Run `cmd` to completion, measuring it (see the module docstring)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            list(cmd), env=dict(env) if env is not None else None, cwd=cwd, stdout=out, stderr=err
        )
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            proc = psutil.Process(child.pid)
            while not done.is_set():
                peak = max(peak, _tree_rss(proc))
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    measured = Measured(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=peak / 2**20,
        returncode=child.returncode,
        stdout=stdout,
        stderr=stderr,
        report=_last_json(stdout),
    )
    if check and measured.returncode != 0:
        tail = (stderr or stdout)[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:4])} … exited {measured.returncode}:\n{tail}")
    return measured


def _last_json(stdout: str) -> dict:
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    if not lines:
        return {}
    try:
        out = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {}
    return out if isinstance(out, dict) else {}


def python(*args: str) -> list[str]:
    """A command running this interpreter (the project's environment)."""
    return [sys.executable, *args]


def child_env(**extra: str | None) -> dict[str, str]:
    """This environment with `extra` set (None removes a variable) and the repository importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def spread(values: Sequence[float]) -> str:
    """「min 1.23 / median 1.40」 of a list of figures."""
    if not values:
        return "n/a"
    return f"min {min(values):.2f} / median {statistics.median(values):.2f}"


def step_times(dagster_home: Path) -> tuple[float | None, dict[str, tuple[float, float]]]:
    """The latest run of the instance at `dagster_home`: (run start, {step key: (start, end)})
    from its event log (seconds since the epoch)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        records = instance.get_run_records(limit=1)
        if not records:
            return None, {}
        record = records[0]
        stats = instance.get_run_step_stats(record.dagster_run.run_id)
    steps = {
        s.step_key: (s.start_time, s.end_time)
        for s in stats
        if s.start_time is not None and s.end_time is not None
    }
    start = record.start_time
    if start is None and steps:
        start = min(a for a, _ in steps.values())
    return start, steps
