"""Returns by e-mail, against real servers: Dovecot on loopback holds the office's mailbox
(messages appended with INTERNALDATE in the shapes Foxmail, Outlook, QQ Mail and 163 produce),
aiosmtpd receives the replies."""

from __future__ import annotations

import datetime as dt
import os

import duckdb
import pytest

from pipelines import validate, warehouse
from pipelines.mail import mime
from pipelines.mail.intake import fetch
from pipelines.mail.replies import answer
from pipelines.mail.store import open_store
from pipelines.warehouse.receipts import read_receipts
from tests.mail_messages import (
    CST,
    XLSX,
    File,
    encrypted_zip,
    foxmail,
    mail163,
    outlook,
    plain,
    qqmail,
    windows_zip,
    word,
    zip_bomb,
)
from tests.mail_setup import ADDRESSES, set_office
from tests.returns import write_return

pytest_plugins = ["tests.mail_fixtures"]  # Dovecot, aiosmtpd: one each per test session

ARRIVED = dt.datetime(2025, 9, 30, 16, 20, 5, tzinfo=CST)  # INTERNALDATE: what counts
WRITTEN = dt.datetime(2025, 9, 28, 8, 0, 0, tzinfo=CST)  # the Date: header the client wrote


def _book(tmp_path, form, unit, values=None, **kw) -> bytes:
    path = tmp_path / f"{form}-{unit}-{len(list(tmp_path.iterdir()))}.xlsx"
    return write_return(path, form, unit, values, **kw).read_bytes()


def _body(received) -> str:
    return received.message.get_body(("plain",)).get_content()


def _attachments(received) -> dict[str, bytes]:
    return {a.get_filename(): a.get_content() for a in received.message.iter_attachments()}


def test_returns_from_four_mail_clients_are_received_at_their_arrival_time_and_answered_once(
    tmp_path, monkeypatch, mailbox, smtp
):
    office = set_office(tmp_path, monkeypatch, mailbox, smtp)
    bad = {("dept", "hazards_found"): 5, ("dept", "hazards_fixed"): 9, ("dept", "mgmt_body"): None}
    four = {
        f"江南街道2025年三季度/表{'一二三四'[i]}.xlsx": _book(tmp_path, f"form{i + 1}", "江南街道")
        for i in range(4)
    }
    sent = {
        # Foxmail: GB2312 label, GBK bytes (喆 is not GB2312), base64 + quoted-printable bodies
        "<202509301620050316@163.com>": foxmail(
            ADDRESSES["常泰街道"], "常泰街道安监办 陈喆", "常泰街道2025年第三季度季报表",
            "黄主任：附件为我街道第三季度季报表，请查收。",
            [File("常泰街道表一（第三季度）_陈喆.xlsx", _book(tmp_path, "form1", "常泰街道"))],
            message_id="<202509301620050316@163.com>", date=WRITTEN,
        ),
        # Outlook: UTF-8 encoded words split mid-character; a rejected return
        "<TY2PR01MB44106C1F@TY2PR01MB4410.jpnprd01.prod.outlook.com>": outlook(
            ADDRESSES["区卫健局"], "区卫健局安全科", "区卫健局报送2025年第三季度季报表（表一）",
            "您好，附件是我局第三季度表一。", [File("区卫健局_表一_2025Q3.xlsx",
            _book(tmp_path, "form1", "区卫健局", bad), XLSX)],
            message_id="<TY2PR01MB44106C1F@TY2PR01MB4410.jpnprd01.prod.outlook.com>", date=WRITTEN,
        ),
        # QQ Mail: UTF-8 names, GB18030 body; a zip of four forms made on Chinese Windows
        "<tencent_3C2E9A7B@qq.com>": qqmail(
            ADDRESSES["江南街道"], "江南街道应急办", "江南街道季报表四张", "四张表已打包。",
            [File("江南街道季报表.zip", windows_zip(four))],
            message_id="<tencent_3C2E9A7B@qq.com>", date=WRITTEN,
        ),
        # 163 / Coremail: RFC 2231 continuations, a workbook without any name, and a return
        # whose 填报单位 is another unit than the one the address belongs to
        "<5e6f7a8b.1a2b.19a0b1c2d3e.Coremail.kyjd_ajb@163.com>": mail163(
            ADDRESSES["开元街道"], "开元街道", "开元街道第三季度报表", "请查收。",
            [File("开元街道2025年第三季度安全生产标准化提升专项行动进展情况季报表（表二）.xls",
                  _book(tmp_path, "form2", "开元街道"), "application/vnd.ms-excel"),
             File(None, _book(tmp_path, "form3", "鲤中街道"), "application/vnd.ms-excel")],
            message_id="<5e6f7a8b.1a2b.19a0b1c2d3e.Coremail.kyjd_ajb@163.com>", date=WRITTEN,
        ),
    }  # fmt: skip
    for n, raw in enumerate(sent.values()):
        mailbox.append(raw, ARRIVED + dt.timedelta(minutes=n))

    report = fetch(office.paths)
    assert report.warning is None and len(report.handled) == 4 and report.quarters == ["2025Q3"]
    assert all("JibaoProcessed" in flags for flags in mailbox.messages().values())

    receipts = read_receipts(office.paths)
    names = sorted(r.name for r in receipts)
    assert names == sorted(
        ["常泰街道表一（第三季度）_陈喆.xlsx", "区卫健局_表一_2025Q3.xlsx", "表一.xlsx", "表二.xlsx",
         "表三.xlsx", "表四.xlsx", "附件2.xlsx",
         "开元街道2025年第三季度安全生产标准化提升专项行动进展情况季报表（表二）.xls"]
    )  # fmt: skip
    for r in receipts:
        n = list(sent).index(r.message_id)
        assert r.received_at == (ARRIVED + dt.timedelta(minutes=n)).replace(tzinfo=None)
        assert r.channel == "mail" and r.quarter == "2025Q3" and r.by in ADDRESSES.values()
        assert r.drop_path.startswith("2025Q3/电子邮件/")

    from pipelines.jobs import run_pipeline  # what `jibao run` does

    assert run_pipeline(paths=office.paths) == 0
    con = duckdb.connect(str(office.paths.warehouse), read_only=True)
    ledger = con.execute(
        "select original_name, submitter, form, status, received_at, channel, received_by, "
        "message_id from submissions where quarter = '2025Q3' order by received_at, form"
    ).fetchall()
    assert len(ledger) == 8 and {row[5] for row in ledger} == {"mail"}
    assert {(row[1], row[3]) for row in ledger if row[2] == "form1"} == {
        ("常泰街道", "accepted"), ("区卫健局", "rejected"), ("江南街道", "accepted")
    }  # fmt: skip
    assert ("鲤中街道", "form3") in {(row[1], row[2]) for row in ledger}  # 填报单位 decides
    for _name, _sub, _form, _status, received_at, _ch, by, message_id in ledger:
        n = list(sent).index(message_id)
        assert received_at == (ARRIVED + dt.timedelta(minutes=n)).replace(tzinfo=None)
        assert by == mime.sender_address(mime.parse(sent[message_id]))

    replies = {mid: smtp.replies_to(mid) for mid in sent}
    assert all(len(r) == 1 for r in replies.values()), {k: len(v) for k, v in replies.items()}
    for mid, (reply,) in replies.items():
        msg = reply.message
        assert reply.rcpt_tos == [mime.sender_address(mime.parse(sent[mid]))]
        assert msg["In-Reply-To"] == mid and mid in msg["References"]
        assert msg["Auto-Submitted"] == "auto-replied"
        assert msg["Subject"].startswith("回复：")
        body = _body(reply)
        assert "已收到您于 2025年9月30日 16:2" in body and "0595-22355036" in body
        assert "季报表报送回执.html" in _attachments(reply)

    rejected = replies["<TY2PR01MB44106C1F@TY2PR01MB4410.jpnprd01.prod.outlook.com>"][0]
    body = _body(rejected)
    assert "**退回**" in body and "须更正的错误" in body and "请于 **" in body
    files = _attachments(rejected)
    annotated = [n for n in files if n.endswith("_问题标注.xlsx")]
    assert annotated == ["区卫健局_表一_2025Q3_问题标注.xlsx"]
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(files[annotated[0]]))
    assert any(c.comment for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    zipped = _body(replies["<tencent_3C2E9A7B@qq.com>"][0])
    assert (
        zipped.count("**通过**") == 4
        and "「江南街道季报表.zip/江南街道2025年三季度/表四.xlsx」" in zipped
    )
    mixed = _body(replies["<5e6f7a8b.1a2b.19a0b1c2d3e.Coremail.kyjd_ajb@163.com>"][0])
    assert "发件邮箱登记为 开元街道 的邮箱，但报表「填报单位」为 鲤中街道" in mixed
    assert _body(replies["<202509301620050316@163.com>"][0]).startswith("# 回复：常泰街道")

    # Looking again and answering again (what the next run's mail_replies does): nothing new.
    assert fetch(office.paths).handled == []
    with warehouse.connect_published(office.paths) as again:
        assert answer(office.paths, again).sent == []
    assert sum(len(smtp.replies_to(mid)) for mid in sent) == 4


def _ready(office, quarters=("2025Q3",)):
    warehouse.refresh(office.paths, list(quarters), validate.validate_paths)
    return warehouse.connect_published(office.paths)


def test_bad_input_ends_in_a_verdict_and_a_reply_for_each_message(
    tmp_path, monkeypatch, mailbox, smtp
):
    office = set_office(tmp_path, monkeypatch, mailbox, smtp, replies_per_sender_per_hour=20)
    sender = ADDRESSES["常泰街道"]
    good = _book(tmp_path, "form1", "常泰街道")
    broken_mime = (
        f"From: {sender}\r\nTo: qzlcajajg@126.com\r\nSubject: broken\r\nMessage-ID: <broken@163.com>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="zzz"\r\n\r\n--zzz\r\n'
        'Content-Type: application/vnd.ms-excel; name="a.xls"\r\nContent-Transfer-Encoding: base64'
        "\r\n\r\n0M8R4KGxGuEAAAAAAA!!!$$$\r\n"
    ).encode()  # no closing boundary, base64 with garbage
    cases = {
        "<huge@163.com>": plain(sender, "大邮件", "附件见下", message_id="<huge@163.com>", date=WRITTEN,
                                files=[File("大.xlsx", os.urandom(800_000), XLSX)]),
        "<big-part@163.com>": plain(sender, "大附件", "x", message_id="<big-part@163.com>", date=WRITTEN,
                                    files=[File("图片很多.xlsx", os.urandom(300_000), XLSX)]),
        "<bomb@163.com>": plain(sender, "压缩包", "x", message_id="<bomb@163.com>", date=WRITTEN,
                                files=[File("季报表.zip", zip_bomb(size=150 << 20), "application/zip")]),
        "<locked@163.com>": plain(sender, "加密", "x", message_id="<locked@163.com>", date=WRITTEN,
                                  files=[File("季报表.zip", encrypted_zip("表一.xlsx", good), "application/zip")]),
        "<broken@163.com>": broken_mime,
        "<nothing@163.com>": plain(sender, "季报表", "报表已填好，请查收", message_id="<nothing@163.com>",
                                   date=WRITTEN, files=[File("盖章扫描件.pdf", b"%PDF-1.4\n%scan", "application/pdf")]),
        "<rar@163.com>": plain(sender, "rar", "x", message_id="<rar@163.com>", date=WRITTEN,
                               files=[File("季报表.rar", b"Rar!\x1a\x07\x01\x00" + os.urandom(64), "application/x-rar")]),
        "<disguised@163.com>": plain(sender, "改了扩展名", "x", message_id="<disguised@163.com>", date=WRITTEN,
                                     files=[File("表一.pdf", good, "application/pdf"),
                                            File("表二.xlsx", b"%PDF-1.7\n" + os.urandom(200), XLSX)]),
        "<again@163.com>": plain(sender, "再发一次", "x", message_id="<again@163.com>", date=WRITTEN,
                                 files=[File("表一.xlsx", good, XLSX)]),  # the same workbook again
    }  # fmt: skip
    for raw in cases.values():
        mailbox.append(raw, ARRIVED)
    report = fetch(office.paths)
    assert report.warning is None and len(report.handled) == len(cases)

    first = answer(office.paths)  # nothing to load: answered at once
    assert len(first.sent) == len(cases) - 3  # the broken .xls, the disguised pair, the repeat …
    with _ready(office) as con:  # … wait for the front door's verdict in the warehouse
        assert len(answer(office.paths, con).sent) == 3
        # the same workbook sent twice is one file: one copy, one ledger row, two receipts
        assert con.execute(
            "select count(*) from submissions where original_name = '表一.xlsx'"
        ).fetchone() == (1,)
    assert [p.name for p in (office.paths.raw / "2025Q3" / "电子邮件").glob("表一*")] == [
        "表一.xlsx"
    ]

    def body(mid: str) -> str:
        (reply,) = smtp.replies_to(mid)
        return _body(reply)

    assert "超过本邮箱 1 MB 的处理上限" in body("<huge@163.com>")
    assert "超过 0.25 MB 的上限" in body("<big-part@163.com>")
    assert "疑似压缩炸弹" in body("<bomb@163.com>")
    assert "压缩包设有密码" in body("<locked@163.com>")
    broken = body("<broken@163.com>")
    assert "邮件结构异常" in broken and "**无法读取**" in broken
    nothing = body("<nothing@163.com>")
    assert "没有可处理的 Excel 季报表附件" in nothing and "「盖章扫描件.pdf」" in nothing
    assert "暂不支持 rar" in body("<rar@163.com>")
    disguised = body("<disguised@163.com>")
    assert "实为 Excel 表格" in disguised and "**通过**" in disguised
    assert "**无法读取**" in disguised and "PDF" in disguised
    assert "**通过**" in body("<again@163.com>")
    # the oversized message was never downloaded, everything else is kept as it arrived
    kept = list((office.paths.data / "mail" / "messages").glob("*.eml"))
    assert len(kept) == len(cases) - 1


def test_auto_replies_bounces_and_lists_are_received_but_never_answered(
    tmp_path, monkeypatch, mailbox, smtp
):
    office = set_office(tmp_path, monkeypatch, mailbox, smtp)
    book = File("表一.xlsx", _book(tmp_path, "form1", "常泰街道"), XLSX)
    sender = ADDRESSES["常泰街道"]
    robots = [
        ["Auto-Submitted: auto-replied"],
        ["Return-Path: <>"],
        [f"List-Id: {word('街道安监群', 'utf-8')} <ajb.list.example.org>"],
        ["Precedence: bulk"],
    ]
    for n, headers in enumerate(robots):
        raw = plain(sender, "自动回复：已收到", "我现在休假", message_id=f"<robot{n}@163.com>",
                    date=WRITTEN, headers=headers, files=[book] if n == 0 else None)  # fmt: skip
        mailbox.append(raw, ARRIVED)
    mailbox.append(
        plain("qzlcajajg@126.com", "我们自己", "x", message_id="<self@126.com>", date=WRITTEN),
        ARRIVED,
    )
    fetch(office.paths)
    run = answer(office.paths)  # not waiting for any run: nothing of theirs is ever answered
    assert run.sent == [] and run.waiting == [] and smtp.received == []
    assert [r.message_id for r in read_receipts(office.paths)] == ["<robot0@163.com>"]
    with open_store(office.paths) as store:
        reasons = [h.no_reply for h in store.all()]
    assert all(reasons) and any("Auto-Submitted" in r for r in reasons)
    assert any("退信" in r for r in reasons) and any("本办公室" in r for r in reasons)


def test_replies_to_one_address_are_capped_per_hour(tmp_path, monkeypatch, mailbox, smtp):
    office = set_office(tmp_path, monkeypatch, mailbox, smtp)
    for n in range(5):
        raw = plain(
            "someone@example.cn", f"第{n}封", "x", message_id=f"<m{n}@example.cn>", date=WRITTEN
        )
        mailbox.append(raw, ARRIVED)
    fetch(office.paths)
    run = answer(office.paths)
    assert len(run.sent) == 3 and len(run.suppressed) == 2  # replies_per_sender_per_hour: 3
    assert len(smtp.received) == 3
    assert answer(office.paths).sent == []  # suppressed is final: no later flood of replies


def test_a_message_is_handled_once_even_when_its_mark_is_lost_or_it_comes_back(
    tmp_path, monkeypatch, mailbox, smtp
):
    office = set_office(tmp_path, monkeypatch, mailbox, smtp)
    raw = plain(ADDRESSES["常泰街道"], "季报", "x", message_id="<once@163.com>", date=WRITTEN)
    uid = mailbox.append(raw, ARRIVED)
    assert len(fetch(office.paths).handled) == 1
    mailbox.set_flags(uid, "JibaoProcessed", add=False)  # someone cleared the flag
    mailbox.append(raw, ARRIVED)  # … and the same message is back under a new UID
    assert fetch(office.paths).handled == []
    assert all("JibaoProcessed" in f for f in mailbox.messages().values())
    assert len(answer(office.paths).sent) == 1 and len(smtp.received) == 1


def test_handled_messages_can_be_moved_to_a_folder_instead_of_flagged(
    tmp_path, monkeypatch, mailbox, smtp
):
    office = set_office(tmp_path, monkeypatch, mailbox, smtp, mark="move", move_to="季报已处理")
    mailbox.append(
        plain("a@example.cn", "x", "x", message_id="<mv@example.cn>", date=WRITTEN), ARRIVED
    )
    assert len(fetch(office.paths).handled) == 1
    assert mailbox.messages() == {} and len(mailbox.messages("季报已处理")) == 1


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_the_mailbox_is_read_over_tls_with_the_office_certificate(
    tmp_path, monkeypatch, mailbox, smtp, tls
):
    office = set_office(tmp_path, monkeypatch, mailbox, smtp, tls=tls)
    mailbox.append(
        plain("a@example.cn", "x", "x", message_id=f"<{tls}@example.cn>", date=WRITTEN), ARRIVED
    )
    monkeypatch.delenv("JIBAO_IMAP_CA_FILE")  # an unknown certificate is refused, in Chinese
    refused = fetch(office.paths)
    assert refused.handled == [] and "加密连接" in (refused.warning or "")
    monkeypatch.setenv("JIBAO_IMAP_CA_FILE", str(mailbox.server.cert))
    assert len(fetch(office.paths).handled) == 1


def test_an_unreachable_mailbox_is_a_chinese_warning_and_the_next_look_retries(
    tmp_path, monkeypatch, mailbox, smtp, capsys
):
    from pipelines.cli import main
    from tests.mail_fixtures import free_port

    office = set_office(tmp_path, monkeypatch, mailbox, smtp)
    mailbox.append(
        plain("a@example.cn", "x", "x", message_id="<retry@example.cn>", date=WRITTEN), ARRIVED
    )
    monkeypatch.setenv("JIBAO_IMAP_PORT", str(free_port()))  # nothing listens there
    assert main(["mail", "fetch"]) == 1
    assert "无法连接收件服务器" in capsys.readouterr().err
    monkeypatch.setenv("JIBAO_IMAP_PORT", str(mailbox.server.port))
    monkeypatch.setenv("JIBAO_IMAP_PASSWORD", "wrong")
    assert main(["mail", "fetch"]) == 1
    assert "登录失败" in capsys.readouterr().err
    monkeypatch.setenv("JIBAO_IMAP_PASSWORD", mailbox.password)
    assert main(["mail", "fetch"]) == 0
    assert "共收取 1 封新邮件" in capsys.readouterr().out
    with open_store(office.paths) as store:
        assert [h.message_id for h in store.all()] == ["<retry@example.cn>"]


def test_nothing_configured_means_no_intake_and_no_error(tmp_path, monkeypatch, capsys):
    from pipelines.cli import main

    for key in [k for k in os.environ if k.startswith("JIBAO_IMAP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("JIBAO_HOME", str(tmp_path))
    assert main(["mail", "fetch"]) == 0
    assert "未配置收件邮箱" in capsys.readouterr().out
    monkeypatch.setenv("JIBAO_IMAP_HOST", "127.0.0.1")  # a host without an account: fix the config
    assert main(["mail", "fetch"]) == 78
    assert "JIBAO_IMAP_USER" in capsys.readouterr().err
    monkeypatch.delenv("JIBAO_IMAP_HOST")
    import dagster as dg

    from pipelines.assets.mail import mailbox_sensor
    from pipelines.resources import JibaoPaths

    tick = mailbox_sensor(
        dg.build_sensor_context(resources={"jibao": JibaoPaths(home=str(tmp_path))})
    )
    assert "未配置收件邮箱" in tick.skip_message
    assert not (tmp_path / "data" / "mail").exists()


def test_the_mailbox_sensor_receives_and_answers_at_once_what_needs_no_run(
    tmp_path, monkeypatch, mailbox, smtp
):
    import dagster as dg

    from pipelines.assets.mail import mailbox_sensor
    from pipelines.resources import JibaoPaths

    office = set_office(tmp_path, monkeypatch, mailbox, smtp)
    book = File("表一.xlsx", _book(tmp_path, "form1", "常泰街道"), XLSX)
    mailbox.append(
        plain(
            ADDRESSES["常泰街道"],
            "表一",
            "x",
            message_id="<s1@163.com>",
            date=WRITTEN,
            files=[book],
        ),
        ARRIVED,
    )
    mailbox.append(
        plain("a@example.cn", "问", "模板在哪？", message_id="<s2@example.cn>", date=WRITTEN),
        ARRIVED,
    )
    context = dg.build_sensor_context(resources={"jibao": JibaoPaths(home=str(office.paths.root))})
    tick = mailbox_sensor(context)
    assert isinstance(tick, dg.SkipReason)
    assert "新邮件 2 封" in tick.skip_message and "待入库后回复 1 封" in tick.skip_message
    assert [p.name for p in (office.paths.raw / "2025Q3" / "电子邮件").iterdir()] == ["表一.xlsx"]
    assert [r.message["In-Reply-To"] for r in smtp.received] == ["<s2@example.cn>"]
    again = mailbox_sensor(
        dg.build_sensor_context(resources={"jibao": JibaoPaths(home=str(office.paths.root))})
    )
    assert "新邮件 0 封" in again.skip_message and len(smtp.received) == 1


def test_a_return_for_a_locked_quarter_is_kept_as_received_after_lock_and_the_reply_says_so(
    tmp_path, monkeypatch, mailbox, smtp
):
    from pipelines.office.decisions import close_quarter

    office = set_office(tmp_path, monkeypatch, mailbox, smtp)
    closed_at = ARRIVED.replace(hour=12, tzinfo=None)  # closed before the message arrived
    close_quarter(office.paths, "2025Q3", by="黄文祥", reason="已报区政府", at=closed_at)
    book = File("常泰街道表一（更正）.xlsx", _book(tmp_path, "form1", "常泰街道"), XLSX)
    mailbox.append(
        plain(
            ADDRESSES["常泰街道"],
            "更正",
            "x",
            message_id="<late@163.com>",
            date=WRITTEN,
            files=[book],
        ),
        ARRIVED,
    )
    (handled,) = fetch(office.paths).handled
    assert "2025Q3 已审核锁定，登记为「锁定后收到」" in (handled.problem or "")
    with _ready(office) as con:
        assert len(answer(office.paths, con).sent) == 1
        row = con.execute(
            "select received_after_lock, is_official from submissions where message_id = ?",
            ["<late@163.com>"],
        ).fetchall()
    assert row == [(True, False)]
    body = _body(smtp.replies_to("<late@163.com>")[0])
    assert "**通过**" in body and "已审核锁定" in body and "「锁定后收到」" in body


def test_old_mail_is_left_alone_and_a_refused_mark_does_not_stop_the_intake(
    tmp_path, monkeypatch, mailbox, smtp
):
    long_flag = "JibaoProcessed" + "X" * 60  # longer than this server allows a keyword to be
    office = set_office(tmp_path, monkeypatch, mailbox, smtp, max_age_days=30, flag=long_flag)
    monkeypatch.setenv("JIBAO_TODAY", "2025-10-10")
    old = plain("a@example.cn", "旧邮件", "x", message_id="<old@example.cn>", date=WRITTEN)
    mailbox.append(old, dt.datetime(2025, 8, 1, 9, 0, tzinfo=CST))  # before the 30-day window
    mailbox.append(
        plain("a@example.cn", "新", "x", message_id="<new@example.cn>", date=WRITTEN), ARRIVED
    )
    report = fetch(office.paths)
    assert [h.subject for h in report.handled] == ["新"] and report.warning is None
    assert "不允许设置标记" in (report.mark_warning or "")
    assert fetch(office.paths).handled == []  # its own record, not the refused mark, decides
    with open_store(office.paths) as store:
        assert [h.message_id for h in store.all()] == ["<new@example.cn>"]


def test_a_mailbox_password_written_in_the_configuration_file_is_refused(tmp_path, monkeypatch):
    """The password lives in the environment only: a copy of alerts.yaml that carries one is
    refused in Chinese (and `jibao mail fetch` exits 78), never used."""
    import shutil

    import yaml

    from pipelines import config
    from pipelines.cli import main
    from pipelines.mail.settings import MailConfigError, load_settings

    copy = tmp_path / "config"
    shutil.copytree(config.config_dir(), copy)
    alerts = yaml.safe_load((copy / "alerts.yaml").read_text(encoding="utf-8"))
    alerts["mail"] |= {"host": "127.0.0.1", "user": "office", "password": "written-down"}
    (copy / "alerts.yaml").write_text(yaml.safe_dump(alerts, allow_unicode=True), encoding="utf-8")
    for key in [k for k in os.environ if k.startswith("JIBAO_IMAP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("JIBAO_CONFIG_DIR", str(copy))
    monkeypatch.setenv("JIBAO_HOME", str(tmp_path / "home"))
    config.clear_cache()
    try:
        with pytest.raises(MailConfigError, match="密码不能写在 alerts.yaml 中"):
            load_settings()
        assert main(["mail", "fetch"]) == 78
    finally:
        monkeypatch.delenv("JIBAO_CONFIG_DIR")
        config.clear_cache()


def test_a_workbook_attached_twice_to_one_message_is_one_version_and_one_verdict(
    tmp_path, monkeypatch, mailbox, smtp
):
    office = set_office(tmp_path, monkeypatch, mailbox, smtp)
    book = _book(tmp_path, "form1", "常泰街道")
    mailbox.append(
        foxmail(
            ADDRESSES["常泰街道"], "常泰街道安监办", "常泰街道表一", "请查收（附件重复了一次）。",
            [File("常泰街道表一.xlsx", book), File("常泰街道表一（副本）.xlsx", book)],
            message_id="<twice@163.com>", date=WRITTEN,
        ),
        ARRIVED,
    )  # fmt: skip
    assert len(fetch(office.paths).handled) == 1
    assert len({r.sha256 for r in read_receipts(office.paths)}) == 1
    with _ready(office) as con:
        rows = con.execute(
            "select submitter, form, status from submissions where quarter = '2025Q3'"
        ).fetchall()
        assert rows == [("常泰街道", "form1", "accepted")]
        answer(office.paths, con)
    (reply,) = smtp.replies_to("<twice@163.com>")
    assert _body(reply).count("**通过**") == 1
