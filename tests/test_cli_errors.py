"""No traceback reaches the office: every way a command can go wrong ends in a Chinese message
on stderr and a documented exit code (pipelines/failures.py), in a real subprocess."""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.config import DEFAULT_DIR
from pipelines.failures import EXIT_BUSY, EXIT_CONFIG, EXIT_IO, EXIT_USAGE
from pipelines.paths import Paths

ENGLISH = ("Traceback", "usage:", "options:", "error:", "show this help", "Error:")


def jibao(
    home: Path, *args: str, env: dict | None = None, preexec=None, timeout: int = 600
) -> subprocess.CompletedProcess:
    full = {**os.environ, "JIBAO_HOME": str(home), **(env or {})}
    for k in ("DAGSTER_HOME", "JIBAO_WAREHOUSE"):
        full.pop(k, None)
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
    )


def assert_chinese_failure(out: subprocess.CompletedProcess, code: int, *words: str) -> None:
    text = out.stdout + out.stderr
    assert out.returncode == code, text
    assert not [w for w in ENGLISH if w in text], text
    assert out.stderr.strip() and any("\u4e00" <= ch <= "\u9fff" for ch in out.stderr)
    for w in words:
        assert w in out.stderr, out.stderr


@pytest.fixture(scope="module")
def a_return(tmp_path_factory) -> Path:
    from tests.returns import FORM1_STREET, write_return

    folder = tmp_path_factory.mktemp("one_return")
    return write_return(folder / "临江街道表一.xlsx", "form1", "临江街道", FORM1_STREET)


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


# ---------------------------------------------------------------- usage


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--quarter", "2027Q1"],
        ["validate", "--quarter", "2027Q1", "."],
        ["run", "--quarter", "第三季度"],
    ],
)
def test_an_unconfigured_or_malformed_quarter_is_a_usage_error(tmp_path: Path, args):
    out = jibao(tmp_path, *args)
    assert_chinese_failure(out, EXIT_USAGE, "用法：jibao", "季度")


def test_an_unknown_command_option_or_submitter_is_a_usage_error_in_chinese(tmp_path: Path):
    assert_chinese_failure(jibao(tmp_path, "runn"), EXIT_USAGE, "无效的选项值")
    assert_chinese_failure(jibao(tmp_path, "run", "--fast"), EXIT_USAGE, "无法识别的参数")
    assert_chinese_failure(jibao(tmp_path, "templates"), EXIT_USAGE, "缺少必需的参数：--out")
    out = jibao(tmp_path, "templates", "--out", str(tmp_path / "t"), "--submitter", "火星街道")
    assert_chinese_failure(out, EXIT_USAGE, "火星街道")
    out = jibao(tmp_path, "templates", "--out", str(tmp_path / "t"), "--campaign", "2031")
    assert_chinese_failure(out, EXIT_USAGE, "2031")


def test_every_help_text_is_chinese_argparses_own_words_included(capsys):
    import argparse

    sub = next(a for a in cli._parser()._actions if isinstance(a, argparse._SubParsersAction))
    commands = list(sub.choices)  # the packages' commands (accept, serve, mail …) too
    assert {"validate", "templates", "sample", "run", "demo", "sql"} <= set(commands)
    for argv in [[], *([c] for c in commands)]:
        assert cli.main([*argv, "--help"]) == 0
        text = capsys.readouterr().out
        assert text.startswith("用法：jibao") and "显示本帮助并退出" in text, text
        assert not [w for w in ENGLISH if w in text], text
        assert "退出码" in text  # the epilog documents the exit codes


def test_templates_default_to_the_campaign_of_the_current_date(tmp_path: Path):
    from pipelines import periods

    assert cli.current_campaign(dt.date(2025, 12, 31)) == 2025
    assert cli.current_campaign(dt.date(2026, 1, 1)) == 2026
    assert cli.current_campaign(dt.date(2020, 5, 1)) == min(periods.campaigns())
    out = jibao(tmp_path, "templates", "--out", str(tmp_path / "t"))
    assert out.returncode == 0, out.stderr
    year = cli.current_campaign()
    names = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert names and all(n.startswith(f"季报表_{year}_") for n in names)


# ---------------------------------------------------------------- quarters with nothing yet


def test_a_configured_quarter_with_no_files_runs_cleanly_and_writes_its_outputs(tmp_path: Path):
    out = jibao(tmp_path, "run", "--quarter", "2026Q2")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    reports = Paths(tmp_path).report_dir("2026Q2")
    assert (reports / "进展报告_2026Q2.html").stat().st_size > 0
    assert (reports / "汇总表_2026Q2.xlsx").stat().st_size > 0


def test_a_run_with_no_quarter_folders_says_so(tmp_path: Path):
    assert_chinese_failure(jibao(tmp_path, "run"), 1, "没有季度文件夹")


# ---------------------------------------------------------------- busy


HOLD_DUCKDB = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])  # read-write: DuckDB takes an exclusive file lock
    con.execute("create table if not exists t as select 1 as x")
    print("held", flush=True)
    time.sleep(600)
    """
)


def test_a_warehouse_file_held_by_another_program_is_a_busy_exit(tmp_path: Path):
    db = Paths(tmp_path).warehouse
    db.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_DUCKDB, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        out = jibao(tmp_path, "sql", "select 1")
        assert_chinese_failure(out, EXIT_BUSY, "被另一个程序占用")
    finally:
        holder.kill()
        holder.wait()


# ---------------------------------------------------------------- configuration


def test_a_malformed_configuration_file_names_the_file_and_line(
    tmp_path: Path, config_copy: Path, a_return: Path
):
    calendar = config_copy / "calendar.yaml"
    calendar.write_text(calendar.read_text(encoding="utf-8") + "\nquarters: [2025Q1\n")
    env = {"JIBAO_CONFIG_DIR": str(config_copy)}
    for args in (["validate", str(a_return)], ["run", "--quarter", "2025Q3"], ["demo"]):
        out = jibao(tmp_path, *args, env=env)
        assert_chinese_failure(out, EXIT_CONFIG, "calendar.yaml", "格式有误", "行")


def test_a_missing_configuration_key_or_file_is_named(
    tmp_path: Path, config_copy: Path, a_return: Path
):
    env = {"JIBAO_CONFIG_DIR": str(config_copy)}
    calendar = config_copy / "calendar.yaml"
    text = calendar.read_text(encoding="utf-8")
    calendar.write_text(text.replace("\nquarters:", "\nquarters_renamed:"), encoding="utf-8")
    out = jibao(tmp_path, "validate", "--quarter", "2025Q3", str(a_return), env=env)
    assert_chinese_failure(out, EXIT_CONFIG, "calendar.yaml", "缺少配置项「quarters」")

    calendar.write_text(text, encoding="utf-8")
    (config_copy / "rules.yaml").unlink()
    out = jibao(tmp_path, "validate", str(a_return), env=env)
    assert_chinese_failure(out, EXIT_CONFIG, "找不到配置文件", "rules.yaml")


# ---------------------------------------------------------------- full disk


def _small_disk(limit: int):
    """In the child: files may grow to `limit` bytes (RLIMIT_FSIZE); SIGXFSZ ignored, so a write
    past it fails with EFBIG as a full disk fails with ENOSPC."""

    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


@pytest.mark.parametrize("command", ["templates", "sample"])
def test_a_full_disk_while_writing_files_is_reported_and_leaves_no_temporary_file(
    tmp_path: Path, command: str
):
    out_dir = tmp_path / "out"
    out = jibao(tmp_path, command, "--out", str(out_dir), preexec=_small_disk(20_000))
    assert_chinese_failure(out, EXIT_IO, "磁盘空间不足")
    if command == "templates":  # written through fsio: nothing torn, nothing left behind
        assert not [p for p in out_dir.rglob("*") if p.name.startswith(".~jibao-")]


def test_a_full_disk_during_a_run_leaves_the_published_warehouse_as_it_was(
    tmp_path: Path, a_return: Path
):
    folder = Paths(tmp_path).raw_quarter("2025Q3")
    folder.mkdir(parents=True)
    shutil.copy(a_return, folder)
    out = jibao(tmp_path, "run", "--quarter", "2025Q3", preexec=_small_disk(150_000))
    assert_chinese_failure(out, EXIT_IO, "磁盘空间不足")
    assert not Paths(tmp_path).warehouse.exists()  # never published half-built


# ---------------------------------------------------------------- sidecars


@pytest.mark.parametrize("sidecar", ["received.csv", "explanations.csv"])
def test_a_sidecar_with_a_huge_field_is_set_aside_with_a_chinese_warning(
    tmp_path: Path, sidecar: str
):
    folder = Paths(tmp_path).raw_quarter("2026Q2")
    folder.mkdir(parents=True)
    header = "file,received_at" if sidecar == "received.csv" else "submitter,form,cell_or_rule,text"
    huge = '"' + "很长" * 100_000 + '"'
    row = f"{huge},2026-07-01" if sidecar == "received.csv" else f"临江街道,表一,K7,{huge}"
    (folder / sidecar).write_text(f"{header}\n{row}\n", encoding="utf-8")
    out = jibao(tmp_path, "run", "--quarter", "2026Q2")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert (
        sidecar in out.stderr and "第 2 行无法读取" in out.stderr and "本文件未采用" in out.stderr
    )
    assert (folder / sidecar).exists()  # kept as received
