"""Loopback servers for the delivery tests: an aiosmtpd inbox and an HTTP group robot that can
refuse (errcode), fail (HTTP 500) or stall (no answer before the client's timeout)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.server
import json
import re
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller

from pipelines import config

SUBJECT = re.compile(r"【[^】]+】(\S+) ")


def submitter_of(subject: str) -> str:
    """「【季报表数据核查】常泰街道 2025年第三季度 报表问题通知」 → 常泰街道"""
    m = SUBJECT.search(subject)
    return m.group(1) if m else ""


class Inbox:
    """What the SMTP server received, in order."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def by_submitter(self) -> dict[str, list[EmailMessage]]:
        out: dict[str, list[EmailMessage]] = {}
        for _, msg in self.messages:
            out.setdefault(submitter_of(str(msg["Subject"])), []).append(msg)
        return out


@dataclass
class RobotState:
    """Programmable behaviour, by a text the posted content contains (a unit's name)."""

    posts: list[tuple[str, str]] = field(default_factory=list)  # (content, answer)
    refuse_first: set[str] = field(default_factory=set)  # errcode 93000, once
    http_error: set[str] = field(default_factory=set)  # HTTP 500, every time
    stall: dict[str, float] = field(default_factory=dict)  # seconds before answering
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> Counter[str]:
        return Counter(submitter_of(c.split("\n", 1)[0]) for c, a in self.posts if a == "ok")

    def received(self) -> Counter[str]:
        return Counter(submitter_of(c.split("\n", 1)[0]) for c, _ in self.posts)


def _robot_handler(state: RobotState):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            content = body["markdown"]["content"]
            first = content.split("\n", 1)[0]
            with state.lock:
                hit = next((t for t in state.refuse_first if t in first), None)
                if hit:
                    state.refuse_first.discard(hit)
                answer = (
                    "refused"
                    if hit
                    else "http500"
                    if any(t in first for t in state.http_error)
                    else "ok"
                )
                state.posts.append((content, answer))
            delay = next((s for t, s in state.stall.items() if t in first), 0.0)
            if delay:
                time.sleep(delay)
            if answer == "http500":
                self.send_error(500)
                return
            reply = {"errcode": 93000, "errmsg": "invalid webhook url"} if hit else {"errcode": 0}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)  # a client that timed out has gone

        def log_message(self, *args):
            pass

    return Handler


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_smtp() -> Iterator[Inbox]:
    """aiosmtpd on 127.0.0.1 at a free port (`inbox.port`)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port  # type: ignore[attr-defined]
    try:
        yield inbox
    finally:
        controller.stop()


@contextlib.contextmanager
def running_robot() -> Iterator[RobotState]:
    """An HTTP group robot on 127.0.0.1 at a free port (`state.url`, with a secret key)."""
    state = RobotState()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _robot_handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=secret"  # type: ignore[attr-defined]
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def smtp_inbox() -> Iterator[Inbox]:
    with running_smtp() as inbox:
        yield inbox


@pytest.fixture
def robot() -> Iterator[RobotState]:
    with running_robot() as state:
        yield state


def config_with_recipients(target: Path, emails: dict[str, str]) -> Path:
    """A copy of the configuration whose alerts.yaml gives these units an e-mail address."""
    shutil.copytree(
        config.DEFAULT_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    alerts = yaml.safe_load((target / "alerts.yaml").read_text(encoding="utf-8"))
    alerts["recipients"] = {name: {"email": [addr]} for name, addr in emails.items()}
    (target / "alerts.yaml").write_text(yaml.safe_dump(alerts, allow_unicode=True), "utf-8")
    return target
