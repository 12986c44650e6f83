"""The report prints on A4 as an office prints it (issue 9 point 7): Chromium's print to PDF, the
pages read back with poppler. No page is under a quarter full except the last, no section heading
is the last line of a page, and short table columns (报表, 单元格, 类别, figures) never wrap a
word — 「表二」 used to print one character per line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.outputs_fixtures import sample_reports  # noqa: F401 (fixture)
from tests.printing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    print_html,
    read_pdf,
    requires_chromium,
    requires_poppler,
)

pytestmark = [requires_chromium, requires_poppler]
A4_CONTENT_PX = 703  # 210 mm − 2 × 12 mm margins, at 96 px per inch
MAX_PAGES = 12  # the full sample quarter printed on 16 pages before this layout


@pytest.fixture(scope="module")
def printed(sample_reports, tmp_path_factory) -> dict[str, tuple[Path, list]]:  # noqa: F811
    out = tmp_path_factory.mktemp("printed")
    jobs = {
        "full": (sample_reports.full, out / "full.pdf"),
        "early": (sample_reports.early, out / "early.pdf"),
    }
    print_html(list(jobs.values()))
    return {name: (html, read_pdf(pdf)) for name, (html, pdf) in jobs.items()}


def _headings(html: Path) -> set[str]:
    text = html.read_text(encoding="utf-8")
    return {
        re.sub(r"<[^>]+>|\s", "", h) for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", text, re.S)
    }


@pytest.mark.parametrize("name", ["full", "early"])
def test_no_page_but_the_last_is_under_a_quarter_full(printed, name):
    _, pages = printed[name]
    print(f"{name}: {len(pages)} pages, " + ", ".join(f"{p.fill:.0%}" for p in pages))
    thin = [(p.number, round(p.fill, 2)) for p in pages[:-1] if p.fill < 0.25]
    assert thin == []


@pytest.mark.parametrize("name", ["full", "early"])
def test_no_heading_is_the_last_line_of_a_page(printed, name):
    html, pages = printed[name]
    headings = _headings(html)
    stranded = [
        (p.number, p.lines[-1].text)
        for p in pages[:-1]
        if p.lines and re.sub(r"\s", "", p.lines[-1].text) in headings
    ]
    assert stranded == []


def test_the_full_quarter_prints_on_few_pages(printed):
    _, pages = printed["full"]
    assert len(pages) <= MAX_PAGES


def test_short_table_columns_do_not_wrap(sample_reports):  # noqa: F811
    """In print layout at A4 width, every short cell's text stays on one line."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(
                offline=True, viewport={"width": A4_CONTENT_PX, "height": 1000}
            ).new_page()
            page.goto(sample_reports.full.as_uri(), wait_until="load")
            page.emulate_media(media="print")
            wrapped = page.evaluate(
                """() => [...document.querySelectorAll(
                        'td.short, th.short, .gt_table td.gt_row:not(.gt_stub)')]
                    .filter(td => td.innerText.trim().length > 0)
                    .filter(td => {
                        const range = document.createRange();
                        range.selectNodeContents(td);
                        const tops = new Set([...range.getClientRects()]
                            .filter(r => r.width > 0).map(r => Math.round(r.top)));
                        return tops.size > 1;
                    })
                    .map(td => td.innerText.trim())"""
            )
            checked = page.evaluate("() => document.querySelectorAll('td.short').length")
        finally:
            browser.close()
    assert checked > 20
    assert wrapped == []
