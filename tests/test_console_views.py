"""The console through Django's test client: who may see what (403 for another unit's return and
for every office URL), CSRF refusal, login lockout, the upload page's verdicts (the same as the
front door's), limits and hostile files, and the production settings."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.paths import Paths
from pipelines.validate import validate_paths
from tests.console_fixtures import PASSWORD, corrected_form1, defective_form1, zip_bomb

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def console(tmp_path_factory, sample_warehouse):
    """Django set up once on a copy of the sample warehouse's data root, with an account per
    role. (Settings are read once per process: this module owns the process's Django.)"""
    home = tmp_path_factory.mktemp("console_views")
    shutil.copytree(sample_warehouse.paths.data, home / "data")
    saved = {
        k: os.environ.get(k)
        for k in ("JIBAO_HOME", "DJANGO_SETTINGS_MODULE", "JIBAO_ALLOWED_HOSTS")
    }
    os.environ["JIBAO_HOME"] = str(home)
    os.environ["JIBAO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "pipelines.console.settings"
    try:
        from pipelines.console.server import setup_django

        setup_django()
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    from django.conf import settings

    from pipelines.console.accounts.users import add_user

    assert settings.PATHS.root == home.resolve()
    add_user("changtai", "submitter", PASSWORD, unit="常泰街道")
    add_user("jiangnan", "submitter", PASSWORD, unit="江南街道")
    add_user("office", "office", PASSWORD)
    add_user("leader", "leader", PASSWORD)
    return Paths(home.resolve())


def client_for(username: str | None, **kw):
    from django.test import Client

    from pipelines.console.accounts.models import User

    c = Client(**kw)
    if username:
        c.force_login(User.objects.get(username=username))
    return c


def a_submission(console: Paths, unit: str, quarter: str = "2025Q3") -> int:
    import duckdb

    with duckdb.connect(str(console.warehouse), read_only=True) as con:
        return con.execute(
            "select min(submission_id) from submissions where submitter = ? and quarter = ?",
            [unit, quarter],
        ).fetchall()[0][0]


def office_urls() -> list[str]:
    """Every URL of the office's namespace, with sample arguments."""
    from django.urls import get_resolver, reverse

    samples = {"quarter": "2025Q3", "name": "汇总表_2025Q3.xlsx", "key": "0" * 32}
    samples |= {"unit": "江南街道", "form": "form1"}
    resolver = get_resolver()
    board = resolver.namespace_dict["board"][1]
    urls = []
    for pattern in board.url_patterns:
        names = list(pattern.pattern.converters)
        urls.append(reverse(f"board:{pattern.name}", kwargs={n: samples[n] for n in names}))
    return urls


def wait_for_verdicts(client, ids: list[str], deadline_s: float = 60) -> list[dict]:
    out = []
    end = time.monotonic() + deadline_s
    for upload_id in ids:
        while True:
            state = client.get(f"/submit/uploads/{upload_id}/status/").json()
            if state["state"] != "pending":
                out.append(state)
                break
            assert time.monotonic() < end, "no verdict before the deadline"
            time.sleep(0.1)
    return out


def upload(client, *paths: Path):
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(open(p, "rb")) for p in paths]
        response = client.post("/submit/upload/", {"files": files})
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    ids = location.split("shown=")[1].split(",") if "shown=" in location else []
    return response, ids


def record(console: Paths, upload_id: str):
    from pipelines.console.uploads import records

    return records.load(console, upload_id)


# ---------------------------------------------------------------- who may see what


def test_submitter_gets_403_for_another_units_return_and_its_files(console):
    c = client_for("changtai")
    assert c.get("/returns/2025Q3/江南街道/form1/").status_code == 403
    assert c.get(f"/returns/versions/{a_submission(console, '江南街道')}/").status_code == 403
    own = c.get("/returns/2025Q3/常泰街道/form1/")
    assert own.status_code == 200
    assert "常泰街道" in own.content.decode() and "江南街道" not in own.content.decode()
    mine = c.get(f"/returns/versions/{a_submission(console, '常泰街道')}/")
    assert mine.status_code == 200
    assert b"".join(mine.streaming_content)[:2] in (b"PK", b"\xd0\xcf")  # the workbook itself


def test_submitter_gets_403_for_every_office_url(console):
    c = client_for("changtai")
    urls = office_urls()
    assert len(urls) >= 5
    for url in urls:
        assert c.get(url).status_code == 403, url
        assert c.post(url).status_code in (403, 405), url
    admin = c.get("/admin/")
    assert admin.status_code == 302 and "/admin/login/" in admin["Location"]


def test_leader_sees_the_reports_and_nothing_else(console):
    c = client_for("leader")
    assert c.get("/").headers["Location"] == "/reports/"
    assert c.get("/reports/").status_code == 200
    for url in ["/submit/", "/returns/2025Q3/江南街道/form1/", *office_urls()]:
        assert c.get(url).status_code == 403, url


def test_pages_ask_for_a_login_first(console):
    c = client_for(None)
    for url in ["/", "/submit/", "/office/", "/reports/", "/returns/2025Q3/江南街道/form1/"]:
        response = c.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_office_board_shows_every_unit_and_the_rates(console):
    c = client_for("office")
    page = c.get("/office/2025Q3/").content.decode()
    for unit in ("常泰街道", "江南街道", "区卫健局"):
        assert unit in page
    assert "报送率" in page and "%" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert (
        "办公室操作记录" not in title and page.count('id="journal"') == 1
    )  # shown once, in the page
    streets = c.get("/office/2025Q3/", {"type": "街道"}).content.decode()
    assert "常泰街道" in streets and "区卫健局" not in streets


# ---------------------------------------------------------------- CSRF, cookies, lockout


def test_post_without_csrf_token_is_refused_and_takes_nothing(console, tmp_path):
    c = client_for("changtai", enforce_csrf_checks=True)
    before = sorted(console.archive.iterdir())
    path = corrected_form1(tmp_path / "表一.xlsx")
    with open(path, "rb") as fh:
        response = c.post("/submit/upload/", {"files": [fh]})
    assert response.status_code == 403
    assert "请求被拒绝" in response.content.decode()
    assert sorted(console.archive.iterdir()) == before
    assert (
        client_for("office", enforce_csrf_checks=True).post("/office/2025Q3/refresh/").status_code
        == 403
    )


def test_cookies_are_httponly_and_samesite(console):
    from django.test import Client

    response = Client().get("/login/")
    csrf = response.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Strict"
    login = Client().post("/login/", {"username": "office", "password": PASSWORD})
    session = login.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"


def test_repeated_failed_logins_lock_the_account_out(console):
    from django.test import Client

    from pipelines.console.accounts.users import add_user
    from pipelines.console.conf import console_config

    add_user("lockme", "submitter", PASSWORD, unit="浮桥街道")
    c = Client()
    for _ in range(int(console_config()["lockout"]["failures"])):
        assert c.post(
            "/login/", {"username": "lockme", "password": "wrong-password"}
        ).status_code in (200, 429)
    locked = c.post("/login/", {"username": "lockme", "password": PASSWORD})
    assert locked.status_code == 429
    assert "已暂时锁定" in locked.content.decode()
    assert "_auth_user_id" not in c.session
    ok = Client().post("/login/", {"username": "office", "password": PASSWORD})
    assert ok.status_code == 302  # another account is not affected


# ---------------------------------------------------------------- uploads


def test_upload_answers_with_the_front_doors_verdict_and_receives_the_file(console, tmp_path):
    bad = defective_form1(tmp_path / "常泰_表一.xlsx")
    good = corrected_form1(tmp_path / "常泰_表一_更正.xlsx")
    c = client_for("changtai")
    page, ids = upload(c, bad, good)
    assert len(ids) == 2
    states = wait_for_verdicts(c, ids)
    assert [s["status"] for s in states] == ["退回", "通过"]

    expected = validate_paths([bad])[0]
    got = record(console, ids[0])
    assert [(i.cell, i.message) for i in got.returns[0].issues] == [
        (i.cell, i.message) for i in expected.issues
    ]
    assert any(i.cell == "K7" and i.value == "950" for i in got.returns[0].issues)
    fragment = c.get(f"/submit/uploads/{ids[0]}/").content.decode()
    assert "K7" in fragment and "950" in fragment and expected.issues[0].message in fragment

    from pipelines.warehouse.receipts import read_receipts

    receipts = {r.receipt_id: r for r in read_receipts(console, got.quarter)}
    for upload_id in ids:
        rec = record(console, upload_id)
        receipt = receipts[rec.receipt_id]
        assert (receipt.channel, receipt.by, receipt.sha256) == ("upload", "changtai", rec.sha256)
        assert receipt.received_at.isoformat() == rec.received_at
        assert (console.raw / receipt.drop_path).is_file()
        assert (console.archive / f"{rec.sha256}.xlsx").is_file()
    assert got.quarter == expected.quarter == "2026Q3"


def test_hostile_and_broken_files_get_the_same_verdict_as_validate(console, tmp_path):
    files = [
        zip_bomb(tmp_path / "炸弹.xlsx"),
        tmp_path / "空文件.xlsx",
        tmp_path / "伪装.xlsx",
        tmp_path / "..%2F..%2Fetc%2F‮xslx.exe",
    ]
    files[1].write_bytes(b"")
    files[2].write_text("<html><script>alert(1)</script></html>", encoding="utf-8")
    files[3].write_bytes(b"MZ\x90\x00 not a workbook")
    c = client_for("changtai")
    _, ids = upload(c, *files)
    wait_for_verdicts(c, ids)
    for path, upload_id in zip(files, ids, strict=True):
        rec = record(console, upload_id)
        expected = validate_paths([path])
        assert [(r.status, [i.message for i in r.issues]) for r in rec.returns] == [
            (r.status, [i.message for i in r.issues]) for r in expected
        ], path.name
        assert "/" not in rec.name and "\u202e" not in rec.name
    assert c.get("/submit/").status_code == 200  # the server is still answering


def test_a_file_of_another_unit_is_kept_but_not_received_as_ours(console, tmp_path):
    theirs = corrected_form1(tmp_path / "江南_表一.xlsx", unit="江南街道")
    c = client_for("changtai")
    _, ids = upload(c, theirs)
    wait_for_verdicts(c, ids)
    rec = record(console, ids[0])
    assert not rec.received and "江南街道" in rec.note
    assert (console.archive / f"{rec.sha256}.xlsx").is_file()
    from pipelines.warehouse.receipts import read_receipts

    assert rec.sha256 not in {r.sha256 for r in read_receipts(console)}


def test_upload_limits_come_from_configuration(console, tmp_path, monkeypatch):
    from pipelines import config

    conf_dir = tmp_path / "config"
    shutil.copytree(
        config.DEFAULT_DIR, conf_dir, ignore=shutil.ignore_patterns("__pycache__", "*.py")
    )
    text = (conf_dir / "console.yaml").read_text(encoding="utf-8")
    text = text.replace("max_file_mb: 20", "max_file_mb: 0.01").replace(
        "max_files: 20", "max_files: 2"
    )
    (conf_dir / "console.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("JIBAO_CONFIG_DIR", str(conf_dir))
    big = tmp_path / "大文件.xlsx"
    big.write_bytes(os.urandom(64 * 1024))
    c = client_for("changtai")
    response, ids = upload(c, big)
    assert ids == []
    page = c.get(response["Location"]).content.decode()
    assert "超过 0.01 MB" in page
    small = [corrected_form1(tmp_path / f"{n}.xlsx") for n in range(3)]
    response, ids = upload(c, *small)
    assert ids == []
    assert "一次最多上传 2 个文件" in c.get(response["Location"]).content.decode()


# ---------------------------------------------------------------- reports


def test_report_is_served_with_a_policy_that_allows_only_its_own_scripts(console):
    from pipelines.console.leaders.views import script_hashes
    from pipelines.outputs.report import report_path

    path = report_path(console.reports, "2025Q3")
    path.parent.mkdir(parents=True, exist_ok=True)
    html = "<html><body><h1>进展报告</h1><script>document.title='x'</script></body></html>"
    path.write_text(html, encoding="utf-8")
    response = client_for("leader").get("/reports/2025Q3/")
    assert response.status_code == 200 and response.content == html.encode()
    policy = response["Content-Security-Policy"]
    (digest,) = script_hashes(html.encode())
    assert (
        f"script-src {digest}" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    )
    assert "connect-src 'none'" in policy
    assert client_for("changtai").get("/reports/2025Q3/").status_code == 403


# ---------------------------------------------------------------- settings and commands


def _env(home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return env | {"JIBAO_HOME": str(home)} | extra


def test_check_deploy_passes_with_the_production_settings(tmp_path):
    env = _env(tmp_path, JIBAO_HTTPS="1", JIBAO_ALLOWED_HOSTS="jibao.example.internal")
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.console.manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
    key = tmp_path / "data" / "console" / "secret_key"
    assert key.stat().st_mode & 0o077 == 0 and len(key.read_text()) >= 50


def test_users_add_reads_the_password_from_stdin_and_checks_the_unit(tmp_path):
    def jibao(*args, stdin=""):
        return subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *args], input=stdin, env=_env(tmp_path),
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    ok = jibao(
        "users", "add", "ct", "--role", "submitter", "--unit", "常泰街道", stdin=PASSWORD + "\n"
    )
    assert ok.returncode == 0 and "常泰街道" in ok.stdout, ok.stderr
    unknown = jibao(
        "users", "add", "x", "--role", "submitter", "--unit", "火星街道", stdin=PASSWORD
    )
    assert unknown.returncode == 2 and "名录中没有「火星街道」" in unknown.stderr
    listed = jibao("users", "list")
    assert "ct：报送单位（常泰街道）" in listed.stdout


def test_a_weak_password_is_refused_in_chinese(console):
    from pipelines.console.accounts.users import AccountError, add_user

    with pytest.raises(AccountError, match="密码太短"):
        add_user("weak", "leader", "abc")
    with pytest.raises(AccountError, match="只有报送单位账户属于某个单位"):
        add_user("odd", "leader", PASSWORD, unit="常泰街道")


def test_serve_says_so_in_chinese_when_the_port_is_taken(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "serve", "--port", str(port)],
            env=_env(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 69
    assert f"端口 {port} 已被其他程序占用" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- the office's decisions


def test_decisions_are_journaled_with_the_logged_in_user_as_actor(console):
    from pipelines.office import journal

    c = client_for("office")
    closed = c.post("/office/2025Q1/close/", {"reason": "审核完毕"}, follow=True)
    assert "已记录审核锁定（office" in closed.content.decode()
    assert "由 office 审核锁定" in closed.content.decode()
    again = c.post("/office/2025Q1/close/", follow=True).content.decode()
    assert "审核锁定未记录" in again  # already closed: the library says why, in Chinese
    reopened = c.post("/office/2025Q1/reopen/", {"reason": "补录一份迟报"}, follow=True)
    assert "已记录重新开放（office" in reopened.content.decode()
    actions = [(a.action, a.actor, a.reason) for a in journal.read_actions(console, "2025Q1")]
    assert actions == [("close", "office", "审核完毕"), ("reopen", "office", "补录一份迟报")]
    page = c.get("/office/2025Q1/").content.decode()
    assert "补录一份迟报" in page and "审核完毕" in page


def test_a_decision_the_rules_forbid_is_refused_with_the_reason(console):
    from pipelines.office import journal

    before = journal.read_actions(console)
    c = client_for("office")
    page = c.post(
        "/office/2025Q3/常泰街道/form1/accept/",
        {"target": "rule:form1.ent_total_sum", "reason": "说明"},
        follow=True,
    ).content.decode()
    assert "强制上报未记录" in page
    assert journal.read_actions(console) == before


def test_demo_accounts_are_created_and_their_logins_printed(console, tmp_path):
    import re
    import sqlite3

    from django.contrib.auth.hashers import check_password

    from pipelines.console.demo import create_demo_accounts

    lines = create_demo_accounts(Paths(tmp_path))
    assert "jibao serve" in lines[0]
    found = dict(re.findall(r"用户名 (\S+)　密码 (\S+)", "\n".join(lines)))
    assert set(found) == {"office", "changtai", "jiangnan", "leader"}
    db = tmp_path / "data" / "console" / "console.sqlite3"
    with contextlib.closing(sqlite3.connect(db)) as con:
        rows = dict(con.execute("select username, password from accounts_user").fetchall())
        roles = dict(con.execute("select username, unit from accounts_user").fetchall())
    assert all(check_password(found[u], rows[u]) for u in found)
    assert roles["changtai"] == "常泰街道"


def test_the_admin_is_in_simplified_chinese_for_the_office_and_closed_to_others(console):
    page = client_for("office").get("/admin/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "站点管理" in text and "Site administration" not in text
    users = client_for("office").get("/admin/accounts/user/")
    assert users.status_code == 200 and "changtai" in users.content.decode()
    for who in ("changtai", "leader"):
        assert client_for(who).get("/admin/accounts/user/").status_code == 302, who


def test_a_submitter_downloads_its_letter_and_annotated_copy_and_not_another_units(console):
    import datetime as dt
    import io

    import openpyxl

    from pipelines.outputs.sending import send_quarter_letters

    # The sample's 常泰街道 and 江南街道 each have a rejected 2025Q3 return: letters and copies.
    send_quarter_letters(console, "2025Q3", by="测试员", today=dt.date(2025, 10, 20))
    mine = next(console.outbox_dir("2025Q3", "常泰街道").glob("*_问题标注.xlsx")).name
    theirs = next(console.outbox_dir("2025Q3", "江南街道").glob("*_问题标注.xlsx")).name
    c = client_for("changtai")
    page = c.get("/submit/").content.decode()
    assert mine in page and "通知_2025Q3.html" in page and theirs not in page
    got = c.get(f"/submit/letters/2025Q3/{mine}")
    assert got.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(got.streaming_content)))
    assert "问题清单" in workbook.sheetnames
    letter = c.get("/submit/letters/2025Q3/通知_2025Q3.html")
    assert "常泰街道" in b"".join(letter.streaming_content).decode("utf-8")
    assert c.get(f"/submit/letters/2025Q3/{theirs}").status_code == 404


def test_users_add_on_a_terminal_asks_for_the_password_twice_without_echo(tmp_path):
    import pty
    import select

    def on_terminal(*args: str) -> tuple[int, str]:
        """Run `jibao ARGS` on a pseudo-terminal, answering each password prompt."""
        pid, fd = pty.fork()
        if pid == 0:  # the child: its terminal is the pty
            os.chdir(ROOT)
            os.execve(
                sys.executable, [sys.executable, "-m", "pipelines.cli", *args], _env(tmp_path)
            )
        out, answered, end = b"", 0, time.monotonic() + 120
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            prompts = out.count("密码：".encode())
            if prompts > answered:
                os.write(fd, answers[answered].encode() + b"\n")
                answered += 1
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")

    answers = [PASSWORD, PASSWORD]
    code, text = on_terminal("users", "add", "lingdao", "--role", "leader")
    assert code == 0, text
    assert "设置密码" in text and "再次输入密码" in text and PASSWORD not in text  # no echo
    answers = [PASSWORD, PASSWORD + "x"]
    code, text = on_terminal("users", "add", "other", "--role", "leader")
    assert code != 0 and "两次输入的密码不一致，账户未创建" in text
    listed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "users", "list"], env=_env(tmp_path), cwd=ROOT,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "lingdao" in listed.stdout and "other" not in listed.stdout


def test_refresh_now_queues_one_run_for_the_daemon_with_the_clerk_as_source(
    console, tmp_path, monkeypatch
):
    """「立即更新数据」 asks the run queue (the daemon launches it: tests/test_daemon.py); without
    a Dagster instance the page says when the data will be updated instead."""
    import dagster as dg

    from pipelines.runqueue import SOURCE_TAG

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    page = client_for("office").post("/office/2025Q3/refresh/", follow=True)
    assert "将在下次定时或手动运行时更新数据" in page.content.decode()

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    page = client_for("office").post("/office/2025Q3/refresh/", follow=True)
    assert page.status_code == 200 and "已请求更新数据" in page.content.decode()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
    assert run.status.value == "QUEUED" and run.job_name == "quarterly_job"
    assert run.tags[SOURCE_TAG] == "console:office"
    assert run.tags["dagster/asset_partition_range_start"] == "2025Q3"
