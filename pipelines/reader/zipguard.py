"""Zip inflation under hard caps: the central directory's size, entry count, declared sizes
and ratios are checked before anything is inflated, and what is inflated is counted as it
streams out (never past the entry's declared size, the part cap or the total cap). XML parts
are checked for DTDs and entity declarations in their prolog. Hand-written around zlib/bz2/lzma
because neither calamine nor openpyxl exposes pre-parse limits."""

from __future__ import annotations

import bz2
import codecs
import lzma
import os
import re
import struct
import zipfile
import zlib
from typing import BinaryIO

from .limits import ReaderLimits
from .model import Refused

__all__ = ["Inflater", "XML_SUFFIXES", "check_eocd", "open_zip", "xml_prolog_unsafe"]

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
XML_SUFFIXES = (".xml", ".rels", ".vml")
_DTD_RE = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def open_zip(fp: BinaryIO, limits: ReaderLimits) -> tuple[list[zipfile.ZipInfo], Inflater]:
    """The entries of a zip (directories left out) after the checks every zip gets: central
    directory size, entry count, declared sizes and ratios, encryption; and the bounded inflater
    that reads them."""
    check_eocd(fp, limits)
    fp.seek(0)
    zf = zipfile.ZipFile(fp)
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(zf.infolist()) > limits.max_zip_entries:
        raise Refused("zip_bomb")
    declared = 0
    for info in infos:
        declared += info.file_size
        if info.file_size > limits.max_part_inflated or declared > limits.max_total_inflated:
            raise Refused("zip_bomb")
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise Refused("zip_bomb")
        if info.flag_bits & 0x1:
            raise Refused("encrypted")
    return infos, Inflater(fp, limits)


def check_eocd(fp: BinaryIO, limits: ReaderLimits) -> None:
    """Refuse a huge central directory before zipfile parses it into Python objects."""
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    fp.seek(max(0, size - (1 << 16) - 22))
    tail = fp.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise Refused("corrupt")
    entries, cd_size = struct.unpack_from("<HI", tail, at + 10)
    if entries != 0xFFFF and entries > limits.max_zip_entries:
        raise Refused("zip_bomb")
    if cd_size != 0xFFFFFFFF and cd_size > limits.max_zip_entries * 1024:
        raise Refused("zip_bomb")


def _entry_key(info: zipfile.ZipInfo) -> tuple[int, int, int, str]:
    return info.header_offset, info.compress_type, info.compress_size, info.filename


class Inflater:
    """Inflate zip entries from their raw local data, counting the bytes actually produced.

    Declared sizes in a zip can lie; the cap is on real output, so a lying header
    cannot make any later parser inflate more than the limits allow.
    """

    def __init__(self, fp: BinaryIO, limits: ReaderLimits) -> None:
        self.fp = fp
        self.limits = limits
        self.total = 0
        self.seen: set[int] = set()  # local header offsets already counted
        # Parts read early (content types, relationships, workbook), so the full pass does not
        # inflate them again; keyed by everything that decides the outcome of inflating.
        self.done: dict[tuple[int, int, int, str], bytes] = {}

    def read(self, info: zipfile.ZipInfo, keep: bool) -> bytes:
        data = self._inflate(info, keep) or b""
        if keep:
            self.done[_entry_key(info)] = data
        return data

    def inflate_needed(self, infos: list[zipfile.ZipInfo], wanted: set[str]) -> dict[str, bytes]:
        """Inflate once, in full, the parts the scans read (`wanted`); of every other XML part
        only the head the prolog check needs. Other parts are left to the engine, which
        inflates what it reads under the worker's memory cap: their declared sizes and ratios
        were checked when the zip was opened (`open_zip`)."""
        kept: dict[str, bytes] = {}
        head = self.limits.prolog_scan_bytes
        for info in infos:
            keep = info.filename in wanted
            data = self.done.get(_entry_key(info))
            if data is None:
                if keep:
                    data = self._inflate(info, True)
                elif info.filename.lower().endswith(XML_SUFFIXES):
                    self._inflate(info, False, upto=head)
            if keep and data is not None:
                kept[info.filename] = data
        return kept

    def _inflate(self, info: zipfile.ZipInfo, keep: bool, upto: int | None = None) -> bytes | None:
        """Inflate one entry (or its first `upto` bytes), refusing the first byte past the caps."""
        limits = self.limits
        count_it = info.header_offset not in self.seen  # duplicate names still count
        self.seen.add(info.header_offset)
        # Never more than the entry declares: the checks before inflating read the declared
        # sizes, so an entry that inflates past them is lying (the bomb's trick) and stops here.
        cap = min(
            limits.max_part_inflated,
            limits.max_total_inflated - (self.total if count_it else 0),
            info.file_size,
        )
        stop = cap if upto is None else min(cap, upto)  # output wanted: all, or the head
        fp = self.fp
        fp.seek(info.header_offset)
        local = fp.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise Refused("corrupt")
        name_len, extra_len = struct.unpack_from("<HH", local, 26)
        fp.seek(info.header_offset + 30 + name_len + extra_len)
        method = info.compress_type
        if method == zipfile.ZIP_DEFLATED and info.compress_size <= SMALL_ENTRY:
            return self._inflate_small(info, keep, cap, stop, count_it)
        if method == zipfile.ZIP_STORED:
            decomp = None
        elif method == zipfile.ZIP_DEFLATED:
            decomp = zlib.decompressobj(-15)
        elif method == zipfile.ZIP_BZIP2:
            decomp = bz2.BZ2Decompressor()
        elif method == zipfile.ZIP_LZMA:
            decomp = _LzmaZip()
        else:
            raise Refused("corrupt")
        is_zlib = method == zipfile.ZIP_DEFLATED
        check_xml = info.filename.lower().endswith(XML_SUFFIXES)
        remaining = info.compress_size
        produced = 0
        parts: list[bytes] = []
        head = b""
        while remaining > 0:
            chunk = fp.read(min(remaining, 1 << 18))
            if not chunk:
                raise Refused("corrupt")
            remaining -= len(chunk)
            while chunk:
                if decomp is None:
                    out, chunk = chunk, b""
                elif is_zlib:
                    out = decomp.decompress(chunk, stop - produced + 1)
                    chunk = decomp.unconsumed_tail
                else:
                    out = decomp.decompress(chunk, stop - produced + 1)
                    chunk = b""
                produced += len(out)
                if produced > cap:
                    raise Refused("zip_bomb")
                if check_xml and len(head) < limits.prolog_scan_bytes:
                    head += out[: limits.prolog_scan_bytes - len(head)]
                if keep:
                    parts.append(out)
                if produced >= stop and stop < cap:
                    remaining = 0  # the head was all that was wanted
                    break
                if not out and (decomp is None or not chunk):
                    break
            if decomp is not None and getattr(decomp, "eof", False):
                break
        if decomp is not None and not is_zlib and produced < stop:
            # bz2/lzma may still hold output after the input is consumed
            while not decomp.eof and not getattr(decomp, "needs_input", True):
                out = decomp.decompress(b"", cap - produced + 1)
                produced += len(out)
                if produced > cap:
                    raise Refused("zip_bomb")
                if keep:
                    parts.append(out)
        if produced > limits.ratio_floor_bytes and produced > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise Refused("zip_bomb")
        if count_it:
            self.total += produced
        more = produced > len(head) or info.file_size > produced  # past the scanned head
        if check_xml and xml_prolog_unsafe(
            head, full=more or len(head) >= limits.prolog_scan_bytes
        ):
            raise Refused("xml_entities")
        return b"".join(parts) if keep else None

    def _inflate_small(
        self, info: zipfile.ZipInfo, keep: bool, cap: int, stop: int, count_it: bool
    ) -> bytes | None:
        """`_inflate` for a small deflated entry (most parts of a return): one read, one
        bounded decompress call, the same checks."""
        limits = self.limits
        data = self.fp.read(info.compress_size)
        if len(data) < info.compress_size:
            raise Refused("corrupt")
        try:
            out = zlib.decompressobj(-15).decompress(data, stop + 1)
        except zlib.error:
            raise Refused("corrupt") from None
        produced = len(out)
        if produced > cap:
            raise Refused("zip_bomb")
        if produced > stop:
            out, produced = out[:stop], stop
        if produced > limits.ratio_floor_bytes and produced > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise Refused("zip_bomb")
        if count_it:
            self.total += produced
        if info.filename.lower().endswith(XML_SUFFIXES):
            head = out[: limits.prolog_scan_bytes]
            more = produced > len(head) or info.file_size > produced
            if xml_prolog_unsafe(head, full=more or len(head) >= limits.prolog_scan_bytes):
                raise Refused("xml_entities")
        return out if keep else None


SMALL_ENTRY = 1 << 16  # compressed bytes read and inflated in one call


class _LzmaZip:
    """LZMA as stored in zip (4-byte header + LZMA1 properties), bounded like the others."""

    def __init__(self) -> None:
        self._head = b""
        self._d: lzma.LZMADecompressor | None = None
        self.eof = False
        self.needs_input = True

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._d is None:
            self._head += data
            if len(self._head) < 4:
                return b""
            psize = struct.unpack_from("<H", self._head, 2)[0]
            if len(self._head) < 4 + psize:
                return b""
            props = lzma._decode_filter_properties(lzma.FILTER_LZMA1, self._head[4 : 4 + psize])  # type: ignore[attr-defined]
            self._d = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[props])
            data = self._head[4 + psize :]
        out = self._d.decompress(data, max_length)
        self.eof = self._d.eof
        self.needs_input = self._d.needs_input
        return out


def xml_prolog_unsafe(head: bytes, full: bool) -> bool:
    """True when an XML part declares a DTD/entities, or hides its root past the scan window."""
    if b"<!" not in head and not head.startswith((b"<\x00", b"\x00<", b"\xff\xfe", b"\xfe\xff")):
        # No declaration or comment anywhere in the head (the usual part): only processing
        # instructions can stand before the root.
        i, n = 3 if head.startswith(codecs.BOM_UTF8) else 0, len(head)
        while i < n:
            while i < n and head[i] in b" \t\r\n":
                i += 1
            if not head.startswith(b"<?", i):
                return False
            j = head.find(b"?>", i)
            if j < 0:
                return full
            i = j + 2
        return full and n > 0
    if head.startswith(codecs.BOM_UTF8):
        text = head[3:].decode("utf-8", "replace")
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head[: len(head) // 2 * 2].decode("utf-16", "replace")
    elif head.startswith(b"<\x00"):
        text = head[: len(head) // 2 * 2].decode("utf-16-le", "replace")
    elif head.startswith(b"\x00<"):
        text = head[: len(head) // 2 * 2].decode("utf-16-be", "replace")
    else:
        text = head.decode("latin-1")
    if _DTD_RE.search(text):
        return True
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if text.startswith("<?", i):
            j = text.find("?>", i)
        elif text.startswith("<!--", i):
            j = text.find("-->", i)
        else:
            return text.startswith("<!", i)  # any other declaration before the root
        if j < 0:
            return full  # prolog runs past the scanned window
        i = j + 2
    return full and n > 0
