"""Exactly once, whatever happens: intake and replies run as separate processes that are killed
(SIGKILL, no clean-up) at several points, then run again; each message is received once and
answered once. The kill points are chosen by watching what the process has done (receipts
written, messages recorded, replies reaching the SMTP server, a reply in flight), not by hooks
inside it."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable

from pipelines import validate, warehouse
from pipelines.mail.store import open_store, store_path
from pipelines.outbox import FILE_NAME
from pipelines.warehouse.receipts import read_receipts, receipts_path
from tests.mail_messages import CST, XLSX, File, foxmail, plain
from tests.mail_setup import ADDRESSES, set_office
from tests.returns import write_return

pytest_plugins = ["tests.mail_fixtures"]

ARRIVED = dt.datetime(2025, 9, 29, 9, 0, tzinfo=CST)
FETCH = [sys.executable, "-m", "pipelines.cli", "mail", "fetch"]
REPLY = [
    sys.executable,
    "-c",
    "from pipelines import warehouse; from pipelines.mail.replies import answer; "
    "from pipelines.paths import Paths; p = Paths.from_env(); "
    "con = warehouse.connect_published(p); print(answer(p, con).line())",
]


def _run_until(cmd: list[str], killed_when: Callable[[], bool], timeout: float = 120.0) -> bool:
    """Start `cmd`; SIGKILL it as soon as `killed_when()` holds. True if it was killed, False if
    it finished first (then it must have succeeded)."""
    proc = subprocess.Popen(
        cmd, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if killed_when():
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        time.sleep(0.01)
    if proc.poll() is None:
        proc.kill()
        raise AssertionError(f"{cmd[-1][:40]} did not finish in {timeout} s")
    out, err = proc.communicate()
    assert proc.returncode == 0, err.decode(errors="replace")
    return False


def _lines(path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def _rows(db, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute(sql).fetchone()[0]
    except sqlite3.Error:  # the schema is not there yet
        return 0


def test_killed_at_any_point_a_rerun_receives_and_answers_each_message_exactly_once(
    tmp_path, monkeypatch, mailbox, smtp
):
    office = set_office(tmp_path, monkeypatch, mailbox, smtp, replies_per_sender_per_hour=20)
    sender = ADDRESSES["常泰街道"]
    bad = {("street", "hazards_found"): 1, ("street", "hazards_fixed"): 4}
    books = {
        name: write_return(tmp_path / f"{n}.xlsx", form, "常泰街道", values).read_bytes()
        for n, (name, form, values) in enumerate(
            [("表一.xlsx", "form1", bad), ("表二.xlsx", "form2", None), ("表三.xlsx", "form3", None),
             ("表四.xlsx", "form4", None)]
        )
    }  # fmt: skip
    messages = {}
    for n in range(6):
        mid = f"<crash{n}@163.com>"
        files = [File(name, data, XLSX) for name, data in list(books.items())[n % 4 : n % 4 + 1]]
        raw = (
            foxmail(sender, "常泰街道", f"季报表{n}", "请查收", files, message_id=mid, date=ARRIVED)
            if n < 4
            else plain(
                f"clerk{n}@example.cn",
                f"咨询{n}",
                "请问报表模板在哪里下载？",
                message_id=mid,
                date=ARRIVED,
            )  # fmt: skip
        )
        messages[mid] = raw
        mailbox.append(raw, ARRIVED + dt.timedelta(minutes=n))

    receipts, db = receipts_path(office.paths), store_path(office.paths)
    # 1. intake killed after its first receipt, 2. after two messages were recorded, 3. to the end
    assert _run_until(FETCH, lambda: _lines(receipts) >= 1)
    _run_until(FETCH, lambda: _rows(db, "select count(*) from messages") >= 2)
    assert not _run_until(FETCH, lambda: False)

    got = Counter((r.message_id, r.sha256) for r in read_receipts(office.paths))
    assert len(got) == 4 and set(got.values()) == {1}  # every workbook once
    with open_store(office.paths) as store:
        handled = store.all()
    assert sorted(h.message_id for h in handled) == sorted(messages)
    assert all("JibaoProcessed" in flags for flags in mailbox.messages().values())
    drop = [p for p in (office.paths.raw / "2025Q3" / "电子邮件").iterdir()]
    assert sorted(p.name for p in drop) == sorted(books)

    warehouse.refresh(office.paths, ["2025Q3"], validate.validate_paths)
    outbox = office.paths.data / "outbox" / FILE_NAME
    # 4. replies killed once the first reached the server; 5. killed while one is in flight
    # (the server keeps the message, then takes its time to say 250); 6. to the end
    _run_until(REPLY, lambda: len(smtp.received) >= 1)
    smtp.delay = 3.0
    _run_until(
        REPLY,
        lambda: _rows(outbox, "select count(*) from deliveries where status = 'pending'") >= 1,
    )
    smtp.delay = 0.0
    assert not _run_until(REPLY, lambda: False)

    by_original = {mid: smtp.replies_to(mid) for mid in messages}
    ids = {mid: {r.message["Message-ID"] for r in got} for mid, got in by_original.items()}
    assert all(len(v) == 1 for v in ids.values()), ids  # one reply per message …
    copies = Counter(len(got) for got in by_original.values())
    assert set(copies) <= {1, 2} and copies[2] <= 2  # a copy only of a send cut off mid-way
    assert all(r.rcpt_tos for got in by_original.values() for r in got)
    rejected = by_original["<crash0@163.com>"][0]
    assert any(
        a.get_filename().endswith("_问题标注.xlsx") for a in rejected.message.iter_attachments()
    )
    # and a further pass sends nothing
    before = len(smtp.received)
    assert not _run_until(REPLY, lambda: False)
    assert len(smtp.received) == before
