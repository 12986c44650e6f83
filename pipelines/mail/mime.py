"""What a message says, read the way Chinese mail clients actually write it. Pure functions.

Why by hand and not only `email`'s own decoding: clients label text GB2312 while encoding it
as GBK (Foxmail; Python's gb2312 codec then fails on 喆, 堃 …), put RFC 2047 encoded words
inside quoted parameters (Foxmail, Outlook, QQ Mail — not allowed by the RFCs, so `email`
leaves them encoded), split encoded words in the middle of a character (Outlook), or send raw
8-bit GBK names. Each label is therefore decoded with the widest compatible codec (GB2312/GBK
→ GB18030), then UTF-8, then GB18030 as the last resort; nothing here raises for bad input.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import hashlib
import re
from dataclasses import dataclass
from email.message import Message

# A label that lies about the repertoire: decode with the superset.
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030",
          "euc-cn": "gb18030", "ascii": "utf-8", "us-ascii": "utf-8"}  # fmt: skip
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Text of `data` in `charset` (as labelled), else UTF-8, else GB18030 (never fails)."""
    tried: list[str] = []
    label = (charset or "").strip().strip('"').lower()
    for codec in (_WIDER.get(label, label), "utf-8", "gb18030"):
        if not codec or codec in tried:
            continue
        tried.append(codec)
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("gb18030", errors="replace")


def _raw_bytes(text: str) -> bytes:
    """A header or parameter as its original bytes (compat32 keeps 8-bit bytes as surrogates)."""
    return text.encode("utf-8", errors="surrogateescape")


def raw_header(msg: Message, name: str) -> str | None:
    """A header as it arrived, raw 8-bit bytes read as UTF-8 or GBK (the parser's own access
    turns them into replacement characters)."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            text = str(value)
            return decode_bytes(_raw_bytes(text)) if _has_8bit(text) else text
    return None


def header(msg: Message, name: str) -> str:
    """A header, decoded (RFC 2047 words and raw 8-bit), on one line."""
    return one_line(decode_header(raw_header(msg, name)))


def decode_header(value: object) -> str:
    """A header value with every RFC 2047 encoded word decoded (adjacent words of one charset
    are joined before decoding, so a character split across words survives)."""
    if value is None:
        return ""
    text = str(value)
    if not _ENCODED_WORD.search(text):
        return text
    try:
        parts = email.header.decode_header(text)
    except (ValueError, AssertionError, LookupError):
        return text
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            out.append(decode_bytes(chunk, charset))
    return "".join(out)


def _has_8bit(text: str) -> bool:
    return any(ord(ch) > 127 for ch in text)


def one_line(text: str) -> str:
    return " ".join(text.split())


def attachment_name(part: Message) -> str | None:
    """The part's file name as the sender saw it, or None when it has none.

    Tries Content-Disposition's filename then Content-Type's name, each either RFC 2231
    (filename*=GBK''%B1%ED…, with continuations) or a quoted string that may hold RFC 2047
    encoded words or raw 8-bit bytes."""
    for name, param in (("content-disposition", "filename"), ("content-type", "name")):
        value = raw_header(part, name)
        if value is None:
            continue
        holder = Message()  # the parameter parser of `email`, over the header's decoded text
        holder[name] = value
        try:
            raw = holder.get_param(param, None, header=name)
        except (ValueError, TypeError, IndexError):
            continue
        if raw is None:
            continue
        if isinstance(raw, tuple):  # RFC 2231: (charset, language, %-decoded text)
            charset, _lang, value = raw
            text = decode_bytes(value.encode("latin-1", errors="surrogateescape"), charset)
        else:
            text = decode_header(email.utils.unquote(raw))
        text = one_line(text).strip().strip('"')
        if text:
            return text
    return None


@dataclass(frozen=True, slots=True)
class Part:
    """One leaf of the message that carries a file."""

    name: str | None  # as sent (decoded), None when the sender's client gave none
    content_type: str
    data: bytes
    inline: bool  # an inline part with a Content-ID (signature logos, pasted images)


def parts(msg: Message) -> list[Part]:
    """Every file-carrying leaf: parts with a name or an attachment disposition, and any
    non-text leaf (a workbook sent with no name at all). The message's own text is not a part."""
    out: list[Part] = []
    for leaf in msg.walk():
        if leaf.is_multipart():
            continue
        ctype = leaf.get_content_type()
        name = attachment_name(leaf)
        disposition = (leaf.get_content_disposition() or "").lower()
        if name is None and disposition != "attachment" and ctype.startswith(("text/", "message/")):
            continue  # the body (plain, html) or a delivery-status report
        try:
            data = leaf.get_payload(decode=True) or b""
        except (ValueError, TypeError, AssertionError):
            data = b""
        inline = disposition != "attachment" and leaf.get("Content-ID") is not None
        out.append(Part(name, ctype, data, inline))
    return out


# Structural defects after which the attachments found may be incomplete or wrong.
_SERIOUS = {
    "StartBoundaryNotFoundDefect", "CloseBoundaryNotFoundDefect", "MultipartInvariantViolationDefect",
    "NoBoundaryInMultipartDefect", "InvalidBase64CharactersDefect", "InvalidBase64PaddingDefect",
    "InvalidBase64LengthDefect", "MissingHeaderBodySeparatorDefect",
}  # fmt: skip


def defects(msg: Message) -> list[str]:
    """Names of the serious structural defects the parser met anywhere in the message."""
    found = []
    for leaf in msg.walk():
        for d in getattr(leaf, "defects", ()):
            name = type(d).__name__
            if name in _SERIOUS and name not in found:
                found.append(name)
    return found


def automatic(msg: Message) -> str | None:
    """Why no reply may go to this message (RFC 3834 and list conventions), or None: an
    auto-reply, a bounce, a mailing list or bulk mail. Answering those makes mail loops."""
    auto = (raw_header(msg, "Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"自动发送的邮件（Auto-Submitted: {one_line(auto)[:40]}）"
    return_path = raw_header(msg, "Return-Path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        return "退信（Return-Path 为空）"
    for header in ("List-Id", "List-Unsubscribe", "List-Post"):
        if raw_header(msg, header) is not None:
            return f"邮件列表（{header}）"
    precedence = (raw_header(msg, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return f"群发邮件（Precedence: {precedence}）"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if raw_header(msg, header) is not None:
            return f"自动回复（{header}）"
    if msg.get_content_type() == "multipart/report":
        return "投递状态报告（退信）"
    sender = (sender_address(msg) or "").lower()
    if sender.startswith(("mailer-daemon@", "postmaster@")):
        return "退信（系统发件人）"
    return None


_ADDRESS = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+\.[^@\s<>\"(),;:]+$")


def _address(value: object) -> str | None:
    _name, addr = email.utils.parseaddr(decode_header(value))
    addr = addr.strip().lower()
    return addr if _ADDRESS.match(addr) else None


def sender_address(msg: Message) -> str | None:
    """The From address (lower case), None when missing or not an address."""
    return _address(raw_header(msg, "From"))


def sender_name(msg: Message) -> str:
    name, _addr = email.utils.parseaddr(decode_header(raw_header(msg, "From")))
    return one_line(name)


def reply_address(msg: Message) -> str | None:
    """Where a reply goes: Reply-To when it holds an address, else From."""
    return _address(raw_header(msg, "Reply-To")) or sender_address(msg)


_MSGID = re.compile(r"<[^<>\s]+>")


def message_id(msg: Message) -> str | None:
    found = _MSGID.search(raw_header(msg, "Message-ID") or "")
    return found.group() if found else None


def references(msg: Message) -> list[str]:
    """The thread so far: References (or In-Reply-To) as a list of ids."""
    refs = _MSGID.findall(raw_header(msg, "References") or "")
    if not refs:
        refs = _MSGID.findall(raw_header(msg, "In-Reply-To") or "")
    return refs


def subject(msg: Message) -> str:
    return header(msg, "Subject")


def content_id(raw: bytes) -> str:
    """A stable identity for a message that carries no Message-ID: its content hash."""
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@jibao.invalid>"


def parse(raw: bytes) -> Message:
    """The message; the compat32 parser is the lenient one (it records defects, never raises
    on structure), which is what a hostile or broken message needs."""
    return email.message_from_bytes(raw)
