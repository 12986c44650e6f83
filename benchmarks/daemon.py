"""Scheduled-path benchmark: the sample dropped into a `dagster dev` drop folder, until the
sensor's run succeeds, vs `jibao run` on the same files (the baseline, measured in the same run).

    uv run python benchmarks/daemon.py              # min/median of 3
    uv run python benchmarks/daemon.py --repeat 1

Both sides start from an empty data root with the sample (pipelines.sample) in a folder beside
it. Baseline: a fresh `jibao run` process (in-process executor), from start to exit. Daemon path:
`dagster dev` is started first and waits until it serves (not timed: the office starts it once);
then the sample's quarter folders are renamed into data/raw/ at once, and the clock runs until
the run the sensor requested reaches SUCCESS (sensor interval 2 s: JIBAO_SENSOR_INTERVAL). The
daemon's run forks each step from a preloaded fork server (default multiprocess executor), so
the difference is the sensor tick, the queue, the run worker and the per-step processes.
Timings on a shared machine are noisy: read the ratio, and run it when the machine is quiet.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.test_daemon import start_dagster_dev, stop  # noqa: E402  (one way to start it)


def _sample(root: Path) -> Path:
    from pipelines.sample import write_sample

    raw = root / "sample"
    write_sample(raw)
    return raw


def _quarters(raw: Path) -> list[Path]:
    return sorted(p for p in raw.iterdir() if p.is_dir())


def baseline(sample: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        shutil.copytree(sample, home / "data" / "raw", ignore=shutil.ignore_patterns("*.json"))
        env = {**os.environ, "JIBAO_HOME": str(home)}
        for k in ("DAGSTER_HOME", "JIBAO_WAREHOUSE"):
            env.pop(k, None)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "run"],
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started


def daemon_path(sample: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        dev = start_dagster_dev(Path(tmp), sensor_interval=2)
        try:
            staged = dev.paths.root / "staged"
            shutil.copytree(sample, staged, ignore=shutil.ignore_patterns("*.json"))
            started = time.perf_counter()
            for q in _quarters(staged):
                q.rename(dev.paths.raw / q.name)
            (run,) = dev.wait_finished(deadline=3600, **{"jibao/source": "drop_folder"})
            took = time.perf_counter() - started
            if run.status.value != "SUCCESS":
                raise SystemExit(f"run {run.run_id} ended {run.status.value}: see {dev.log}")
            return took
        finally:
            stop(dev, signal.SIGINT, group=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sample = _sample(Path(tmp))
        files = sum(1 for p in sample.rglob("*.xls*"))
        quarters = len(_quarters(sample))
        base, dae = [], []
        for i in range(args.repeat):
            base.append(baseline(sample))
            print(f"round {i + 1}: jibao run {base[-1]:.1f} s", flush=True)
            dae.append(daemon_path(sample))
            print(f"round {i + 1}: daemon path {dae[-1]:.1f} s", flush=True)
    bmin, bmed = min(base), statistics.median(base)
    dmin, dmed = min(dae), statistics.median(dae)
    print(f"sample: {files} workbooks, {quarters} quarters")
    print(f"jibao run (baseline)   min {bmin:6.1f} s  median {bmed:6.1f} s")
    print(f"daemon (drop→success)  min {dmin:6.1f} s  median {dmed:6.1f} s")
    print(f"ratio daemon/baseline  min {dmin / bmin:5.2f}    median {dmed / bmed:5.2f}")


if __name__ == "__main__":
    main()
