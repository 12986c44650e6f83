"""Messages in the shapes Chinese mail clients really send, written byte by byte.

Python's email package would produce tidy, standard MIME; real returns arrive from Foxmail,
Outlook, QQ Mail and 163 (Coremail) with their own habits, and those habits are what the intake
must survive:

- Foxmail: everything labelled GB2312 but encoded as GBK (so names with 喆, 堃 … are "invalid"
  GB2312), RFC 2047 encoded words inside quoted parameters, base64 text and html.
- Outlook: UTF-8 (or GB2312) encoded words split every ~40 bytes, even in the middle of a
  character; quoted-printable text; Content-Description; size/creation-date parameters.
- QQ Mail: UTF-8 names, GB18030 bodies, `Content-Transfer-Encoding: 8Bit` on the container.
- 163 / Coremail: GBK names as RFC 2231 continuations (filename*0*=GBK''…; filename*1*=…).
- Names missing entirely (Content-Type application/vnd.ms-excel, no name, no filename).
- A zip made on Chinese Windows: entry names in GBK without the UTF-8 flag.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import quopri
import zipfile
from dataclasses import dataclass
from email.utils import format_datetime
from urllib.parse import quote_from_bytes

OFFICE = "qzlcajajg@126.com"
CST = dt.timezone(dt.timedelta(hours=8))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class File:
    name: str | None
    data: bytes
    ctype: str = "application/octet-stream"


def b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def qp(text: str, charset: str) -> str:
    return quopri.encodestring(text.encode(charset).replace(b"\n", b"\r\n")).decode()


def word(text: str, label: str, codec: str | None = None, *, split: int = 0) -> str:
    """RFC 2047 B encoded word(s). `codec` encodes (GBK under a GB2312 label, as Foxmail does);
    `split` cuts the bytes every N bytes regardless of characters, as Outlook does."""
    data = text.encode(codec or label)
    chunks = [data[i : i + split] for i in range(0, len(data), split)] if split else [data]
    return " ".join(f"=?{label}?B?{base64.b64encode(c).decode()}?=" for c in chunks)


def rfc2231(param: str, text: str, charset: str, *, chunk: int = 10) -> str:
    """param*0*=charset''…; param*1*=… (Coremail's continuations, a few bytes each)."""
    data = text.encode(charset)
    pieces = [quote_from_bytes(data[i : i + chunk], safe="") for i in range(0, len(data), chunk)]
    head = charset + "''"
    return ";\r\n\t".join(
        f"{param}*{n}*={head if n == 0 else ''}{piece}" for n, piece in enumerate(pieces)
    )


def _date(when: dt.datetime) -> str:
    return format_datetime(when)


def _join(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


# ---------------------------------------------------------------- clients


def foxmail(
    sender: str, sender_name: str, subject: str, body: str, files: list[File], *,
    message_id: str, date: dt.datetime, to: str = OFFICE, extra: list[str] | None = None,
) -> bytes:  # fmt: skip
    outer, inner = "----=_001_NextPart572182624333_=----", "----=_002_NextPart572182624333_=----"
    html = f"<html><body><div>{body}</div><div>--</div><div>{sender_name}</div></body></html>"
    lines = [
        f"Date: {_date(date)}",
        f'From: "{word(sender_name, "gb2312", "gbk")}" <{sender}>',
        f"To: {to}",
        f"Subject: {word(subject, 'gb2312', 'gbk')}",
        "X-Priority: 3",
        "X-GUID: 5C0A3E1F-7B2D-4C9A-8E6F-1D2B3C4D5E6F",
        "X-Has-Attach: yes",
        "X-Mailer: Foxmail 7.2.25.228[cn]",
        "Mime-Version: 1.0",
        f"Message-ID: {message_id}",
        *(extra or []),
        "Content-Type: multipart/mixed;",
        f'\tboundary="{outer}"',
        "",
        "This is a multi-part message in MIME format.",
        "",
        f"--{outer}",
        "Content-Type: multipart/alternative;",
        f'\tboundary="{inner}"',
        "",
        "",
        f"--{inner}",
        "Content-Type: text/plain;",
        '\tcharset="gb2312"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(body.encode("gbk")),
        "",
        f"--{inner}",
        "Content-Type: text/html;",
        '\tcharset="gb2312"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        qp(html, "gbk"),
        "",
        f"--{inner}--",
        "",
    ]
    for f in files:
        name = word(f.name, "gb2312", "gbk") if f.name else None
        lines += [f"--{outer}", "Content-Type: application/octet-stream;"]
        lines += [f'\tname="{name}"'] if name else []
        lines += ["Content-Transfer-Encoding: base64"]
        lines += ["Content-Disposition: attachment;", f'\tfilename="{name}"'] if name else []
        lines += ["", b64(f.data), ""]
    lines += [f"--{outer}--", ""]
    return _join(lines)


def outlook(
    sender: str, sender_name: str, subject: str, body: str, files: list[File], *,
    message_id: str, date: dt.datetime, to: str = OFFICE, charset: str = "utf-8",
) -> bytes:  # fmt: skip
    mixed, alt = "_004_TY2PR01MB4410A1B2C3D4E5F6_", "_000_TY2PR01MB4410A1B2C3D4E5F6_"
    lines = [
        f"From: {word(sender_name, charset, split=33)} <{sender}>",
        f"To: {word('区安委会办公室', charset)} <{to}>",
        f"Subject: {word(subject, charset, split=33)}",
        f"Thread-Topic: {word(subject, charset, split=33)}",
        "Thread-Index: AdoZ3c8kQx1vK2mHQk2yZ4n3sF7Xyw==",
        f"Date: {_date(date)}",
        f"Message-ID: {message_id}",
        "Accept-Language: zh-CN, en-US",
        "Content-Language: zh-CN",
        "X-MS-Has-Attach: yes",
        "X-MS-TNEF-Correlator:",
        f'Content-Type: multipart/mixed;\r\n\tboundary="{mixed}"',
        "MIME-Version: 1.0",
        "",
        f"--{mixed}",
        f'Content-Type: multipart/alternative;\r\n\tboundary="{alt}"',
        "",
        f"--{alt}",
        f'Content-Type: text/plain; charset="{charset}"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        qp(body, charset),
        "",
        f"--{alt}",
        f'Content-Type: text/html; charset="{charset}"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        qp(f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head><body><p>{body}</p></body></html>', charset),
        "",
        f"--{alt}--",
        "",
    ]  # fmt: skip
    for f in files:
        name = word(f.name or "", charset, split=33)
        stamp = "Thu, 09 Oct 2025 02:11:00 GMT"
        lines += [
            f"--{mixed}",
            f'Content-Type: {f.ctype};\r\n\tname="{name}"',
            f"Content-Description: {name}",
            f'Content-Disposition: attachment;\r\n\tfilename="{name}"; size={len(f.data)};\r\n'
            f'\tcreation-date="{stamp}";\r\n\tmodification-date="{stamp}"',
            "Content-Transfer-Encoding: base64",
            "",
            b64(f.data),
            "",
        ]
    lines += [f"--{mixed}--", ""]
    return _join(lines)


def qqmail(
    sender: str, sender_name: str, subject: str, body: str, files: list[File], *,
    message_id: str, date: dt.datetime, to: str = OFFICE,
) -> bytes:  # fmt: skip
    mixed, alt = (
        "----=_NextPart_6523A1B2_0C4D8E90_3F2A1B3C",
        "----=_NextPart_6523A1B2_0C4D8E90_4B5C6D7E",
    )
    lines = [
        f'From: "{word(sender_name, "utf-8")}" <{sender}>',
        f'To: "{word("区安委会办公室", "utf-8")}" <{to}>',
        f"Subject: {word(subject, 'utf-8')}",
        "Mime-Version: 1.0",
        f'Content-Type: multipart/mixed;\r\n\tboundary="{mixed}"',
        "Content-Transfer-Encoding: 8Bit",
        f"Date: {_date(date)}",
        "X-Priority: 3",
        f"Message-ID: {message_id}",
        "X-QQ-MIME: TCMime 1.0 by Tencent",
        "X-Mailer: QQMail 2.x",
        "X-QQ-Mailer: QQMail 2.x",
        "",
        "This is a multi-part message in MIME format.",
        "",
        f"--{mixed}",
        f'Content-Type: multipart/alternative;\r\n\tboundary="{alt}"',
        "",
        f"--{alt}",
        'Content-Type: text/plain;\r\n\tcharset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(body.encode("gb18030")),
        "",
        f"--{alt}",
        'Content-Type: text/html;\r\n\tcharset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(f"<div>{body}</div>".encode("gb18030")),
        "",
        f"--{alt}--",
        "",
    ]  # fmt: skip
    for f in files:
        name = word(f.name or "", "utf-8")
        lines += [
            f"--{mixed}",
            f'Content-Type: application/octet-stream;\r\n\tcharset="utf-8";\r\n\tname="{name}"',
            f'Content-Disposition: attachment; filename="{name}"',
            "Content-Transfer-Encoding: base64",
            "",
            b64(f.data),
            "",
        ]
    lines += [f"--{mixed}--", ""]
    return _join(lines)


def mail163(
    sender: str, sender_name: str, subject: str, body: str, files: list[File], *,
    message_id: str, date: dt.datetime, to: str = OFFICE,
) -> bytes:  # fmt: skip
    mixed = "----=_Part_123456_789012345.1760000000000"
    alt = "----=_Part_123457_789012346.1760000000001"
    lines = [
        f"Date: {_date(date)} (CST)",
        f'From: "{word(sender_name, "GBK")}" <{sender}>',
        f"To: {to}",
        f"Message-ID: {message_id}",
        f"Subject: {word(subject, 'GBK')}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; \r\n\tboundary="{mixed}"',
        "X-Coremail-Locale: zh_CN",
        "X-Originating-IP: [27.148.0.10]",
        "X-Priority: 3",
        "X-Mailer: Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)",
        "",
        f"--{mixed}",
        f'Content-Type: multipart/alternative; \r\n\tboundary="{alt}"',
        "",
        f"--{alt}",
        "Content-Type: text/plain; charset=GBK",
        "Content-Transfer-Encoding: base64",
        "",
        b64(body.encode("gbk")),
        f"--{alt}",
        "Content-Type: text/html; charset=GBK",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        qp(f'<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">{body}</div>', "gbk"),
        f"--{alt}--",
        "",
    ]  # fmt: skip
    for f in files:
        if f.name is None:  # a part with no name at all
            lines += [f"--{mixed}", f"Content-Type: {f.ctype}", "Content-Transfer-Encoding: base64",
                      "Content-Disposition: attachment", "", b64(f.data)]  # fmt: skip
            continue
        lines += [
            f"--{mixed}",
            f"Content-Type: {f.ctype}; \r\n\t{rfc2231('name', f.name, 'GBK')}",
            "Content-Transfer-Encoding: base64",
            f"Content-Disposition: attachment; \r\n\t{rfc2231('filename', f.name, 'GBK')}",
            "",
            b64(f.data),
        ]
    lines += [f"--{mixed}--", ""]
    return _join(lines)


def plain(
    sender: str, subject: str, body: str, *, message_id: str | None, date: dt.datetime,
    headers: list[str] | None = None, files: list[File] | None = None, to: str = OFFICE,
) -> bytes:  # fmt: skip
    """A simple message (auto-replies, bounces, lists, bare notes), UTF-8."""
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {word(subject, 'utf-8')}"]
    lines += [f"Date: {_date(date)}", "MIME-Version: 1.0", *(headers or [])]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    if not files:
        lines += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64",
                  "", b64(body.encode())]  # fmt: skip
        return _join(lines)
    boundary = "=_plain_boundary_7f3a"
    lines += [f'Content-Type: multipart/mixed; boundary="{boundary}"', "", f"--{boundary}",
              "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "",
              b64(body.encode())]  # fmt: skip
    for f in files:
        name = word(f.name or "", "utf-8")
        lines += [f"--{boundary}", f'Content-Type: {f.ctype}; name="{name}"',
                  f'Content-Disposition: attachment; filename="{name}"',
                  "Content-Transfer-Encoding: base64", "", b64(f.data)]  # fmt: skip
    lines += [f"--{boundary}--", ""]
    return _join(lines)


# ---------------------------------------------------------------- archives


class _GbkName(zipfile.ZipInfo):
    """An entry name stored in GBK without the UTF-8 flag, as Windows' own zip writes it."""

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def windows_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = _GbkName(name, date_time=(2025, 10, 9, 9, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def encrypted_zip(name: str, data: bytes) -> bytes:
    """A zip whose entry claims ZipCrypto encryption (flag bit 0): what a password-protected
    archive looks like before anyone can read it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(name, data)
    raw = bytearray(buf.getvalue())
    raw[6] |= 0x01  # the local header, at the start
    raw[raw.rfind(b"PK\x01\x02") + 8] |= 0x01  # the central directory entry, at the end
    return bytes(raw)


def zip_bomb(name: str = "报表.xlsx", size: int = 300 << 20) -> bytes:
    """One entry of `size` zero bytes: a few hundred KB that inflate to hundreds of MB."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open(name, "w", force_zip64=True) as fh,
    ):
        block = bytes(1 << 20)
        for _ in range(size >> 20):
            fh.write(block)
    return buf.getvalue()
