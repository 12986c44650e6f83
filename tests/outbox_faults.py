"""Test-only entry point: `jibao` with a fault planted in the outbox, for the crash tests.

    python tests/outbox_faults.py '<plan json>' run --quarter 2025Q3

The plan: {"kill": {"channel": "webhook", "stage": "sent", "nth": 3}} SIGKILLs this process at
the nth time an attempt on `channel` reaches `stage` ("intent": recorded, not yet sent; "sent":
the transport returned, its result not yet recorded; "recorded"). {"fail_report": true} makes
the leaders' report step raise. The hook is registered in Python, in this process only
(pipelines.outbox._fault_hooks): nothing in production code, the environment or configuration
can plant it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def plant(plan: dict) -> None:
    from pipelines import outbox

    kill = plan.get("kill")
    if kill:
        seen = {"n": 0}

        def hook(stage: str, attempt: outbox.Attempt) -> None:
            if stage == kill["stage"] and attempt.intent.channel == kill["channel"]:
                seen["n"] += 1
                if seen["n"] == kill["nth"]:
                    sys.stdout.flush()
                    os.kill(os.getpid(), signal.SIGKILL)

        outbox._fault_hooks.append(hook)
    if plan.get("fail_report"):
        from pipelines.outputs import report

        def broken(*args, **kwargs):
            raise RuntimeError("报告步骤故障（测试）")

        report.write_report = broken


if __name__ == "__main__":
    plant(json.loads(sys.argv[1]))
    from pipelines.cli import main

    raise SystemExit(main(sys.argv[2:]))
