"""Received files: archived once under their content hash, with the time they were received.

The archive is what makes "nothing lost" hold: whatever happens to the drop folder later, every
version a submitter sent stays in data/archive/<sha256><ext>, and the ledger points at it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines import clock
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.reader.files import kind_of, open_regular

log = logging.getLogger(__name__)

RECEIVED_CSV = "received.csv"
EXPLANATIONS_CSV = "explanations.csv"
# Files that sit beside the returns but are not returns (same list as the front door's).
SIDECARS = frozenset({RECEIVED_CSV, EXPLANATIONS_CSV, "manifest.json", "thumbs.db", "desktop.ini"})


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """One distinct file content found in a quarter's drop folder."""

    sha256: str
    path: Path  # where it was found (absolute): what the front door is given
    original_name: str
    archive_path: Path
    received_at: dt.datetime
    received_at_source: (
        str  # "received.csv", a channel's receipt ("upload", "mail") or "first_seen"
    )
    duplicates: tuple[Path, ...] = ()  # other paths in the folder with the same content
    channel: str = "folder"  # how it reached the office: folder | upload | mail
    received_by: str | None = None  # the uploader's account or the sender's address
    message_id: str | None = None  # the e-mail's Message-ID


def sha256_file(path: Path) -> str:
    """sha256 of a regular file (opened without blocking: a FIFO raises, it never hangs)."""
    h = hashlib.sha256()
    with open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def archive_file(
    path: str | Path, archive_dir: str | Path, *, suffix: str | None = None
) -> tuple[str, Path]:
    """Copy `path` into `archive_dir` as <sha256><ext> unless that copy exists; return both.
    `suffix` replaces the extension of `path` (a channel's incoming file has none of its own).

    The copy is written to a temporary name and renamed, so a crash never leaves a truncated file
    under a hash name. Its modification time records when the content was first seen.
    """
    src, archive = Path(path), Path(archive_dir)
    digest = sha256_file(src)
    ext = (src.suffix if suffix is None else suffix).lower()
    target = archive / f"{digest}{ext}"
    if not target.exists():
        archive.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=archive, prefix=".incoming-")
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return digest, target


def first_seen(archived: Path) -> dt.datetime:
    """When the archive copy was made: the first time the pipeline saw this content."""
    return clock.from_timestamp(archived.stat().st_mtime)


def is_return_candidate(path: Path) -> bool:
    """Skip sidecars, hidden files and editors' lock/temp files (~$…, .~lock…#, *.tmp)."""
    name = path.name
    return not (
        name.lower() in SIDECARS
        or name.startswith((".", "~$", "~"))
        or name.lower().endswith((".tmp", ".crdownload", ".part"))
    )


_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
)


def parse_received_at(text: str) -> dt.datetime:
    text = text.strip().replace("T", " ")
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"无法识别的收到时间「{text}」（应为 2025-04-01 或 2025-04-01 09:30）")


def read_sidecar_csv(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line, row) of an office CSV (received.csv, explanations.csv). Excel saves CSV as UTF-8
    with BOM or, on Chinese Windows, as GBK: both are read. A file that cannot be decoded or lacks
    a `required` column is reported (a Chinese warning) and read as empty, never a traceback."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        log.warning("%s：无法识别文件编码，请另存为 UTF-8 编码的 CSV 文件；本文件未采用", path)
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(h or "").strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        log.warning(
            "%s：缺少列 %s（第一行应为 %s）；本文件未采用",
            path,
            "、".join(missing),
            ",".join(required),
        )
        return []
    reader.fieldnames = header
    rows = []
    try:
        for line, row in enumerate(reader, start=2):
            rows.append((line, {k: (v or "").strip() for k, v in row.items() if k is not None}))
    except csv.Error as exc:  # a field over csv.field_size_limit(), a stray NUL, …
        log.warning(
            "%s 第 %d 行无法读取（%s：某一格内容过长或含有非法字符）；本文件未采用，请修正后重新保存",
            path,
            len(rows) + 2,  # the header is line 1
            exc,
        )
        return []
    return rows


def read_received_csv(folder: Path) -> dict[str, dt.datetime]:
    """received.csv (columns file,received_at; file relative to the quarter folder) → times by
    relative POSIX path. The office records there the real date a return came in (e.g. by
    e-mail before it was copied to the folder). A line whose date cannot be read is reported (a
    Chinese warning naming the line) and its file keeps the time the pipeline first saw it."""
    path = folder / RECEIVED_CSV
    if not path.exists():
        return {}
    out: dict[str, dt.datetime] = {}
    for line, row in read_sidecar_csv(path, ("file", "received_at")):
        name = row["file"].replace("\\", "/").lstrip("./")
        when = row["received_at"]
        if not (name and when):
            continue
        try:
            out[name] = parse_received_at(when)
        except ValueError as exc:
            log.warning("%s 第 %d 行：%s；「%s」按首次收到时间计", path, line, exc, name)
    return out


def drop_folder_files(
    paths: Paths, folder: Path, *, warn: Callable[[str], None] | None = None
) -> list[Path]:
    """Regular files under `folder` (recursively, sorted), never leaving the drop folder: a link
    is followed only to a regular file inside data/raw/ (a link to /etc/passwd, or to a folder
    anywhere, is not), and FIFOs, sockets and devices are never opened. Each entry left out is
    a Chinese warning (`warn`, else the log), so nothing disappears silently."""
    say = warn or log.warning
    raw = paths.raw.resolve()
    out: list[Path] = []
    for root, dirs, files in os.walk(folder):  # followlinks=False: linked folders stay closed
        base = Path(root)
        dirs.sort()
        for name in sorted(dirs):
            if (base / name).is_symlink():
                say(f"{_rel(paths, base / name)}：是指向其他位置的文件夹链接，未读取其中文件")
        for name in sorted(files):
            path = base / name
            if not is_return_candidate(path):
                continue
            try:
                kind = kind_of(path, follow=False)
                if kind == "链接":
                    target = path.resolve(strict=True)
                    inside = target.is_relative_to(raw)
                    kind = kind_of(target, follow=False) if inside else "外部链接"
            except (OSError, RuntimeError):
                kind = "失效链接"
            if kind is None:
                out.append(path)
            elif kind == "外部链接":
                say(f"{_rel(paths, path)}：是指向报送文件夹以外位置的链接，未归档、未读取")
            elif kind == "失效链接":
                say(f"{_rel(paths, path)}：是失效的链接（指向的文件不存在），未归档")
            else:
                say(f"{_rel(paths, path)}：不是普通文件（{kind}），未归档、未读取")
    return sorted(out)


def _rel(paths: Paths, path: Path) -> str:
    try:
        return path.relative_to(paths.raw).as_posix()
    except ValueError:
        return str(path)


def scan_drop_folder(
    paths: Paths, quarter: str | Quarter, *, warn: Callable[[str], None] | None = None
) -> list[ReceivedFile]:
    """Every distinct file under data/raw/<quarter>/ (recursively), archived, with its received
    time: received.csv's entry if any, else its earliest channel receipt (upload, mail: see
    receipts.py), else the first time the pipeline saw the content. Identical copies collapse
    into one ReceivedFile (listed in `duplicates`). Links out of the drop folder and special
    files are left out with a Chinese warning (see `drop_folder_files`)."""
    from pipelines.warehouse.receipts import earliest_by_sha

    folders = paths.quarter_dirs(quarter)  # 「2025Q3/」, and 「2025q3/」 if someone made one
    if not folders:
        return []
    receipts = earliest_by_sha(paths, quarter)
    found: dict[str, ReceivedFile] = {}
    listed = [
        (folder, overrides, path)
        for folder in folders
        for overrides in [read_received_csv(folder)]
        for path in drop_folder_files(paths, folder, warn=warn)
    ]
    for folder, overrides, path in listed:
        if not is_return_candidate(path) or paths.archive in path.parents:
            continue
        digest, archived = archive_file(path, paths.archive)
        if digest in found:
            prev = found[digest]
            found[digest] = replace(prev, duplicates=(*prev.duplicates, path.absolute()))
            continue
        relative = path.relative_to(folder).as_posix()
        when = overrides.get(relative)
        receipt = receipts.get(digest)
        if when:
            at, source = when, RECEIVED_CSV
        elif receipt:
            at, source = receipt.received_at, receipt.channel
        else:
            at, source = first_seen(archived), "first_seen"
        found[digest] = ReceivedFile(
            sha256=digest,
            path=path.absolute(),  # a link inside data/raw keeps its own name
            original_name=receipt.name if receipt else path.name,
            archive_path=archived.resolve(),
            received_at=at,
            received_at_source=source,
            channel=receipt.channel if receipt else "folder",
            received_by=receipt.by if receipt else None,
            message_id=receipt.message_id if receipt else None,
        )
    return list(found.values())
