"""Upload page under load: 20 simulated submitters upload 200 sample returns at once over
loopback to a real `jibao serve`; upload-to-verdict latency vs the same files through
`jibao validate` in one process.

    uv run python benchmarks/console.py               # 200 files, 20 submitters, 3 rounds
    uv run python benchmarks/console.py -n 100 -c 10

Each submitter is a logged-in session of the unit whose returns it sends (files of unknown
units go with any session). A latency is measured from the start of the POST to the moment the
status URL stops saying "pending" (polled every 0.2 s), i.e. what the person at the page waits.
Baseline, measured in the same run: `jibao validate --format json FILES` in one fresh process
(start-up and worker pool included). Printed: p50/p95/max latency, the wall time of all uploads
(throughput) and the ratios upload-wall / validate-wall and p50 / (validate-wall ÷ N).
Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Benchmark-pass-2026"
DEADLINE_S = 300  # per round: the benchmark stops by itself
POLL_S = 0.2  # how often a waiting page asks (the page's script asks every 0.4 s)


def sample_files(out: Path, n: int) -> list[Path]:
    from pipelines.sample import write_sample

    files: list[Path] = []
    seed = 2025
    while len(files) < n:
        folder = out / f"seed{seed}"
        write_sample(folder, seed=seed)
        files += sorted(p for p in folder.rglob("*") if p.suffix in (".xlsx", ".xls"))
        seed += 1
    return files[:n]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def validate_wall(files: list[Path]) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "validate", "--format", "json", *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE_S,
    )  # fmt: skip
    return time.perf_counter() - started, json.loads(done.stdout)


class Site:
    def __init__(self, home: Path, units: list[str]):
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        self.env["JIBAO_HOME"] = str(home)
        accounts = [(f"u{i}", u) for i, u in enumerate(units)]
        script = (
            "from pipelines.console.server import setup_django; setup_django();"
            "from pipelines.console.accounts.users import add_user;"
            f"[add_user(n, 'submitter', {PASSWORD!r}, unit=u) for n, u in {accounts!r}]"
        )
        subprocess.run([sys.executable, "-c", script], env=self.env, cwd=ROOT, check=True)
        self.accounts = dict((u, n) for n, u in accounts)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(home / "serve.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "serve", "--port", str(self.port)],
            env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        end = time.monotonic() + 120
        while time.monotonic() < end:
            try:
                if httpx.get(f"{self.base}/login/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit("jibao serve did not start: " + (home / "serve.log").read_text())
        time.sleep(3)  # let the workers warm the front door, as a running server has

    def session(self, unit: str) -> tuple[httpx.Client, str]:
        c = httpx.Client(base_url=self.base, timeout=60)
        page = c.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        c.post("/login/", data={"username": self.accounts[unit], "password": PASSWORD,
                                "csrfmiddlewaretoken": token})  # fmt: skip
        page = c.get("/submit/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return c, token

    def close(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def upload_round(site: Site, sessions: dict, jobs: list[tuple[Path, str]], workers: int):
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    latencies: list[float] = []
    verdicts: dict[str, str] = {}
    errors: list[str] = []
    lock = threading.Lock()
    end = time.monotonic() + DEADLINE_S

    def submitter() -> None:
        while time.monotonic() < end:
            try:
                path, unit = todo.get_nowait()
            except queue.Empty:
                return
            client, token = sessions[unit]
            started = time.perf_counter()
            try:
                r = client.post(
                    "/submit/upload/",
                    data={"csrfmiddlewaretoken": token},
                    files=[("files", (path.name, path.read_bytes()))],
                )
                loc = r.headers.get("location", "")
                if r.status_code != 302 or "shown=" not in loc:
                    raise RuntimeError(f"HTTP {r.status_code}")
                upload_id = loc.split("shown=")[1]
                while time.monotonic() < end:
                    state = client.get(f"/submit/uploads/{upload_id}/status/").json()
                    if state["state"] != "pending":
                        break
                    time.sleep(POLL_S)
            except (httpx.HTTPError, RuntimeError, ValueError) as exc:
                with lock:
                    errors.append(f"{path.name}: {exc}")
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                verdicts[str(path)] = state["status"]

    threads = [threading.Thread(target=submitter) for _ in range(workers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, verdicts, errors


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200, help="files uploaded per round")
    ap.add_argument("-c", type=int, default=20, help="concurrent submitters")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jibao-bench-console-"))
    try:
        files = sample_files(tmp / "sample", args.n)
        _wall, baseline = validate_wall(files)  # warm the page cache and imports once
        by_file: dict[str, str | None] = {}
        for r in baseline:
            by_file.setdefault(r["file"], r["submitter"])
        from pipelines.registry import load_registry

        units = [s.name for s in load_registry().submitters if s.forms]
        site = Site(tmp / "home", units)
        try:
            sessions = {u: site.session(u) for u in units}
            jobs = [(f, by_file.get(str(f)) or units[0]) for f in files]
            jobs = [(f, u if u in sessions else units[0]) for f, u in jobs]
            rows = []
            for n in range(args.rounds):
                v_wall, _ = validate_wall(files)
                u_wall, lat, verdicts, errors = upload_round(site, sessions, jobs, args.c)
                rows.append((v_wall, u_wall, lat))
                print(
                    f"round {n + 1}: {len(lat)}/{len(files)} verdicts, {len(errors)} errors; "
                    f"validate {v_wall:.2f} s; uploads {u_wall:.2f} s; "
                    f"p50 {pct(lat, 0.5):.2f} s, p95 {pct(lat, 0.95):.2f} s, max {max(lat):.2f} s"
                )
                for e in errors[:5]:
                    print("  error:", e)
            v = statistics.median(r[0] for r in rows)
            u = statistics.median(r[1] for r in rows)
            p50 = statistics.median(pct(r[2], 0.5) for r in rows)
            p95 = statistics.median(pct(r[2], 0.95) for r in rows)
            print(
                f"\nmedian of {args.rounds} rounds, {len(files)} files, {args.c} submitters:\n"
                f"  upload-to-verdict p50 {p50:.2f} s, p95 {p95:.2f} s\n"
                f"  all uploads {u:.2f} s vs jibao validate (one process) {v:.2f} s: "
                f"ratio {u / v:.2f}\n"
                f"  p50 / validate's per-file share ({v / len(files) * 1000:.0f} ms): "
                f"{p50 / (v / len(files)):.1f}"
            )
        finally:
            site.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
