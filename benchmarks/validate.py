"""Front-door benchmark: validating sample workbooks vs a bare python-calamine read of them.

    uv run python benchmarks/validate.py            # 200 workbooks
    uv run python benchmarks/validate.py -n 1000
    uv run python benchmarks/validate.py --profile  # cProfile of the validate run (parent only)

Workbooks come from the sample generator (pipelines.sample: seeded, with its planted defects,
.xls files and multi-form workbooks), one seed after another until N files exist. Both sides
run in this one process over the same files, after one warm-up pass each (so the page cache
and imports are not what is measured):

- baseline: ``CalamineWorkbook.from_path`` and ``to_python()`` of every sheet, file after file;
- validate: ``pipelines.validate.validate_paths(files)`` exactly as ``jibao validate`` calls it
  (sniffing and zip guards, parsing in worker processes with memory/time limits,
  recognition, coercion, pandera schemas and cross-cell rules).

Each line gives wall time and CPU time (this process plus its worker processes): on a busy
machine the wall ratio depends on how much of the CPUs the workers get, the CPU ratio does not.
Also printed: a cold validate (a fresh interpreter running ``jibao validate --format json``
on the same files, start-up and worker pool included), since that is what a submitter waits for.
Goal (issue 2): validate / baseline ≤ 3.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baseline import calamine_read  # benchmarks/ is on sys.path when a script here runs

WORKBOOK_SUFFIXES = (".xlsx", ".xls")


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("-n", "--workbooks", type=int, default=200, help="workbooks to validate")
    p.add_argument("--repeat", type=int, default=3, help="timed passes per side (best is kept)")
    p.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed)")
    p.add_argument("--no-cold", action="store_true", help="skip the cold CLI run")
    p.add_argument("--profile", action="store_true", help="print a cProfile of one validate pass")
    return p.parse_args(argv)


def generate(folder: Path, n: int) -> list[Path]:
    """At least n sample workbooks under folder (seed after seed); the first n, sorted."""
    from pipelines.sample import write_sample

    files: list[Path] = []
    seed = 2025
    while len(files) < n:
        out = folder / f"seed{seed}"
        write_sample(out, seed=seed)
        files += sorted(p for p in out.rglob("*") if p.suffix in WORKBOOK_SUFFIXES)
        seed += 1
    return files[:n]


def validate(files: list[Path]) -> int:
    from pipelines.validate import validate_paths

    return len(validate_paths(files))


def cpu_seconds() -> float:
    """CPU time of this process and every live descendant (the reader's workers), from /proc;
    this process alone where /proc is missing."""
    if not Path("/proc/self/stat").exists():
        return time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(stat[11]) + int(stat[12])) / tick
            for task in os.listdir(f"/proc/{pid}/task"):
                todo += map(int, Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue  # a worker that just exited
    return total


def best_of(fn, files: list[Path], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `repeat` passes."""
    runs = []
    for _ in range(repeat):
        c, t = cpu_seconds(), time.perf_counter()
        fn(files)
        runs.append((time.perf_counter() - t, cpu_seconds() - c))
    return min(runs)


def cold_cli(files: list[Path]) -> float:
    """A fresh `jibao validate --format json` over the files, interpreter start-up included."""
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "validate", "--format", "json", *map(str, files)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    a = _args(argv)
    folder = a.dir or Path(tempfile.mkdtemp(prefix="jibao-bench-validate-"))
    try:
        t = time.perf_counter()
        files = generate(folder, a.workbooks)
        n = len(files)
        xls = sum(p.suffix == ".xls" for p in files)
        print(
            f"{n} workbooks ({n - xls} xlsx, {xls} xls) generated in {time.perf_counter() - t:.1f} s; "
            f"{os.cpu_count()} CPUs"
        )

        calamine_read(files)  # warm-up: page cache, imports
        t = time.perf_counter()
        results = validate(files)  # warm-up: imports, worker pool start-up
        first = time.perf_counter() - t
        (base, base_cpu), (val, val_cpu) = (
            best_of(calamine_read, files, a.repeat),
            best_of(validate, files, a.repeat),
        )
        ms = 1000 / n
        print(f"returns found:            {results}")
        print(
            f"python-calamine read:     {base * ms:7.2f} ms/workbook "
            f"(CPU {base_cpu * ms:.2f}; best of {a.repeat})"
        )
        print(
            f"validate_paths (warm):    {val * ms:7.2f} ms/workbook "
            f"(CPU {val_cpu * ms:.2f}, all processes; best of {a.repeat})"
        )
        print(f"validate_paths (1st call):{first * ms:7.2f} ms/workbook (pool start-up included)")
        if not a.no_cold:
            cold = cold_cli(files)
            print(f"jibao validate (cold CLI):{cold * ms:7.2f} ms/workbook ({cold:.2f} s total)")
        print(
            f"ratio validate/calamine:  {val / base:7.2f}  (goal ≤ 3; CPU ratio "
            f"{val_cpu / max(base_cpu, 1e-9):.2f} on {os.cpu_count()} CPUs)"
        )

        if a.profile:
            prof = cProfile.Profile()
            prof.runcall(validate, files)
            stats = pstats.Stats(prof).strip_dirs().sort_stats("cumulative")
            stats.print_stats(30)
    finally:
        if a.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
