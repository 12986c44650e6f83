"""Alerts and reminders end to end: letters and annotated copies in the outbox, delivered to a real
SMTP server and a real HTTP robot, recorded, never sent twice, retried after a failure."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import http.server
import io
import json
import shutil
import socket
import threading
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from openpyxl import Workbook, load_workbook

from pipelines import config, warehouse
from pipelines.forms.layout import layout
from pipelines.forms.workbook import save_workbook, write_form, write_form_xls
from pipelines.model import Issue, ReturnResult
from pipelines.outputs import alerts as alerts_mod
from pipelines.outputs.annotate import ERROR_COLOR, WARNING_COLOR, CellNote, annotate, safe_filename
from pipelines.outputs.letters import md_escape
from pipelines.paths import Paths
from pipelines.registry import load_registry
from pipelines.warehouse import load_batches
from pipelines.warehouse.archive import ReceivedFile, archive_file
from pipelines.warehouse.synthetic import fake_sha, make_return

QUARTER = "2025Q3"
AFTER_DUE = dt.date(2025, 10, 10)  # a Friday: 5 working days → 2025-10-17
BEFORE_DUE = dt.date(2025, 9, 26)
HOSTILE = "<script>alert(1)</script>街道"
CT_MAIL, WJ_MAIL, HOSTILE_MAIL = "ct@example.org", "wj@example.org", "evil@example.org"

# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


class Robot(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        reply = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def robot():
    handler = type("RobotHandler", (Robot,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=secret", handler
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------- configuration and warehouse


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the configuration with recipients and a hostile-named 街道 in the registry."""
    target = tmp_path / "config"
    shutil.copytree(
        config.DEFAULT_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    subs = yaml.safe_load((target / "submitters.yaml").read_text(encoding="utf-8"))
    subs["submitters"].append({"name": HOSTILE, "code": "hostile", "type": "街道", "aliases": []})
    (target / "submitters.yaml").write_text(
        yaml.safe_dump(subs, allow_unicode=True), encoding="utf-8"
    )
    alerts = yaml.safe_load((target / "alerts.yaml").read_text(encoding="utf-8"))
    alerts["recipients"] = {
        "常泰街道": {"email": [CT_MAIL]},
        "区卫健局": {"email": WJ_MAIL},
        HOSTILE: {"email": [HOSTILE_MAIL]},
    }
    (target / "alerts.yaml").write_text(
        yaml.safe_dump(alerts, allow_unicode=True), encoding="utf-8"
    )
    monkeypatch.setenv("JIBAO_CONFIG_DIR", str(target))
    for var in ("JIBAO_SMTP_HOST", "JIBAO_SMTP_PORT", "JIBAO_WEBHOOK_URL"):
        monkeypatch.delenv(var, raising=False)
    return target


@pytest.fixture
def channels(cfg, smtp_server, robot, monkeypatch):
    controller, inbox = smtp_server
    url, handler = robot
    monkeypatch.setenv("JIBAO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JIBAO_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("JIBAO_WEBHOOK_URL", url)
    return inbox, handler


class Drop:
    """Returns handed to the real loader (pipelines.warehouse.load_batches) through the real
    publishing path, as the Dagster asset does; files the letters annotate are real workbooks in
    the archive."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.received: list[ReceivedFile] = []
        self.results: list[ReturnResult] = []

    def add(self, submitter: str, form: str, *, status: str = "accepted", issues=(),
            received: dt.datetime = dt.datetime(2025, 9, 28, 9, 30), name: str | None = None,
            workbook: bool = False, values: dict | None = None, version: int = 1) -> None:  # fmt: skip
        name = name or f"{submitter}{form}.xlsx"
        sha = fake_sha(f"{submitter}/{form}/{name}/{version}")
        archive = self.paths.archive / f"{sha}.xlsx"
        if workbook:
            sub = load_registry().by_name(submitter)
            wb = Workbook()
            write_form(wb.active, form, 2025, submitter=sub, header={"filled_by": "张三"},
                       values=values)  # fmt: skip
            wb.active.title = "Sheet1"
            drop = self.paths.raw_quarter(QUARTER) / f"v{version}" / safe_filename(name)
            save_workbook(wb, drop)
            sha, archive = archive_file(drop, self.paths.archive)
        result = make_return(form, submitter, QUARTER, values, file=name, sheet="Sheet1",
                             status=status, issues=issues, sha256=sha)  # fmt: skip
        self.results.append(result)
        self.received.append(
            ReceivedFile(
                sha, self.paths.raw_quarter(QUARTER) / name, name, archive, received, "received.csv"
            )  # fmt: skip
        )

    def load(self) -> None:
        batch = (QUARTER, list(self.received), list(self.results), [])
        warehouse.publish(self.paths, lambda con: load_batches(con, [batch]))


def run_alerts(paths: Paths, today: dt.date = dt.date(2025, 10, 10), *, send: bool = True):
    """write_alerts as the Dagster asset runs it: on a read-only connection to the published
    warehouse (deliveries go to the outbox); then a build, which copies the outbox into
    alert_deliveries for analysts."""
    return _letters(paths, alerts_mod.write_alerts, today, send)


def run_reminders(paths: Paths, today: dt.date, *, send: bool = True):
    return _letters(paths, alerts_mod.write_reminders, today, send)


def _letters(paths: Paths, write, today: dt.date, send: bool):
    con = warehouse.connect_published(paths)
    try:
        run = write(con, paths, QUARTER, today=today, send=send)
    finally:
        con.close()
    warehouse.publish(paths, lambda con: None)  # the next build
    return run


def query(paths: Paths, sql: str, params=()) -> list[tuple]:
    """Read the published warehouse as an analyst would: read-only."""
    con = warehouse.connect_published(paths)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


F1_CELL = layout("form1").a1("street", "ent_total")
F2_CELL = layout("form2").a1("street_city", "top10_count")
F1_MSG = f"表一「街道」行「企业基数（家）›总数」（{F1_CELL}）为 120，应等于「小微企业」、「中等企业」、「规上企业」之和 118，请核对"
F2_MSG = f"表二「街道·市级」行「十佳乡镇（街道、园区）案例›数量（个）」（{F2_CELL}）填写了「无」。表格不应有空白处，若无请填写 0（不要填写「无」）"


F1_WARNING = Issue("warning", "number_as_text", F1_CELL, F1_MSG.replace("请核对", "请确认"),
                   "street", "ent_total", "120")  # fmt: skip
F2_ERROR = Issue("error", "blank_token", F2_CELL, F2_MSG, "street_city", "top10_count", "无")
HOSTILE_ERROR = Issue("error", "submitter_unknown", "A2",
                      '填报单位「<script>alert("x")</script>」不在名录中', value="<img src=x>")  # fmt: skip


@pytest.fixture
def world(cfg, tmp_path: Path) -> tuple[Paths, Drop]:
    """常泰街道: 表一 accepted with a warning, 表二 rejected for an error; 鲤中街道: everything
    fine; 区卫健局: 表一 late; the hostile 街道 sent one rejected file with a hostile message and
    name; everyone else: nothing. Loaded and published by the real warehouse code."""
    paths = Paths(tmp_path / "home")
    drop = Drop(paths)
    drop.add("常泰街道", "form1", issues=[F1_WARNING], workbook=True)
    drop.add("常泰街道", "form2", status="rejected", issues=[F2_ERROR], workbook=True)
    for form in ("form3", "form4"):
        drop.add("常泰街道", form)
    for form in ("form1", "form2", "form3", "form4"):
        drop.add("鲤中街道", form)
    drop.add("区卫健局", "form1", received=dt.datetime(2025, 10, 5, 16))
    for form in ("form2", "form3"):
        drop.add("区卫健局", form)
    drop.add(HOSTILE, "form1", status="rejected", issues=[HOSTILE_ERROR], name="<b>x</b>.xlsx",
             workbook=True)  # fmt: skip
    drop.load()
    return paths, drop


def deliveries(paths: Paths, submitter: str | None = None) -> list[tuple]:
    sql = "select submitter, channel, status, recipient, detail from alert_deliveries"
    if submitter:
        return query(paths, sql + " where submitter = ? order by sent_at", [submitter])
    return query(paths, sql + " order by sent_at")


# ---------------------------------------------------------------- tests


def test_letters_and_annotated_copies_arrive(world, channels):
    paths, _ = world
    inbox, robot = channels
    ((archive_path,),) = query(
        paths, "select archive_path from submissions where submitter='常泰街道' and form='form1'"
    )
    archive = Path(archive_path)
    before = hashlib.sha256(archive.read_bytes()).hexdigest()

    run = run_alerts(paths)

    names = [a.submitter for a in run.alerts]
    assert "常泰街道" in names and "区卫健局" in names and "开元街道" in names
    assert "鲤中街道" not in names  # nothing to report
    assert "鲤城区安全生产委员会办公室" not in names  # the office owes nothing

    (msg,) = inbox.to(CT_MAIL)
    assert msg["Subject"] == "【季报表数据核查】常泰街道 2025年第三季度 报表问题通知"
    assert "鲤城区安全生产委员会办公室" in str(msg["From"])
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert text.startswith("# 【季报表数据核查】常泰街道")
    assert "常泰街道：" in text
    for part in (text, html):
        assert F2_CELL in part and "若无请填写 0（不要填写「无」）" in part  # the cell and the fix
        assert F1_CELL in part
        assert "2025年10月17日（星期五）" in part  # deadline: 5 working days
        assert "黄文祥" in part and "0595-22355036" in part and "qzlcajajg@126.com" in part
    attachments = list(msg.iter_attachments())
    assert {a.get_filename() for a in attachments} == {
        "常泰街道form1_问题标注.xlsx",
        "常泰街道form2_问题标注.xlsx",
    }
    by_name = {a.get_filename(): a for a in attachments}
    wb = load_workbook(io.BytesIO(by_name["常泰街道form2_问题标注.xlsx"].get_content()))
    cell = wb["Sheet1"][F2_CELL]
    assert cell.fill.fgColor.rgb == ERROR_COLOR
    assert "不要填写「无」" in cell.comment.text
    assert cell.comment.author == "区安委会办公室"  # office.yaml › short_name
    wb1 = load_workbook(io.BytesIO(by_name["常泰街道form1_问题标注.xlsx"].get_content()))
    assert wb1["Sheet1"][F1_CELL].fill.fgColor.rgb == WARNING_COLOR
    assert "请确认" in wb1["Sheet1"][F1_CELL].comment.text
    assert "问题清单" in wb1.sheetnames
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == before  # original untouched

    late = inbox.to(WJ_MAIL)[0].get_body(("plain",)).get_content()
    assert "未按时报送" in late and "核实更正" not in late
    assert "请于每季度首月1日前按时报送" in late  # calendar.yaml › due.rule
    assert "表一：逾期报送（应于 2025年10月1日 前报送，2025年10月5日 收到）" in late
    assert "表二" not in late.split("报送时限")[1]

    out = paths.outbox_dir(QUARTER, "常泰街道")
    assert (out / f"通知_{QUARTER}.md").read_text(encoding="utf-8") == text
    assert (out / f"通知_{QUARTER}.html").exists()
    assert (out / "常泰街道form2_问题标注.xlsx").exists()
    kaiyuan = (paths.outbox_dir(QUARTER, "开元街道") / f"通知_{QUARTER}.md").read_text(
        encoding="utf-8"
    )
    assert "表四：未报送（应于 2025年10月1日 前报送）" in kaiyuan
    assert "请于 **2025年10月17日（星期五）** 前补报" in kaiyuan

    assert len(robot.received) == len(run.alerts)  # the group robot gets every letter
    assert robot.received[0]["msgtype"] == "markdown"
    assert any("常泰街道" in r["markdown"]["content"] for r in robot.received)
    assert all(len(r["markdown"]["content"].encode()) <= 4000 for r in robot.received)

    rows = deliveries(paths, "常泰街道")
    assert sorted((c, s) for _, c, s, _, _ in rows) == [
        ("email", "sent"),
        ("file", "sent"),
        ("webhook", "sent"),
    ]
    assert all("secret" not in r for _, _, _, r, _ in rows)  # the robot key is not recorded
    # Every send of the run is in the published warehouse, one row per channel and letter.
    # Every letter is a file and a robot post; three units have an e-mail address.
    assert len(deliveries(paths)) == len(run.deliveries) == 2 * len(run.alerts) + 3


def test_second_run_sends_nothing_and_a_change_sends_again(world, channels):
    paths, drop = world
    inbox, robot = channels
    first = run_alerts(paths)
    n_mail, n_hook, n_rows = len(inbox.messages), len(robot.received), len(deliveries(paths))

    again = run_alerts(paths, dt.date(2025, 10, 13))
    assert again.deliveries == []
    assert sorted(again.unchanged) == sorted(a.submitter for a in first.alerts)
    assert (len(inbox.messages), len(robot.received), len(deliveries(paths))) == (
        n_mail,
        n_hook,
        n_rows,
    )

    # 常泰街道 resubmits 表一: the first warning is still there, and a new one.
    swing = Issue("warning", "stock_swing", "C6",
                  "表一「街道」行「小微企业」（C6）为 80，上季度（2025年第二季度）为 20，变化幅度较大，请确认",
                  "street", "ent_small", "80")  # fmt: skip
    drop.add("常泰街道", "form1", issues=[F1_WARNING, swing], workbook=True, version=2,
             values={("street", "ent_small"): 80}, received=dt.datetime(2025, 10, 11, 9))  # fmt: skip
    drop.load()
    ((official,),) = query(
        paths,
        "select count(*) from submissions where submitter='常泰街道' and form='form1' "
        "and superseded_by is not null",
    )
    assert official == 1  # the first version is superseded, its issues resolved

    changed = run_alerts(paths, dt.date(2025, 10, 13))
    assert {d.submitter for d in changed.deliveries} == {"常泰街道"}
    assert len(inbox.to(CT_MAIL)) == 2
    body = inbox.to(CT_MAIL)[1].get_body(("plain",)).get_content()
    assert "变化幅度较大" in body and "若无请填写 0" in body
    fingerprints = query(
        paths,
        "select count(distinct fingerprint) from alert_deliveries "
        "where submitter='常泰街道' and channel='email' and status='sent'",
    )
    assert fingerprints == [(2,)]


def test_failed_smtp_is_recorded_and_retried(world, cfg, monkeypatch, smtp_server):
    paths, _ = world
    monkeypatch.setenv("JIBAO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JIBAO_SMTP_PORT", str(free_port()))  # nobody listens there
    monkeypatch.setenv("JIBAO_SMTP_TIMEOUT", "5")
    run = run_alerts(paths)
    failed = {d.submitter for d in run.failed}
    assert failed == {"常泰街道", "区卫健局", HOSTILE}
    status = {(s, c): st for s, c, st, _, _ in deliveries(paths)}
    assert status[("常泰街道", "email")] == "failed" and status[("常泰街道", "file")] == "sent"
    detail = next(d for s, c, st, _, d in deliveries(paths) if (s, c) == ("常泰街道", "email"))
    assert "Refused" in detail or "Errno" in detail

    controller, inbox = smtp_server
    monkeypatch.setenv("JIBAO_SMTP_PORT", str(controller.port))
    retry = run_alerts(paths, dt.date(2025, 10, 13))
    assert {(d.submitter, d.channel, d.status) for d in retry.deliveries} == {
        (s, "email", "sent") for s in failed
    }  # the letters already written are not written again
    assert len(inbox.to(CT_MAIL)) == 1
    outcomes = query(
        paths,
        "select status, count(*) from alert_deliveries where submitter='常泰街道' "
        "and channel='email' group by status order by status",
    )
    assert outcomes == [("failed", 1), ("sent", 1)]  # both attempts recorded


def test_send_false_writes_files_only(world, channels):
    paths, _ = world
    inbox, robot = channels
    run = run_alerts(paths, send=False)
    assert {d.channel for d in run.deliveries} == {"file"}
    assert inbox.messages == [] and robot.received == []


def test_hostile_text_is_escaped(world, channels):
    paths, _ = world
    inbox, _ = channels
    run_alerts(paths)
    (msg,) = inbox.to(HOSTILE_MAIL)
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "<script>" not in html and "<img" not in html and "<b>x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;街道：" in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;街道：" in text
    assert msg["Subject"] == f"【季报表数据核查】{HOSTILE} 2025年第三季度 报表问题通知"
    # The folder name is made safe: no path separators from the unit name.
    folder = paths.outbox_dir(QUARTER, safe_filename(HOSTILE))
    assert folder.parent == paths.outbox_dir(QUARTER) and (folder / f"通知_{QUARTER}.html").exists()


def test_reminders_go_only_to_those_missing(world, channels):
    paths, _ = world
    inbox, _ = channels
    run = run_reminders(paths, BEFORE_DUE)
    by_sub = {a.submitter: a for a in run.alerts}
    assert "鲤中街道" not in by_sub and "区卫健局" not in by_sub  # everything received
    assert [r.form for r in by_sub["常泰街道"].returns] == ["form2"]  # its 表二 was rejected
    assert by_sub["常泰街道"].returns[0].rejected_only
    assert [r.form for r in by_sub["开元街道"].returns] == ["form1", "form2", "form3", "form4"]
    assert [r.form for r in by_sub["区教育局"].returns] == ["form1", "form2", "form3"]
    (msg,) = inbox.to(CT_MAIL)
    assert msg["Subject"] == "【季报表报送提醒】常泰街道 2025年第三季度 季报表报送提醒"
    body = msg.get_body(("plain",)).get_content()
    assert "2025年10月1日（星期三）" in body and "距今 5 天" in body and "表二" in body
    assert (paths.outbox_dir(QUARTER, "开元街道") / f"报送提醒_{QUARTER}.md").exists()
    recorded = {s for s, *_ in deliveries(paths)}
    assert recorded == set(by_sub)  # recorded for exactly those reminded
    # A reminder's fingerprint is its own: the alert letter after the due date still goes out.
    assert run_reminders(paths, BEFORE_DUE).deliveries == []
    assert run_reminders(paths, AFTER_DUE).alerts == []
    run_alerts(paths)
    assert len(inbox.to(CT_MAIL)) == 2


def test_fingerprint_ignores_order_and_date(world):
    paths, _ = world
    con = warehouse.connect_published(paths)
    try:
        a = alerts_mod.build_alerts(con, QUARTER, today=AFTER_DUE)
        b = alerts_mod.build_alerts(con, QUARTER, today=dt.date(2025, 11, 3))
    finally:
        con.close()
    assert [x.fingerprint for x in a] == [x.fingerprint for x in b]
    assert alerts_mod.fingerprint(
        "alert", QUARTER, "x", [(1, 2), (3, 4)]
    ) == alerts_mod.fingerprint("alert", QUARTER, "x", [(3, 4), (1, 2), (1, 2)])
    assert alerts_mod.fingerprint("alert", QUARTER, "x", []) != alerts_mod.fingerprint(
        "reminder", QUARTER, "x", []
    )


def test_xls_is_annotated_as_a_values_copy(tmp_path: Path):
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("表一", cell_overwrite_ok=True)
    write_form_xls(
        sheet, "form1", 2025, values={("street", "ent_total"): 5, ("street", "ent_small"): "=1+1"}
    )
    src = tmp_path / "返回.xls"
    book.save(str(src))
    copy = annotate(
        src,
        [CellNote("error", "请更正", "表一", F1_CELL, "表一")],
        tmp_path / "out" / "返回_问题标注.xlsx",
    )
    assert copy is not None and copy.values_only and copy.marked == 1
    ws = load_workbook(copy.path)["表一"]
    assert ws[F1_CELL].value == 5 and ws[F1_CELL].fill.fgColor.rgb == ERROR_COLOR
    small = ws[layout("form1").a1("street", "ent_small")]
    assert small.value == "=1+1" and small.data_type == "s"  # text from a file stays text
    assert annotate(tmp_path / "missing.xlsx", [], tmp_path / "x.xlsx") is None


def test_md_escape():
    assert md_escape("a*b_[c](d)\n# e") == r"a\*b\_\[c\](d) \# e"
    assert md_escape("<script>") == "&lt;script&gt;"
    assert md_escape(None) == ""
    assert md_escape("表一_问题标注.xlsx") == "表一_问题标注.xlsx"  # intraword: no emphasis
    assert md_escape("_x_") == r"\_x\_"


def test_nothing_configured_means_files_only(world, cfg):
    paths, _ = world
    run = run_alerts(paths)
    assert {d.channel for d in run.deliveries} == {"file"}
    assert set(run.no_recipient) == {a.submitter for a in run.alerts}
