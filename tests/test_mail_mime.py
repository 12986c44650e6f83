"""Attachment names and robot markers as Chinese mail clients really write them (pure: no
servers). The end-to-end shapes are in test_mail.py; these are the corner cases."""

from __future__ import annotations

import base64

import pytest

from pipelines.mail import mime
from pipelines.mail.mailbox import parse_internaldate


def _part(headers: bytes) -> bytes:
    return b"From: a@b.cn\r\nMIME-Version: 1.0\r\n" + headers + b"\r\n\r\nAAAA\r\n"


@pytest.mark.parametrize(
    ("headers", "name"),
    [
        # Foxmail: labelled GB2312, encoded as GBK (喆 is outside GB2312)
        (b'Content-Type: application/octet-stream; name="=?gb2312?B?'
         + base64.b64encode("表一_陈喆.xlsx".encode("gbk")) + b'?="', "表一_陈喆.xlsx"),
        # Outlook: one character split across two encoded words
        (b'Content-Disposition: attachment; filename="=?utf-8?B?'
         + base64.b64encode("季报表".encode()[:4]) + b'?= =?utf-8?B?'
         + base64.b64encode("季报表".encode()[4:] + b".xls") + b'?="', "季报表.xls"),
        # 163 / Coremail: RFC 2231 continuations in GBK
        (b"Content-Disposition: attachment; filename*0*=GBK''%B3%A3%CC%A9; "
         b"filename*1*=%BD%D6%B5%C0.xlsx", "常泰街道.xlsx"),
        # an old client: raw 8-bit GBK, no encoding at all
        (b'Content-Type: application/vnd.ms-excel; name="' + "临江街道表四.xls".encode("gbk") + b'"',
         "临江街道表四.xls"),
        # quoted-printable encoded word, UTF-8
        (b'Content-Disposition: attachment; filename="=?UTF-8?Q?=E8=A1=A8=E4=BA=8C.xlsx?="',
         "表二.xlsx"),
        # nothing at all
        (b"Content-Type: application/vnd.ms-excel", None),
    ],
)  # fmt: skip
def test_attachment_names_are_decoded_as_clients_write_them(headers, name):
    assert mime.attachment_name(mime.parse(_part(headers))) == name


@pytest.mark.parametrize(
    ("header", "robot"),
    [
        ("Auto-Submitted: auto-generated", True),
        ("Auto-Submitted: no", False),
        ("Return-Path: <>", True),
        ("Return-Path: <kyjd@163.com>", False),
        ("List-Unsubscribe: <mailto:x@lists.example.org>", True),
        ("Precedence: junk", True),
        ("X-Autoreply: yes", True),
        ("From: MAILER-DAEMON@mx.163.com", True),
    ],
)
def test_robots_are_recognised_so_they_are_never_answered(header, robot):
    raw = (header + "\r\nSubject: x\r\n\r\nbody\r\n").encode()
    if not header.startswith("From:"):
        raw = b"From: a@b.cn\r\n" + raw
    assert (mime.automatic(mime.parse(raw)) is not None) is robot


def test_reply_goes_to_reply_to_then_from_and_junk_addresses_are_none():
    msg = mime.parse(b"From: =?GBK?B?yc/Kzw==?= <KYJD@163.com>\r\nReply-To: clerk@163.com\r\n\r\n")
    assert mime.sender_address(msg) == "kyjd@163.com" and mime.reply_address(msg) == "clerk@163.com"
    assert mime.reply_address(mime.parse(b"From: not an address\r\n\r\n")) is None


def test_internaldate_is_read_with_its_zone_whatever_the_locale():
    when = parse_internaldate(" 1-Oct-2025 00:05:09 +0800")
    assert (when.year, when.month, when.day, when.hour, when.utcoffset().seconds) == (
        2025, 10, 1, 0, 8 * 3600
    )  # fmt: skip
