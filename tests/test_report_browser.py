"""The progress report in a real browser with the network off: every chart draws, the console
stays clean, nothing leaves the file, and the first screen is saved as a screenshot."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (CI installs it)"
)


def _open(page_factory, report: Path, viewport: dict[str, int]):
    """Load the report offline; return the page, console errors and blocked requests."""
    page = page_factory(viewport)
    errors: list[str] = []
    blocked: list[str] = []
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(report.as_uri(), wait_until="load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.plotly-graph-div')]"
        ".every(d => d.querySelector('svg.main-svg'))",
        timeout=30_000,
    )
    page.dialogs = dialogs
    return page, errors, blocked


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> tuple[Path, str]:
    import duckdb

    from pipelines.outputs.report import write_report
    from tests.test_report import QUARTER, build_fixture_warehouse

    root = tmp_path_factory.mktemp("report")
    db = build_fixture_warehouse(root / "warehouse.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    try:
        return write_report(con, QUARTER, root / "reports"), QUARTER
    finally:
        con.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page_factory(browser):
    contexts = []

    def make(viewport: dict[str, int]):
        ctx = browser.new_context(offline=True, viewport=viewport, device_scale_factor=1)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.mark.parametrize(
    ("label", "viewport"),
    [("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})],
)
def test_report_renders_offline(report_file, page_factory, label, viewport, tmp_path):
    report, quarter = report_file
    page, errors, blocked = _open(page_factory, report, viewport)
    divs = page.locator(".plotly-graph-div")
    assert divs.count() >= 5
    for i in range(divs.count()):
        assert divs.nth(i).locator("svg.main-svg").count() > 0, f"chart {i} did not draw"
        assert divs.nth(i).locator("g.trace, g.barlayer path, g.scatterlayer path").count() > 0
    assert page.locator("table.gt_table").count() >= 4
    assert errors == [], errors
    assert blocked == [], blocked
    # The hostile unit name is shown as text, never run.
    assert page.dialogs == []
    assert "<script>alert(1)</script>" in page.inner_text("body")
    # On a phone nothing but tables and charts may scroll sideways.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport["width"] + 1, (
        f"page is {width}px wide on a {viewport['width']}px screen"
    )
    shot = tmp_path / f"report_{quarter}_{label}.png"
    page.screenshot(path=str(shot))
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / shot.name)
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf[:4] == b"%PDF" and len(pdf) > 10_000


def test_chart_toolbar_is_chinese_and_offers_no_cloud_or_editing(report_file, page_factory):
    """Plotly's own toolbar: only 「下载为图片」 and 「恢复原始比例」, in Chinese; no 「Share
    chart」 (which uploads to Plotly Cloud), no editing link, no Plotly logo."""
    report, _ = report_file
    page, errors, blocked = _open(page_factory, report, {"width": 1280, "height": 900})
    chart = page.locator(".plotly-graph-div").first
    chart.hover()
    titles = chart.locator(".modebar-btn").evaluate_all(
        "els => els.map(e => e.getAttribute('data-title'))"
    )
    assert sorted(titles) == sorted(["下载为图片（PNG）", "恢复原始比例"])
    toolbar = chart.locator(".modebar").inner_html()
    assert "plotlylogo" not in toolbar and "Share" not in toolbar and "Chart Studio" not in toolbar
    assert errors == [] and blocked == []
