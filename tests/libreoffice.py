"""LibreOffice headless conversion for tests: a file saved by a real office suite is what the
office receives, so templates are round-tripped through it (xlsx → xlsx, xlsx → xls).

Each call uses its own user profile (-env:UserInstallation), so parallel test workers do not
fight over one profile lock.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

# LibreOffice filter names: what "save as" chooses in the UI.
FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "xls": "xls:MS Excel 97",
    "pdf": "pdf:calc_pdf_Export",
}


def soffice() -> str | None:
    """The soffice executable, or None when LibreOffice is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


requires_soffice = pytest.mark.skipif(
    soffice() is None, reason="LibreOffice (soffice) is not installed; CI installs it"
)


def convert(source: Path, fmt: str, out_dir: Path, timeout: float = 180.0) -> Path:
    """Convert `source` with LibreOffice headless into out_dir and return the new file."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        cmd = [
            exe,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{profile}/{uuid.uuid4().hex}",
            "--convert-to",
            FILTERS.get(fmt, fmt),
            "--outdir",
            str(out_dir),
            str(source),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    target = out_dir / f"{source.stem}.{fmt}"
    if done.returncode != 0 or not target.exists():
        raise RuntimeError(
            f"soffice failed ({done.returncode}) converting {source.name} to {fmt}:\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return target
