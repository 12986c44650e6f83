"""Resource limits of the reader; frozen so a worker cannot be talked out of them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "ReaderLimits"]

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True, slots=True)
class ReaderLimits:
    """Caps applied before and during parsing.

    Defaults are far above any real quarterly return (a few hundred rows, tens of
    columns, well under 1 MB) and far below what would hurt the machine.
    """

    max_file_bytes: int = 100 * MiB
    # zip (OOXML / ODS) guards, checked before any parser sees the file
    max_zip_entries: int = 2_000
    max_total_inflated: int = 200 * MiB  # actual bytes, all entries together
    max_part_inflated: int = 100 * MiB  # actual bytes of any single entry
    # A bomb is judged by ratio AND size: a highly compressible part (repetitive XML of a real
    # sheet reaches 100-300:1) is harmless while small; deflate's ceiling is about 1032:1.
    max_ratio: float = 200.0  # inflated / compressed, per entry ...
    ratio_floor_bytes: int = 16 * MiB  # ... for entries that inflate beyond this
    prolog_scan_bytes: int = 64 * 1024  # an XML prolog longer than this is refused
    # Shared strings copied into every cell that uses them: refused beyond what a worker can
    # hold at all, or when large and many times the shared strings themselves.
    max_shared_string_expansion: int = 768 * MiB
    shared_string_floor: int = 128 * MiB
    max_shared_string_ratio: float = 1000.0
    # grid caps
    max_rows: int = 5_000  # rows returned per sheet (from row 1)
    max_cols: int = 300  # columns returned per sheet (from column A)
    max_sheet_cells: int = 20_000_000  # bounding box an engine may allocate for one sheet
    # worker process limits
    worker_memory_bytes: int = 2 * GiB  # RLIMIT_AS of each worker
    timeout_s: float = 30.0  # per file


DEFAULT_LIMITS = ReaderLimits()
