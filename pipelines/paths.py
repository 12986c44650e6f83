"""Where jibao keeps its files. One root (JIBAO_HOME, default: the current directory) so a test or
an office can point the whole pipeline somewhere else with one variable."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_QUARTER_NAME = re.compile(r"\s*(\d{4})\s*[Qq]\s*(\d+)\s*")


def folder_quarter(name: str) -> str | None:
    """The configured quarter a drop-folder name names, matched case-insensitively (「2026q1」 →
    "2026Q1"); None for a name that is not a configured quarter (「2025Q9」, 「misc」)."""
    from pipelines import periods

    m = _QUARTER_NAME.fullmatch(name)
    if not m:
        return None
    key = f"{int(m.group(1))}Q{int(m.group(2))}"
    return key if key in {str(q) for q in periods.quarters()} else None


def stray_reason(name: str, is_dir: bool) -> str:
    """Why an entry of data/raw/ is not read, in words (the office's warning)."""
    if not is_dir:
        return f"文件「{name}」直接放在 data/raw/ 下，未处理；请放入所属季度的文件夹（如 2025Q3/）"
    m = _QUARTER_NAME.fullmatch(name)
    if m and 1 <= int(m.group(2)) <= 4:
        return f"文件夹「{name}」的季度不在日历配置中（calendar.yaml › quarters），其中的文件未处理"
    if m:
        return (
            f"文件夹名「{name}」不是有效的季度（应写作 2025Q1–2025Q4 这样的形式），其中的文件未处理"
        )
    return f"文件夹「{name}」不是季度文件夹（应以季度命名，如 2025Q3），其中的文件未处理"


# Files that may sit in data/raw/ itself: the sample's manifest, desktop litter.
_BESIDE_QUARTERS = frozenset({"manifest.json", "thumbs.db", "desktop.ini"})


@dataclass(frozen=True)
class DropFolders:
    """What data/raw/ holds: the folders of each configured quarter (any case: 「2026q1」 counts
    as 2026Q1), and every other entry with the Chinese reason it is not read."""

    quarters: dict[str, list[Path]] = field(default_factory=dict)  # quarter → its folders
    stray: list[tuple[Path, str]] = field(default_factory=list)  # (entry, warning)


@dataclass(frozen=True)
class Paths:
    root: Path

    @classmethod
    def from_env(cls) -> Paths:
        return cls(Path(os.environ.get("JIBAO_HOME") or Path.cwd()).resolve())

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        """The drop folder: data/raw/<YYYYQn>/ (received.csv and explanations.csv beside files)."""
        return self.data / "raw"

    def raw_quarter(self, quarter: object) -> Path:
        return self.raw / str(quarter)

    def drop_folders(self) -> DropFolders:
        """data/raw/ read once: quarter folders by quarter (oldest first; within a quarter the
        exactly named folder first), and stray entries with their warnings. Hidden entries and
        editors' lock files are left out silently."""
        from pipelines import periods

        found: dict[str, list[Path]] = {}
        stray: list[tuple[Path, str]] = []
        if not self.raw.is_dir():
            return DropFolders()
        for entry in sorted(self.raw.iterdir()):
            if entry.name.startswith((".", "~")) or entry.name.lower() in _BESIDE_QUARTERS:
                continue
            is_dir = entry.is_dir() and not entry.is_symlink()
            quarter = folder_quarter(entry.name) if is_dir else None
            if quarter is None:
                stray.append((entry, stray_reason(entry.name, is_dir)))
            else:
                found.setdefault(quarter, []).append(entry)
        order = [str(q) for q in periods.quarters()]
        quarters = {
            q: sorted(found[q], key=lambda p: (p.name != q, p.name)) for q in order if q in found
        }
        return DropFolders(quarters, stray)

    def quarter_folders(self) -> list[Path]:
        """Every folder of data/raw/ that names a quarter of the calendar (any case), oldest first.
        The sensor, `jibao run` and the drop-folder scan all list folders through this."""
        return [p for dirs in self.drop_folders().quarters.values() for p in dirs]

    def quarter_dirs(self, quarter: object) -> list[Path]:
        """The folders of one quarter (「2025Q3/」 and, say, 「2025q3/」)."""
        return self.drop_folders().quarters.get(str(quarter), [])

    def drop_folder_warnings(self) -> list[str]:
        """One Chinese line per entry of data/raw/ that is not read (a folder naming no
        configured quarter, a file outside any quarter folder)."""
        return [reason for _, reason in self.drop_folders().stray]

    @property
    def archive(self) -> Path:
        """Every received file once, under its sha256."""
        return self.data / "archive"

    @property
    def warehouse(self) -> Path:
        override = os.environ.get("JIBAO_WAREHOUSE")
        return Path(override) if override else self.data / "warehouse" / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        return self.data / "reports"

    def report_dir(self, quarter: object) -> Path:
        return self.reports / str(quarter)

    @property
    def outbox(self) -> Path:
        return self.data / "outbox"

    def outbox_dir(self, quarter: object, submitter: str | None = None) -> Path:
        base = self.outbox / str(quarter)
        return base / submitter if submitter else base
