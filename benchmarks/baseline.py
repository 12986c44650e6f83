"""The baseline every ingest benchmark divides by: a bare python-calamine read of the same files."""

from __future__ import annotations

from pathlib import Path


def calamine_read(files: list[Path]) -> int:
    """Open every file and read every sheet's rows; returns the cell count (so nothing is skipped)."""
    from python_calamine import CalamineWorkbook

    cells = 0
    for path in files:
        with CalamineWorkbook.from_path(str(path)) as wb:
            for name in wb.sheet_names:
                rows = wb.get_sheet_by_name(name).to_python()
                cells += sum(len(r) for r in rows)
    return cells
