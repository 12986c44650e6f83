"""Printing for tests, as the office prints: an HTML page through Chromium (Playwright's
page.pdf on A4) and PDFs read back with poppler (pdftotext -bbox-layout), so a test can say how
full each page is, which line ends it, and how large the printed text is.

    uv run python -m tests.printing REPORT.html OUT.pdf   # print one report (PNG: pdftoppm)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
A4_MARGIN_MM = {"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"}

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (CI installs it)"
)
requires_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)


def print_html(pages: list[tuple[Path, Path]]) -> None:
    """Print each (html, pdf) on A4 in one Chromium, offline, after every chart has drawn; the
    page's own @page rule sets the margins (preferCSSPageSize)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for html, pdf in pages:
                ctx = browser.new_context(offline=True)
                page = ctx.new_page()
                page.goto(html.as_uri(), wait_until="load")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.plotly-graph-div')]"
                    ".every(d => d.querySelector('svg.main-svg'))",
                    timeout=60_000,
                )
                page.emulate_media(media="print")
                page.pdf(path=str(pdf), format="A4", print_background=True,
                         prefer_css_page_size=True)  # fmt: skip
                ctx.close()
        finally:
            browser.close()


@dataclass(frozen=True)
class Line:
    text: str
    top: float
    bottom: float
    height: float  # of the line's words: the printed size of its text, in points


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    lines: tuple[Line, ...]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def fill(self) -> float:
        """How far down the page its content reaches, as a share of the page height (0 empty)."""
        return max((line.bottom for line in self.lines), default=0.0) / self.height


def read_pdf(pdf: Path) -> list[Page]:
    """Every page with its lines (top to bottom) from `pdftotext -bbox-layout`."""
    done = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    root = ElementTree.fromstring(done.stdout)
    pages = []
    for i, page in enumerate(root.iter(f"{{{ns['x']}}}page"), 1):
        lines = []
        for line in page.iter(f"{{{ns['x']}}}line"):
            words = list(line.iter(f"{{{ns['x']}}}word"))
            text = "".join(w.text or "" for w in words).strip()
            if not text:
                continue
            tops = [float(w.get("yMin")) for w in words]
            bottoms = [float(w.get("yMax")) for w in words]
            heights = sorted(b - t for t, b in zip(tops, bottoms, strict=True))
            lines.append(Line(text, min(tops), max(bottoms), heights[len(heights) // 2]))
        lines.sort(key=lambda x: x.top)
        pages.append(Page(i, float(page.get("width")), float(page.get("height")), tuple(lines)))
    return pages


def render_png(pdf: Path, out_prefix: Path, first: int = 1, last: int = 2) -> list[Path]:
    """Pages `first`..`last` as PNG (pdftoppm, 60 dpi) to look at."""
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", str(first), "-l", str(last), str(pdf),
         str(out_prefix)],
        check=True, timeout=120,
    )  # fmt: skip
    return sorted(out_prefix.parent.glob(f"{out_prefix.name}*.png"))


# pdftotext's word boxes span the font's ascent and descent; for the fonts LibreOffice embeds
# here that is 1.3 × the font size (a 100 % sheet in 11 pt prints 14.3 pt high lines), so a
# line's printed font size is its height ÷ 1.3.
POPPLER_LINE_FACTOR = 1.3
MIN_PT = 7.0  # the smallest text an office reads on paper (issue 9 point 8)


def printed_size(page: Page) -> float:
    """The smallest printed font size on a page, in points."""
    return min(line.height for line in page.lines) / POPPLER_LINE_FACTOR


if __name__ == "__main__":
    html, pdf = Path(sys.argv[1]), Path(sys.argv[2])
    print_html([(html, pdf)])
    for page in read_pdf(pdf):
        last = page.lines[-1].text[:40] if page.lines else ""
        print(f"page {page.number}: fill {page.fill:.0%}, last line 「{last}」")
