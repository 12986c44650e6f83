"""Every letter is delivered at most once and never lost, whatever happens to the run.

`jibao run` (the Dagster job, in a subprocess, as the office runs it) is SIGKILLed between a
send and its record, then run again, with a loopback SMTP server and HTTP group robot counting
what arrives. The kills are planted by tests/outbox_faults.py, a test-only entry point.

One world, four runs in order (each test is one step; they share the module's state):

1. the robot refuses 鲤中街道's first post (errcode); the run is killed right after the robot
   received 海滨街道's post, before the outbox recorded it;
2. the run is killed right after the SMTP server accepted 金龙街道's e-mail, before its record;
3. the leaders' report step fails; the letters step completes; the run exits 1;
4. a clean run: nothing at all is sent again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.outbox import UNKNOWN_NOTE, Outbox
from pipelines.paths import Paths
from pipelines.registry import load_registry
from tests.outbox_fixtures import (
    Inbox,
    RobotState,
    config_with_recipients,
    running_robot,
    running_smtp,
)
from tests.returns import FORM1_STREET, write_return

QUARTER = "2025Q3"
EMAILS = {
    "开元街道": "ky@example.org",
    "海滨街道": "hb@example.org",
    "金龙街道": "jl@example.org",
    "江南街道": "jn@example.org",
    "常泰街道": "ct@example.org",
}
FAULTS = Path(__file__).with_name("outbox_faults.py")
UNITS = [s.name for s in load_registry().submitters if s.forms]  # every one owes a letter


class World:
    def __init__(self, home: Path, env: dict[str, str], inbox: Inbox, robot: RobotState):
        self.home, self.env, self.inbox, self.robot = home, env, inbox, robot
        self.paths = Paths(home)
        self.runs: list[subprocess.CompletedProcess] = []

    def run(self, plan: dict) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [sys.executable, str(FAULTS), json.dumps(plan), "run", "--quarter", QUARTER],
            env=self.env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        self.runs.append(out)
        return out

    @property
    def outbox(self) -> Outbox:
        return Outbox.open(self.paths)

    def status(self, submitter: str, channel: str) -> str:
        (rec,) = [
            r for r in self.outbox.records() if (r.submitter, r.channel) == (submitter, channel)
        ]
        return rec.status


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A 2025Q3 drop folder after its due date (常泰街道 complete, 开元街道 one defective 表一,
    nobody else): all 21 units get a letter; five have an e-mail address, all share the group
    robot. Servers live for the whole module."""
    root = tmp_path_factory.mktemp("outbox_crash")
    home = root / "home"
    raw = Paths(home).raw_quarter(QUARTER)
    raw.mkdir(parents=True)
    write_return(raw / "常泰街道表一.xlsx", "form1", "常泰街道",
                 {("street", k): v for k, v in FORM1_STREET.items()})  # fmt: skip
    for form in ("form2", "form3", "form4"):
        write_return(raw / f"常泰街道{form}.xlsx", form, "常泰街道")
    bad = FORM1_STREET | {"ent_total": 999}
    write_return(raw / "开元街道表一.xlsx", "form1", "开元街道",
                 {("street", k): v for k, v in bad.items()})  # fmt: skip
    cfg = config_with_recipients(root / "config", EMAILS)

    with running_smtp() as inbox, running_robot() as bot:
        env = {**os.environ, "JIBAO_HOME": str(home), "JIBAO_CONFIG_DIR": str(cfg),
               "DAGSTER_HOME": str(root / "dagster"), "JIBAO_SMTP_HOST": "127.0.0.1",
               "JIBAO_SMTP_PORT": str(inbox.port), "JIBAO_WEBHOOK_URL": bot.url,
               "JIBAO_WEBHOOK_TIMEOUT": "5"}  # fmt: skip
        env.pop("JIBAO_WAREHOUSE", None)
        (root / "dagster").mkdir()
        yield World(home, env, inbox, bot)


def test_1_killed_after_the_robot_received_a_post_before_it_was_recorded(world):
    world.robot.refuse_first.add("鲤中街道")
    out = world.run({"kill": {"channel": "webhook", "stage": "sent", "nth": 3}})
    assert out.returncode == -signal.SIGKILL, out.stdout + out.stderr
    # Registry order: 开元街道 (sent), 鲤中街道 (refused), 海滨街道 (received, then the kill).
    assert world.robot.received() == {"开元街道": 1, "鲤中街道": 1, "海滨街道": 1}
    assert world.status("开元街道", "webhook") == "sent"
    assert world.status("鲤中街道", "webhook") == "failed"
    assert world.status("海滨街道", "webhook") == "pending"  # intent on disk, no result
    assert sorted(world.inbox.by_submitter()) == ["开元街道", "海滨街道"]


def test_2_killed_after_the_smtp_server_accepted_a_message_before_it_was_recorded(world):
    out = world.run({"kill": {"channel": "email", "stage": "sent", "nth": 1}})
    assert out.returncode == -signal.SIGKILL, out.stdout + out.stderr
    # 海滨街道's post was not re-posted; 鲤中街道's refused post was retried and accepted.
    assert world.robot.received()["海滨街道"] == 1
    assert world.robot.accepted()["鲤中街道"] == 1
    assert world.status("海滨街道", "webhook") == "unknown"
    (jl,) = world.inbox.by_submitter()["金龙街道"]
    assert world.status("金龙街道", "email") == "pending"
    (rec,) = [
        r for r in world.outbox.records() if (r.submitter, r.channel) == ("金龙街道", "email")
    ]
    assert jl["Message-ID"] == rec.message_id


def test_3_a_failing_report_step_leaves_the_letters_delivered(world):
    out = world.run({"fail_report": True})
    assert out.returncode == 1, out.stdout + out.stderr
    assert "leaders_report" in out.stderr and "Traceback" not in out.stdout
    # Told, in Chinese, in the run's progress lines: what the kills left behind.
    assert "上次运行在发送中中断：金龙街道 的问题通知（邮件），本次重新发送" in out.stdout
    assert f"{UNKNOWN_NOTE}：海滨街道 的问题通知（群机器人）" in out.stdout
    # ... and in the Dagster metadata of the letters step.
    instance = dg.DagsterInstance.from_config(world.env["DAGSTER_HOME"])
    event = instance.get_latest_materialization_event(dg.AssetKey("submitter_alerts"))
    assert event is not None
    to_check = event.asset_materialization.metadata["to_check"].value
    assert f"{UNKNOWN_NOTE}：海滨街道" in to_check and "金龙街道" in to_check

    # 金龙街道's e-mail went out again with the same Message-ID: the same message, twice.
    first, again = world.inbox.by_submitter()["金龙街道"]
    assert first["Message-ID"] == again["Message-ID"]
    assert world.status("金龙街道", "email") == "sent"


def test_4_a_clean_run_sends_nothing_again_and_every_letter_arrived_once(world):
    mails, posts = len(world.inbox.messages), len(world.robot.posts)
    out = world.run({})
    assert out.returncode == 0, out.stdout + out.stderr
    assert (len(world.inbox.messages), len(world.robot.posts)) == (mails, posts)
    assert f"{UNKNOWN_NOTE}：海滨街道" in out.stdout  # still to check, still not re-posted

    # The robot accepted every unit's letter exactly once; 海滨街道's one post is the unknown one.
    accepted = world.robot.accepted()
    assert {u: accepted[u] for u in UNITS} == dict.fromkeys(UNITS, 1)
    assert world.robot.received()["鲤中街道"] == 2  # refused once, then accepted once
    # Each e-mail letter arrived once per Message-ID; only 金龙街道's crash came after the
    # server had it, and its second copy is the same message.
    by_sub = world.inbox.by_submitter()
    assert sorted(by_sub) == sorted(EMAILS)
    for unit, msgs in by_sub.items():
        assert len({m["Message-ID"] for m in msgs}) == 1, unit
        assert len(msgs) == (2 if unit == "金龙街道" else 1), unit
        assert msgs[0]["To"] == EMAILS[unit]

    # The warehouse's alert_deliveries is the outbox's copy (loaded at this run's build).
    with duckdb.connect(str(world.paths.warehouse), read_only=True) as con:
        rows = con.execute(
            "select submitter, channel, status from alert_deliveries where attempt = "
            "(select max(attempt) from alert_deliveries d where d.delivery_key = "
            "alert_deliveries.delivery_key)"
        ).fetchall()
    assert ("海滨街道", "webhook", "unknown") in rows
    assert {s for s, c, st in rows if st != "sent"} == {"海滨街道"}
