"""The outbox on its own: intent before the transport, result after, the rules for what is sent
again, real SQLite files, real loopback SMTP and HTTP servers, real processes killed mid-send;
and the console's 「发送通知」 for a quarter."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest

from pipelines import warehouse
from pipelines.outbox import UNKNOWN_NOTE, Intent, Outbox, Outcome
from pipelines.outputs import delivery
from pipelines.outputs.sending import send_quarter_letters
from pipelines.paths import Paths
from pipelines.validate import validate_paths
from tests.outbox_fixtures import (
    config_with_recipients,
    free_port,
    robot,
    running_robot,
    running_smtp,
    smtp_inbox,
    submitter_of,
)
from tests.returns import FORM1_STREET, write_return

__all__ = ["robot", "smtp_inbox"]  # fixtures used by name

QUARTER = "2025Q3"


def intent(channel="webhook", fingerprint="fp-1", **kw) -> Intent:
    recipient = {"email": "ct@example.org", "file": "/tmp/x"}.get(channel, "http://robot/…")
    return Intent(kind="alert", channel=channel, fingerprint=fingerprint, recipient=recipient,
                  quarter=QUARTER, submitter="常泰街道", **kw)  # fmt: skip


@pytest.fixture
def ob(tmp_path: Path) -> Outbox:
    return Outbox.open(Paths(tmp_path))


def smtp_settings(port: int) -> delivery.SmtpSettings:
    return delivery.SmtpSettings(
        "127.0.0.1", port, "none", "office@lc.example.gov.cn", "区安委办", timeout=5
    )


# ---------------------------------------------------------------- the state machine


def test_the_intent_is_on_disk_before_the_transport_runs(ob: Outbox):
    seen = []

    def send(attempt):
        other = Outbox(ob.file)  # another connection, as another process would see it
        seen.append((other.get(attempt.key).status, attempt.number))
        return Outcome("sent", "HTTP 200")

    result = ob.deliver(intent(), send)
    assert seen == [("pending", 1)]
    assert (result.status, ob.get(result.key).status) == ("sent", "sent")


def test_a_sent_letter_is_not_sent_again_and_a_changed_one_is(ob: Outbox):
    calls = []
    send = lambda a: calls.append(a.key) or Outcome("sent", "ok")  # noqa: E731
    assert ob.deliver(intent(), send).status == "sent"
    again = ob.deliver(intent(by="张三"), send)
    assert (again.status, len(calls)) == ("skipped", 1)
    assert ob.deliver(intent(fingerprint="fp-2"), send).status == "sent"
    assert ob.deliver(intent(channel="email"), send).status == "sent"  # another channel
    assert len(calls) == 3


def test_a_known_failure_is_sent_again_then_once(ob: Outbox):
    outcomes = iter([Outcome("failed", "HTTP 200 errcode=93000"), Outcome("sent", "HTTP 200")])
    send = lambda a: next(outcomes)  # noqa: E731
    assert ob.deliver(intent(), send).status == "failed"
    ok = ob.deliver(intent(by="run:2"), send)
    assert (ok.status, ok.attempt) == ("sent", 2)
    assert ob.deliver(intent(), send).status == "skipped"
    rows = [(r["attempt"], r["status"], r["requested_by"]) for r in ob.attempt_rows()]
    assert rows == [(1, "failed", "jibao"), (2, "sent", "run:2")]


def test_an_exception_in_a_transport_is_recorded_not_raised(ob: Outbox):
    def boom(attempt):
        raise RuntimeError("网络异常")

    assert ob.deliver(intent(channel="email"), boom).status == "failed"  # e-mail: retried
    hook = ob.deliver(intent(), boom)
    assert hook.status == "unknown" and UNKNOWN_NOTE in hook.detail  # a webhook: never again


def test_an_unknown_webhook_waits_for_the_office(ob: Outbox):
    calls = []

    def send(attempt):
        calls.append((attempt.intent.fingerprint, attempt.number))
        return Outcome("unknown", "ReadTimeout") if len(calls) == 1 else Outcome("sent", "ok")

    first = ob.deliver(intent(), send)
    assert first.status == "unknown" and UNKNOWN_NOTE in first.detail
    assert ob.deliver(intent(), send).status == "unknown" and len(calls) == 1  # not re-posted
    assert [r.key for r in ob.unresolved(["alert"], [QUARTER])] == [first.key]

    with pytest.raises(ValueError):
        ob.resolve(ob.deliver(intent(fingerprint="x"), send).key, delivered=True, by="张三")
    rec = ob.resolve(first.key, delivered=False, by="张三", note="群里没有看到")
    assert (
        rec.status == "failed" and "张三 已核实未收到" in rec.detail and rec.resolved_by == "张三"
    )
    assert ob.deliver(intent(), send).status == "sent"
    assert calls == [("fp-1", 1), ("x", 1), ("fp-1", 2)]
    assert ob.unresolved() == []

    other = ob.deliver(intent(fingerprint="fp-9"), lambda a: Outcome("unknown", "ReadError"))
    ob.resolve(other.key, delivered=True, by="李四")
    assert ob.deliver(intent(fingerprint="fp-9"), send).status == "skipped"


def test_rewrite_is_only_for_letter_files(ob: Outbox):
    calls = []
    send = lambda a: calls.append(a.number) or Outcome("sent", "通知.md")  # noqa: E731
    ob.deliver(intent(channel="file"), send)
    assert ob.deliver(intent(channel="file"), send, rewrite=True).attempt == 2
    with pytest.raises(ValueError):
        ob.deliver(intent(channel="email"), send, rewrite=True)
    assert calls == [1, 2]


def test_two_senders_at_once_send_a_letter_once(ob: Outbox):
    calls = []

    def send(attempt):
        calls.append(threading.get_ident())
        time.sleep(0.05)
        return Outcome("sent", "ok")

    threads = [
        threading.Thread(target=lambda: ob.deliver(intent(), send)) for _ in range(6)
    ]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1


def test_sent_count_counts_recent_sends_to_one_recipient(ob: Outbox):
    for n in range(3):
        ob.deliver(intent(channel="email", fingerprint=f"m{n}"), lambda a: Outcome("sent", "ok"))
    hour_ago = dt.datetime.now().astimezone() - dt.timedelta(hours=1)
    assert ob.sent_count("email", "ct@example.org", hour_ago) == 3
    assert ob.sent_count("email", "other@example.org", hour_ago) == 0
    assert ob.sent_count("email", "ct@example.org", hour_ago + dt.timedelta(hours=2)) == 0


# ---------------------------------------------------------------- a process killed mid-send

KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from pipelines import outbox
    from pipelines.outputs import delivery
    stage, channel, port, file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    outbox._fault_hooks.append(
        lambda s, a: os.kill(os.getpid(), signal.SIGKILL) if s == stage else None)
    ob = outbox.Outbox(Path(file))
    smtp = delivery.SmtpSettings("127.0.0.1", port, "none", "office@lc.example.gov.cn", "区安委办")
    i = outbox.Intent("alert", channel, "fp-1", "ct@example.org" if channel == "email" else "http://r/…",
                      quarter="2025Q3", submitter="常泰街道", subject="【季报表数据核查】常泰街道 通知")
    if channel == "email":
        delivery.deliver_email(ob, i, smtp, lambda: delivery.compose_email(
            smtp, ["ct@example.org"], i.subject, "正文"))
    else:
        delivery.deliver_webhook(ob, i, sys.argv[5], "【季报表数据核查】常泰街道 通知")
    """
)


def killed_sender(ob: Outbox, stage: str, channel: str, port: int, url: str = "") -> None:
    out = subprocess.run(
        [sys.executable, "-c", KILLED, stage, channel, str(port), str(ob.file), url],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[1],
    )  # fmt: skip
    assert out.returncode == -signal.SIGKILL, out.stderr


def test_an_email_cut_off_after_its_intent_is_sent_once_with_the_recorded_message_id(
    ob: Outbox, smtp_inbox
):
    killed_sender(ob, "intent", "email", smtp_inbox.port)
    assert smtp_inbox.messages == []
    (pending,) = ob.records(status=["pending"])
    assert pending.message_id == delivery.message_id_for(pending.key, "office@lc.example.gov.cn")

    (recovered,) = ob.recover(["alert"], [QUARTER])
    assert recovered.interrupted and recovered.status == "failed"  # e-mail: to be sent again
    smtp = smtp_settings(smtp_inbox.port)
    i = Intent("alert", "email", "fp-1", "ct@example.org", quarter=QUARTER, submitter="常泰街道")
    result = delivery.deliver_email(
        ob, i, smtp, lambda: delivery.compose_email(smtp, ["ct@example.org"], "通知", "正文")
    )
    assert result.status == "sent" and result.attempt == 2
    ((_, msg),) = smtp_inbox.messages
    assert msg["Message-ID"] == pending.message_id


def test_a_webhook_cut_off_after_the_robot_got_it_is_never_posted_again(ob: Outbox, robot):
    killed_sender(ob, "sent", "webhook", 0, robot.url)
    assert len(robot.posts) == 1
    i = Intent("alert", "webhook", "fp-1", "http://r/…", quarter=QUARTER, submitter="常泰街道")
    again = delivery.deliver_webhook(ob, i, robot.url, "【季报表数据核查】常泰街道 通知")
    assert again.interrupted and again.status == "unknown" and UNKNOWN_NOTE in again.detail
    assert len(robot.posts) == 1
    assert [r.key for r in ob.unresolved()] == [i.key]


# ---------------------------------------------------------------- channels


def test_webhook_outcomes_known_and_unknown(ob: Outbox, robot):
    hook = lambda fp: Intent("alert", "webhook", fp, "r", submitter="x")  # noqa: E731
    refused = delivery.deliver_webhook(
        ob, hook("a"), f"http://127.0.0.1:{free_port()}/", "【通知】甲 x"
    )
    assert refused.status == "failed" and "ConnectError" in refused.detail
    robot.http_error.add("乙")
    assert delivery.deliver_webhook(ob, hook("b"), robot.url, "【通知】乙 x").status == "failed"
    robot.refuse_first.add("丙")
    errcode = delivery.deliver_webhook(ob, hook("c"), robot.url, "【通知】丙 x")
    assert errcode.status == "failed" and "errcode=93000" in errcode.detail
    robot.stall["丁"] = 1.5
    slow = delivery.deliver_webhook(ob, hook("d"), robot.url, "【通知】丁 x", timeout=0.3)
    assert slow.status == "unknown" and "ReadTimeout" in slow.detail
    # Known failures go out again; the unknown one does not.
    for fp, text in (("a", "甲"), ("b", "乙"), ("c", "丙"), ("d", "丁")):
        delivery.deliver_webhook(ob, hook(fp), robot.url, f"【通知】{text} x")
    assert robot.received() == {"乙": 2, "丙": 2, "丁": 1, "甲": 1}
    assert robot.accepted() == {"甲": 1, "丙": 1, "丁": 1}  # 丁: the robot had it; we never knew


def test_headers_and_payloads_carry_no_control_or_bidi_characters(ob: Outbox, smtp_inbox, robot):
    hostile = "常泰街道\u202e\r\nBcc: evil@example.org\x1b[31m"
    smtp = dataclasses.replace(smtp_settings(smtp_inbox.port), sender_name="区安委办\u202e\n")
    i = Intent("alert", "email", "h1", "ct@example.org", submitter=hostile)
    res = delivery.deliver_email(
        ob, i, smtp, lambda: delivery.compose_email(smtp, ["ct@example.org"], hostile, "正文")
    )
    assert res.status == "sent"
    ((rcpt, msg),) = smtp_inbox.messages
    assert rcpt == ["ct@example.org"] and msg["Bcc"] is None
    subject = str(msg["Subject"])
    assert "\u202e" not in subject and "\x1b" not in subject and "\n" not in subject
    assert "<U+202E>" in subject and "\\x1b" in subject
    assert "\u202e" not in str(msg["From"]) and "区安委办" in str(msg["From"])

    w = Intent("alert", "webhook", "h2", "r", submitter=hostile)
    delivery.deliver_webhook(ob, w, robot.url, f"【通知】{hostile}\n第二行")
    ((content, _),) = robot.posts
    assert "\u202e" not in content and "\x1b" not in content and "第二行" in content


def test_a_reply_is_threaded_and_keeps_its_message_id(ob: Outbox, smtp_inbox, tmp_path: Path):
    """What the mailbox helper does: answer a message keyed by its Message-ID."""
    book = tmp_path / "常泰街道表二_问题标注.xlsx"
    book.write_bytes(b"PK\x03\x04 not really a workbook")
    smtp = smtp_settings(smtp_inbox.port)
    asked = "<abc123@mail.example.org>"
    i = Intent("reply", "email", asked, "ct@example.org", quarter=QUARTER, submitter="常泰街道",
               subject="回复：已收到", by="mail")  # fmt: skip
    build = lambda: delivery.compose_email(  # noqa: E731
        smtp, ["ct@example.org"], "回复：已收到", "已收到。", None, [book],
        in_reply_to=asked, references=["<older@mail.example.org>", asked],
    )  # fmt: skip
    assert delivery.deliver_email(ob, i, smtp, build).status == "sent"
    assert delivery.deliver_email(ob, i, smtp, build).status == "skipped"  # one reply per message
    ((_, msg),) = smtp_inbox.messages
    assert msg["In-Reply-To"] == asked
    assert msg["References"] == f"<older@mail.example.org> {asked}"
    assert msg["Message-ID"] == delivery.message_id_for(i.key, smtp.sender)
    (att,) = msg.iter_attachments()
    assert att.get_filename() == book.name


# ---------------------------------------------------------------- the warehouse copy


def test_alert_deliveries_is_a_copy_of_the_outbox_loaded_by_every_build(tmp_path: Path):
    paths = Paths(tmp_path)
    paths.warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(paths.warehouse)) as con:  # a warehouse from before the outbox
        con.execute(
            "create table alert_deliveries (alert_id varchar, quarter varchar, submitter varchar, "
            "channel varchar, fingerprint varchar, recipient varchar, sent_at timestamp, "
            "status varchar check (status in ('sent', 'failed')), detail varchar)"
        )
        con.execute("insert into alert_deliveries values ('x', '2025Q3', 'a', 'file', 'f', 'r', "
                    "now(), 'sent', 'old')")  # fmt: skip
    ob = Outbox.open(paths)
    ob.deliver(intent(), lambda a: Outcome("unknown", "ReadTimeout"))
    ob.deliver(intent(channel="email"), lambda a: Outcome("failed", "refused"))
    ob.deliver(intent(channel="email"), lambda a: Outcome("sent", "ok"))
    warehouse.publish(paths, lambda con: None)
    with warehouse.connect_published(paths) as con:
        rows = con.execute(
            "select channel, attempt, status, requested_by, submitter from alert_deliveries "
            "order by channel, attempt"
        ).fetchall()
    assert rows == [
        ("email", 1, "failed", "jibao", "常泰街道"),
        ("email", 2, "sent", "jibao", "常泰街道"),
        ("webhook", 1, "unknown", "jibao", "常泰街道"),
    ]


# ---------------------------------------------------------------- the console's button


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A published warehouse for 2025Q3: 常泰街道 complete, 开元街道 with a defective 表一."""
    paths = Paths(tmp_path_factory.mktemp("letters_home"))
    raw = paths.raw_quarter(QUARTER)
    raw.mkdir(parents=True)
    for form in ("form2", "form3", "form4"):
        write_return(raw / f"常泰街道{form}.xlsx", form, "常泰街道")
    write_return(raw / "常泰街道表一.xlsx", "form1", "常泰街道",
                 {("street", k): v for k, v in FORM1_STREET.items()})  # fmt: skip
    bad = FORM1_STREET | {"ent_total": 999}
    write_return(raw / "开元街道表一.xlsx", "form1", "开元街道",
                 {("street", k): v for k, v in bad.items()})  # fmt: skip
    warehouse.refresh(paths, [QUARTER], validate_paths)
    return paths.warehouse


def test_the_console_sends_a_quarters_letters_once_with_who_asked(
    published: Path, tmp_path: Path, monkeypatch
):
    paths = Paths(tmp_path / "home")
    paths.warehouse.parent.mkdir(parents=True)
    shutil.copyfile(published, paths.warehouse)
    cfg = config_with_recipients(tmp_path / "config", {"开元街道": "ky@example.org"})
    monkeypatch.setenv("JIBAO_CONFIG_DIR", str(cfg))
    monkeypatch.delenv("JIBAO_WAREHOUSE", raising=False)
    with running_smtp() as inbox, running_robot() as bot:
        monkeypatch.setenv("JIBAO_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("JIBAO_SMTP_PORT", str(inbox.port))
        monkeypatch.setenv("JIBAO_WEBHOOK_URL", bot.url)
        bot.refuse_first.add("区卫健局")
        day = dt.date(2025, 10, 10)
        first = send_quarter_letters(paths, QUARTER, by="王芳", today=day)
        units = {d.submitter for d in first.sent if d.channel == "webhook"}
        assert len(units) == 20 and "区卫健局" not in units  # 21 letters, one post refused
        assert [(d.submitter, d.channel) for d in first.failed] == [("区卫健局", "webhook")]
        assert [submitter_of(str(m["Subject"])) for _, m in inbox.messages] == ["开元街道"]
        assert {r.created_by for r in Outbox.open(paths).records()} == {"王芳"}

        again = send_quarter_letters(paths, QUARTER, by="李明", today=day)
        assert [(d.submitter, d.channel, d.status) for d in again.sent] == [
            ("区卫健局", "webhook", "sent")
        ]
        assert len(again.skipped) == 20 and again.failed == [] and again.unknown == []
        assert len(inbox.messages) == 1 and bot.accepted()["区卫健局"] == 1
    rows = Outbox.open(paths).attempt_rows()
    assert [r["requested_by"] for r in rows if r["submitter"] == "区卫健局" and r["channel"] == "webhook"] == ["王芳", "李明"]  # fmt: skip
    assert (paths.outbox_dir(QUARTER, "开元街道") / f"通知_{QUARTER}.md").exists()
