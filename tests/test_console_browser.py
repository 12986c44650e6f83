"""The console in a real browser: Chromium (Debian's, headless) against `jibao serve` started on
127.0.0.1 at a free port with its own data root. A 街道 clerk uploads a defective return and sees
the cell named, uploads the corrected one and sees 通过, then sees the letter; the office sees
both versions on the board and the return's detail; a leader opens the report (its charts draw
under the console's Content-Security-Policy); the clerk gets 403 for another unit's return and
for the office's pages; a POST without a CSRF token is refused; repeated failed logins lock an
account. The warehouse refresh the upload requests is run here as the Dagster daemon would run
it: the same `quarterly_job`. Screenshots go to tests/artifacts/console/."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from pipelines.paths import Paths
from tests.console_fixtures import (
    HEADER_DATE,
    PASSWORD,
    QUARTER,
    corrected_form1,
    defective_form1,
)
from tests.returns import write_return

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts" / "console"
ACCOUNTS = [
    ("changtai", "submitter", "常泰街道"),
    ("jiangnan", "submitter", "江南街道"),
    ("office", "office", None),
    ("leader", "leader", None),
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (CI installs it)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_quarter(paths: Paths) -> None:
    """What the daemon does with the run the upload requested: quarterly_job for the quarter."""
    from pipelines.jobs import execute

    result = execute(paths, QUARTER, QUARTER, send=False)
    assert result.success


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A data root with a few returns of QUARTER already in, the accounts, and the server."""
    home = tmp_path_factory.mktemp("console_site")
    paths = Paths(home)
    drop = paths.raw_quarter(QUARTER) / "报送文件夹"
    drop.mkdir(parents=True)
    for form in ("form1", "form2", "form3", "form4"):
        write_return(drop / f"江南_{form}.xlsx", form, "江南街道", campaign=2026, date=HEADER_DATE)
    for form in ("form1", "form2", "form3"):
        write_return(drop / f"卫健_{form}.xlsx", form, "区卫健局", campaign=2026, date=HEADER_DATE)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["JIBAO_HOME"] = str(home)
    make_accounts = (
        "from pipelines.console.server import setup_django; setup_django();"
        "from pipelines.console.accounts.users import add_user;"
        f"[add_user(n, r, {PASSWORD!r}, unit=u) for n, r, u in {ACCOUNTS!r}]"
    )
    subprocess.run(
        [sys.executable, "-c", make_accounts], env=env, cwd=ROOT, check=True, timeout=120
    )
    run_quarter(paths)
    port = free_port()
    log = open(home / "serve.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve", "--port", str(port)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/login/", timeout=2).status_code == 200:
                break
        assert server.poll() is None, (home / "serve.log").read_text()
        assert time.monotonic() < deadline, "jibao serve did not answer"
        time.sleep(0.2)
    yield paths, base
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


class Session:
    """One person's browser context, with what went wrong on its pages."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(
            base_url=base, locale="zh-CN", viewport={"width": 1280, "height": 900}
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.expected: set[str] = set()  # URLs visited to see them refused
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )
        self.page.on(
            "response",
            lambda r: (
                self.errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.url not in self.expected
                else None
            ),
        )
        self.page.on(
            "request",
            lambda r: None if r.url.startswith((base, "data:")) else self.foreign.append(r.url),
        )

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.page.goto("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")

    def shot(self, name: str, *, full_page: bool = True) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)

    def close(self) -> None:
        self.context.close()


def drop_files(page, selector: str, files: list[Path]) -> None:
    """Drag and drop, as a person does from the file manager onto the upload area."""
    payload = [{"name": f.name, "b64": base64.b64encode(f.read_bytes()).decode()} for f in files]
    transfer = page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
                dt.items.add(new File([bytes], f.name));
            }
            return dt;
        }""",
        payload,
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_a_quarter_in_the_browser(site, browser, tmp_path):
    from playwright.sync_api import expect

    paths, base = site
    clerk = Session(browser, base)
    clerk.login("changtai")
    expect(clerk.page.locator("h1")).to_contain_text("常泰街道 · 上传季报表")

    # A defective return, dropped on the page: the verdict names the cell, the value, the fix.
    bad = defective_form1(tmp_path / "常泰街道表一.xlsx")
    drop_files(clerk.page, "#dropzone", [bad])
    verdict = clerk.page.locator("article.verdict").first
    expect(verdict).to_contain_text("退回", timeout=30_000)
    expect(verdict.locator("td.cell", has_text="K7")).to_be_visible()
    expect(verdict).to_contain_text("950")
    expect(verdict).to_contain_text("大于「自查隐患数量（条）」")
    clerk.shot("1_submitter_defective_upload")

    # The corrected one, through the file picker: 通过.
    good = corrected_form1(tmp_path / "常泰街道表一（更正）.xlsx")
    clerk.page.set_input_files("#id_files", [good])
    verdict = clerk.page.locator("article.verdict").first
    expect(verdict).to_contain_text("通过", timeout=30_000)
    expect(verdict).to_contain_text("全部检查通过")
    clerk.shot("2_submitter_corrected_upload")

    # The refresh the uploads asked for; then their versions and their letter are on the page.
    run_quarter(paths)
    clerk.page.goto("/submit/")
    history = clerk.page.locator("#history")
    expect(history).to_contain_text("常泰街道表一.xlsx")
    expect(history).to_contain_text("常泰街道表一（更正）.xlsx")
    expect(history).to_contain_text("网页上传")
    expect(history.locator("td.status-accepted", has_text="正式版本")).to_have_count(1)
    letters = clerk.page.locator("#letters a", has_text=f"通知_{QUARTER}.html")
    expect(letters).to_have_count(1)
    with clerk.page.expect_download() as got:
        letters.click()
    letter = Path(got.value.path()).read_text(encoding="utf-8")
    assert "常泰街道" in letter and "表二" in letter  # still owes 表二–表四
    with clerk.page.expect_download() as got:
        clerk.page.click("text=下载本单位本期空白报表")
    assert got.value.suggested_filename == "季报表_2026_常泰街道.xlsx"
    clerk.shot("3_submitter_history_and_letters")

    # Another unit's return and every office page: 403.
    for url in (f"/returns/{QUARTER}/江南街道/form1/", "/office/", f"/office/{QUARTER}/"):
        clerk.expected.add(base + quote(url))
        response = clerk.page.goto(url)
        assert response.status == 403, url
    expect(clerk.page.locator("h1")).to_contain_text("无权访问")
    clerk.shot("4_submitter_forbidden")

    # A POST without the CSRF token (the session cookie is there) is refused.
    refused = clerk.context.request.post(
        f"{base}/submit/upload/", multipart={"files": {"name": "x.xlsx", "mimeType": "application/octet-stream", "buffer": good.read_bytes()}}
    )  # fmt: skip
    assert refused.status == 403 and "请求被拒绝" in refused.text()
    assert clerk.errors == [] and clerk.foreign == []
    clerk.close()

    # The office: both versions on the board and in the return's detail.
    office = Session(browser, base)
    office.login("office")
    expect(office.page.locator("h1")).to_contain_text("报送看板")
    office.page.goto(f"/office/{QUARTER}/")
    row = office.page.locator("table.board tr", has_text="常泰街道")
    expect(row.locator("td.state").first).to_contain_text("已报送")
    expect(row.locator("td.state").first).to_contain_text("2 版")
    expect(office.page.locator("table.summary")).to_contain_text("街道")
    office.shot("5_office_board")
    row.locator("td.state a").first.click()
    versions = office.page.locator("#versions article.version")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("K7")
    expect(versions.nth(1)).to_contain_text("正式版本")
    office.shot("6_office_return_detail")
    assert office.errors == [] and office.foreign == []
    office.close()

    # A leader: the report, drawn under the console's policy, and nothing else.
    leader = Session(browser, base)
    leader.login("leader")
    expect(leader.page.locator("h1")).to_contain_text("进展报告")
    leader.page.click("text=2026年第三季度进展报告")
    leader.page.wait_for_function(
        "() => document.querySelectorAll('.plotly-graph-div').length > 0 && "
        "[...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('svg.main-svg'))",
        timeout=30_000,
    )
    leader.shot("7_leader_report", full_page=False)
    assert leader.errors == [] and leader.foreign == []
    leader.expected |= {f"{base}/office/", f"{base}/submit/"}
    assert leader.page.goto("/office/").status == 403
    assert leader.page.goto("/submit/").status == 403
    leader.close()


def test_repeated_failed_logins_lock_the_account(site, browser):
    from playwright.sync_api import expect

    from pipelines.console.conf import console_config

    _paths, base = site
    s = Session(browser, base)
    for _ in range(int(console_config()["lockout"]["failures"])):
        s.login("jiangnan", "not-the-password")
    s.login("jiangnan")
    expect(s.page.locator("body")).to_contain_text("已暂时锁定")
    s.shot("8_login_locked_out")
    s.close()
