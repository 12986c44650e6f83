"""`jibao demo` as a newcomer runs it: a fresh data root, the sample written, the whole job.

    uv run python benchmarks/demo.py              # 3 runs
    uv run python benchmarks/demo.py --json       # last line: one JSON object

Each run is the CLI in a child process (benchmarks/measure.py: wall, CPU of the process tree,
peak RSS) on an empty JIBAO_HOME, with DAGSTER_HOME set so that the run's step timings can be
read from its event log. Printed per run and as min / median: the whole command (interpreter
start, imports, writing the sample, the Dagster job, the summary), the job itself, and each step.
Baseline, measured in the same way and the same number of times: a child that only imports
what the CLI imports before the job starts (pipelines.cli, dagster, pipelines.definitions) —
the floor no demo can go under on this machine. Goal (issue 12): the whole command ≤ 10 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure  # noqa: E402  (benchmarks/ is not a package)

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = "import pipelines.cli, dagster, pipelines.definitions"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", type=Path, help="work folder, kept (default: a temporary one)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    return p.parse_args(argv)


def _demo(home: Path) -> tuple[measure.Measured, float, dict[str, float]]:
    shutil.rmtree(home, ignore_errors=True)
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True)
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = measure.child_env(
        JIBAO_HOME=str(home), DAGSTER_HOME=str(dagster_home), JIBAO_WAREHOUSE=None
    )
    cmd = measure.python("-c", "from pipelines.cli import main; raise SystemExit(main(['demo']))")
    m = measure.run(cmd, env=env, cwd=ROOT)
    start, steps = measure.step_times(dagster_home)
    job = (max(e for _, e in steps.values()) - start) if steps and start else float("nan")
    order = sorted(steps.items(), key=lambda kv: kv[1])
    return m, job, {k: end - begin for k, (begin, end) in order}


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    work = a.dir or Path(tempfile.mkdtemp(prefix="jibao-demo-"))
    try:
        floor = [
            measure.run(measure.python("-c", IMPORTS), env=measure.child_env(), cwd=ROOT)
            for _ in range(a.repeat)
        ]
        runs = [_demo(work / f"home{i}") for i in range(a.repeat)]
    finally:
        if a.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"imports only (floor):  wall {measure.spread([m.wall_s for m in floor])} s")
    print(
        f"jibao demo (command):  wall {measure.spread([m.wall_s for m, _, _ in runs])} s  (goal ≤ 10)"
    )
    print(f"                       cpu  {measure.spread([m.cpu_s for m, _, _ in runs])} s")
    print(f"the Dagster job:       wall {measure.spread([j for _, j, _ in runs])} s")
    print("steps (event log), seconds:")
    for key in runs[0][2]:
        print(f"  {key:<52} {measure.spread([s.get(key, float('nan')) for _, _, s in runs])}")
    for i, (m, _, _) in enumerate(runs):
        print(f"    child {i + 1}: {m.line()}")
    if a.json:
        out = {
            "demo_s": statistics.median(m.wall_s for m, _, _ in runs),
            "demo_cpu_s": statistics.median(m.cpu_s for m, _, _ in runs),
            "job_s": statistics.median(j for _, j, _ in runs),
            "imports_s": min(m.wall_s for m in floor),
            "steps_s": {
                k: statistics.median(s.get(k, 0.0) for _, _, s in runs) for k in runs[0][2]
            },
            "peak_rss_mb": round(max(m.peak_rss_mb for m, _, _ in runs), 1),
        }
        print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
