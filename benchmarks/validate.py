"""Front-door benchmark: `jibao validate` against a bare python-calamine read of the same files.

    uv run python benchmarks/validate.py              # 1,000 workbooks
    uv run python benchmarks/validate.py -n 200 --json
    uv run python benchmarks/validate.py --profile    # cProfile of one validate pass (parent)

Workbooks come from the sample generator (pipelines.sample: seeded, with its planted defects,
.xls files and multi-form workbooks), one seed after another until N files exist. Three
measurements, each the best of `--repeat` passes (min and median printed), each baseline
measured in the same run beside what it is compared with:

- in-process: ``validate_paths(files)`` (sniffing and zip guards, parsing, recognition and
  cell checks in worker processes under memory/time limits, then the batch rules), warm, against
  ``calamine_read(files)`` in this process (open every workbook, read every sheet);
- whole-process: the ``jibao validate --format json`` CLI over the files, as a fresh process,
  against a fresh process running the bare calamine read over the same files;
- one file: ``jibao validate one.xlsx`` (a fresh process: start-up, worker, checks) wall time.

Beside each wall time: CPU time and peak RSS of the whole process tree (the reader's workers
included), sampled with psutil. Goals (issue 12): ≤ 3× in-process and ≤ 4× whole-process at
1,000 returns, one file ≤ 0.3 s. With ``--json`` the last line is one JSON object:
``{"files", "in_process_ratio", "whole_process_ratio", "one_file_s"}``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
from baseline import calamine_read  # benchmarks/ is on sys.path when a script here runs

WORKBOOK_SUFFIXES = (".xlsx", ".xls")
HERE = Path(__file__).resolve().parent
BARE_SCRIPT = (
    "import sys; sys.path.insert(0, sys.argv[1]); from baseline import calamine_read; "
    "calamine_read(sys.argv[2:])"
)


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("-n", "--workbooks", type=int, default=1000, help="workbooks to validate")
    p.add_argument("--repeat", type=int, default=3, help="timed passes per side (best is kept)")
    p.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed)")
    p.add_argument("--json", action="store_true", help="end with one JSON line of the ratios")
    p.add_argument("--profile", action="store_true", help="print a cProfile of one validate pass")
    p.add_argument(
        "--no-bytecode",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE for the processes (every module compiled every time)",
    )
    return p.parse_args(argv)


def generate(folder: Path, n: int) -> list[Path]:
    """At least n sample workbooks under folder (seed after seed); the first n, sorted."""
    from pipelines.sample import write_sample

    files: list[Path] = []
    seed = 2025
    while len(files) < n:
        out = folder / f"seed{seed}"
        if not out.exists():
            write_sample(out, seed=seed)
        files += sorted(p for p in out.rglob("*") if p.suffix in WORKBOOK_SUFFIXES)
        seed += 1
    return files[:n]


# ---------------------------------------------------------------- measuring a process tree


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


class TreeSampler:
    """Peak RSS summed over a process and all its descendants, sampled every `interval` s
    while it runs (sparingly: the sampler shares the CPUs it measures), and the CPU seconds
    its descendants spent (start and end snapshots; the process itself is measured with
    getrusage by the caller)."""

    def __init__(self, root: psutil.Process, interval: float = 0.05) -> None:
        self.root, self.interval = root, interval
        self.peak = 0
        self.start: dict[int, float] = {}
        self.end: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[psutil.Process]:
        try:
            return self.root.children(recursive=True)
        except psutil.Error:
            return []

    def _cpus(self) -> dict[int, float]:
        out = {}
        for p in self._tree():
            try:
                out[p.pid] = _cpu(p)
            except psutil.Error:
                continue
        return out

    def _sample(self) -> None:
        rss = 0
        for p in [self.root, *self._tree()]:
            try:
                rss += p.memory_info().rss
            except psutil.Error:
                continue
        self.peak = max(self.peak, rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()
            self.end.update(self._cpus())

    def __enter__(self) -> TreeSampler:
        self.start = self._cpus()
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.end.update(self._cpus())

    @property
    def descendants_cpu(self) -> float:
        return sum(v - self.start.get(pid, 0.0) for pid, v in self.end.items())


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_mb: float


def _rusage(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def in_process(fn: Callable[[], object]) -> Run:
    """One pass of `fn` here: wall, CPU and peak RSS of this process and its workers."""
    with TreeSampler(psutil.Process()) as s:
        own = _rusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        fn()
        wall = time.perf_counter() - t
        own = _rusage(resource.RUSAGE_SELF) - own
    return Run(wall, own + s.descendants_cpu, s.peak / 2**20)


def as_process(cmd: list[str], env: dict[str, str]) -> Run:
    """One fresh process running `cmd`: wall (start-up included), CPU and peak RSS of its tree.
    CPU: the kernel's account of the waited-for tree (getrusage) or, when larger, the sampled
    CPU of every process seen in the tree (a fork server's workers are not waited for by the
    process measured, so the kernel's account misses them)."""
    before = _rusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    seen: dict[int, float] = {}
    with TreeSampler(proc) as s:
        while proc.poll() is None:
            for p in [proc, *s._tree()]:
                try:
                    seen[p.pid] = _cpu(p)
                except psutil.Error:
                    continue
            time.sleep(0.02)
    wall = time.perf_counter() - t
    cpu = max(_rusage(resource.RUSAGE_CHILDREN) - before, sum(seen.values()))
    return Run(wall, cpu, s.peak / 2**20)


def repeat(n: int, once: Callable[[], Run]) -> list[Run]:
    return sorted((once() for _ in range(n)), key=lambda r: r.wall)


def line(label: str, runs: list[Run], per: int = 1, unit: str = "ms/workbook") -> str:
    scale = 1000 / per if unit.startswith("ms") else 1.0
    best, med = runs[0], runs[len(runs) // 2]
    return (
        f"{label:34s} best {best.wall * scale:8.2f} {unit} (median {med.wall * scale:.2f}); "
        f"CPU {best.cpu * scale:.2f}; peak RSS {best.rss_mb:.0f} MB"
    )


def ratio(a: list[Run], b: list[Run]) -> tuple[float, float]:
    """(best/best, median/median) wall ratio."""
    return a[0].wall / b[0].wall, statistics.median(r.wall for r in a) / statistics.median(
        r.wall for r in b
    )


def main(argv: list[str] | None = None) -> None:
    a = _args(argv)
    folder = a.dir or Path(tempfile.mkdtemp(prefix="jibao-bench-validate-"))
    try:
        t = time.perf_counter()
        files = generate(folder, a.workbooks)
        n = len(files)
        xls = sum(p.suffix == ".xls" for p in files)
        print(
            f"{n} workbooks ({n - xls} xlsx, {xls} xls) ready in {time.perf_counter() - t:.1f} s; "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
            "(timings on a shared machine are noisy: read the ratios)"
        )
        from pipelines.validate import validate_paths

        names = [str(p) for p in files]
        calamine_read(files)  # warm-up: page cache, imports
        t = time.perf_counter()
        returns = len(validate_paths(files))  # warm-up: imports, worker pool start-up
        first = time.perf_counter() - t
        base = repeat(a.repeat, lambda: in_process(lambda: calamine_read(files)))
        val = repeat(a.repeat, lambda: in_process(lambda: validate_paths(files)))
        in_best, in_med = ratio(val, base)
        print(f"returns found:                     {returns}")
        print(line("python-calamine read (in-process)", base, n))
        print(line("validate_paths (warm)", val, n))
        print(f"{'validate_paths (first call)':34s} {first * 1000 / n:8.2f} ms/workbook")
        print(f"in-process ratio:                  {in_best:.2f} (median {in_med:.2f}; goal ≤ 3)")

        # Processes run as an installed deployment runs them: modules compiled to bytecode once
        # (this sandbox sets PYTHONDONTWRITEBYTECODE, which would recompile every module in
        # every process); --no-bytecode measures that case.
        env = dict(os.environ)
        if not a.no_bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            as_process([sys.executable, "-m", "pipelines.cli", "validate", str(files[0])], env)
        print(f"processes: {'bytecode compiled once' if not a.no_bytecode else 'no bytecode'}")
        bare = repeat(
            a.repeat,
            lambda: as_process([sys.executable, "-c", BARE_SCRIPT, str(HERE), *names], env),
        )
        cli = [sys.executable, "-m", "pipelines.cli", "validate", "--format", "json"]
        whole = repeat(a.repeat, lambda: as_process([*cli, *names], env))
        wp_best, wp_med = ratio(whole, bare)
        print(line("bare calamine script (process)", bare, n))
        print(line("jibao validate (process)", whole, n))
        print(f"whole-process ratio:               {wp_best:.2f} (median {wp_med:.2f}; goal ≤ 4)")

        one = next(p for p in files if p.suffix == ".xlsx")
        single = repeat(a.repeat, lambda: as_process([*cli, str(one)], env))
        print(line("jibao validate one.xlsx", single, unit="s"))
        print(f"one-file latency:                  {single[0].wall:.3f} s (goal ≤ 0.3)")

        if a.profile:
            prof = cProfile.Profile()
            prof.runcall(validate_paths, files)
            pstats.Stats(prof).strip_dirs().sort_stats("cumulative").print_stats(30)
        if a.json:
            print(
                json.dumps(
                    {
                        "files": n,
                        "in_process_ratio": round(in_best, 3),
                        "whole_process_ratio": round(wp_best, 3),
                        "one_file_s": round(single[0].wall, 3),
                    }
                )
            )
    finally:
        if a.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
