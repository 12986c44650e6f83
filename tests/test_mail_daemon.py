"""The mailbox as the office runs it: `dagster dev` on loopback with its daemon, a real Dovecot
account and an aiosmtpd server. A message appended to the mailbox is received by the
`mailbox_sensor`, the drop-folder sensor starts the quarter's run (in its own processes), and
that run's `mail_replies` answers it once, threaded. Deadlines are hang bounds, not speed
claims (benchmarks/mail.py measures the latency)."""

from __future__ import annotations

import datetime as dt
import signal
import time

import duckdb

from tests.mail_messages import CST, File, foxmail
from tests.mail_setup import ADDRESSES, set_office
from tests.returns import write_return
from tests.test_daemon import _until, start_dagster_dev, stop

pytest_plugins = ["tests.mail_fixtures"]  # Dovecot, aiosmtpd

ARRIVED = dt.datetime(2025, 9, 30, 16, 20, 5, tzinfo=CST)
MESSAGE_ID = "<daemon-path@163.com>"


def test_an_emailed_return_is_received_run_and_answered_once_by_the_daemon(
    tmp_path, monkeypatch, mailbox, smtp
):
    set_office(tmp_path, monkeypatch, mailbox, smtp)  # configuration and IMAP/SMTP environment
    monkeypatch.setenv("JIBAO_IMAP_POLL_SECONDS", "2")
    book = write_return(tmp_path / "b.xlsx", "form1", "常泰街道").read_bytes()
    dev = start_dagster_dev(tmp_path / "dev", sensor_interval=2)
    try:
        mailbox.append(
            foxmail(
                ADDRESSES["常泰街道"], "常泰街道安监办", "常泰街道2025年第三季度季报表", "请查收。",
                [File("常泰街道表一.xlsx", book)], message_id=MESSAGE_ID,
                date=ARRIVED - dt.timedelta(days=1),
            ),
            ARRIVED,
        )  # fmt: skip
        (reply,) = _until(f"the reply (log: {dev.log})", lambda: smtp.replies_to(MESSAGE_ID))
        runs = dev.wait_finished(**{"jibao/source": "drop_folder"})  # the reply is not its end
        assert {r.status.value for r in runs} == {"SUCCESS"}
        assert reply.rcpt_tos == [ADDRESSES["常泰街道"]]
        assert reply.message["In-Reply-To"] == MESSAGE_ID
        assert reply.message["Subject"].startswith("回复：")
        with duckdb.connect(str(dev.paths.warehouse), read_only=True) as con:
            ledger = con.execute(
                "select submitter, form, status, channel, received_by, message_id, received_at "
                "from submissions where quarter = '2025Q3'"
            ).fetchall()
        assert ledger == [
            ("常泰街道", "form1", "accepted", "mail", ADDRESSES["常泰街道"], MESSAGE_ID,
             ARRIVED.replace(tzinfo=None)),
        ]  # fmt: skip
        time.sleep(6)  # a few more looks of both sensors: nothing new, nothing answered again
    finally:
        stop(dev, signal.SIGINT, group=True)
    assert len(smtp.replies_to(MESSAGE_ID)) == 1
