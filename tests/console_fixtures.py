"""Helpers shared by the console's tests: realistic returns for one unit and quarter, and
waiting for the upload page's verdicts."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from tests.returns import FORM1_STREET, write_return

QUARTER = "2026Q3"  # a quarter of the 2026 campaign, dated so that the header names it
HEADER_DATE = dt.date(2026, 9, 28)
PASSWORD = "Quarter-returns-2026"


def street_row(**over) -> dict:
    return {("street", k): v for k, v in (FORM1_STREET | over).items()}


def defective_form1(path: Path, unit: str = "常泰街道") -> Path:
    """表一 with 整改隐患 (K7) above 自查隐患: the error names the cell."""
    return write_return(
        path, "form1", unit, street_row(hazards_fixed=950), campaign=2026, date=HEADER_DATE
    )


def corrected_form1(path: Path, unit: str = "常泰街道") -> Path:
    return write_return(path, "form1", unit, street_row(), campaign=2026, date=HEADER_DATE)


def zip_bomb(path: Path) -> Path:
    """An .xlsx whose one part inflates 1000:1 — the reader's guard refuses it."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (40 << 20))
    return path
