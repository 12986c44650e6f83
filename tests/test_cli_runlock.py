"""One run at a time per data root (pipelines.runlock), and the CLI's plug-in hook for packages'
subcommands (pipelines.cli.OPTIONAL_COMMANDS)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.paths import Paths
from pipelines.runlock import EXIT_RUN_IN_PROGRESS, RunInProgress, holder, lock_file, run_lock

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipelines.paths import Paths
    from pipelines.runlock import run_lock
    with run_lock(Paths(Path(sys.argv[1])), what="测试持锁"):
        print("held", flush=True)
        time.sleep(600)
    """
)


def hold_lock(root: Path) -> subprocess.Popen:
    """A process that holds root's run lock until killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_holder_is_refused_at_once_and_told_who_holds_the_lock(tmp_path: Path):
    paths = Paths(tmp_path)
    proc = hold_lock(tmp_path)
    try:
        with pytest.raises(RunInProgress) as info, run_lock(paths):
            pass
        assert str(proc.pid) in str(info.value) and "测试持锁" in str(info.value)
        assert "另一个运行正在进行" in str(info.value)
        assert holder(paths)["pid"] == proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path: Path):
    paths = Paths(tmp_path)
    proc = hold_lock(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with run_lock(paths) as lock:  # no stale lock after SIGKILL
        assert lock == lock_file(paths) and holder(paths)["pid"] == os.getpid()


def test_wait_blocks_until_the_holder_ends(tmp_path: Path):
    paths = Paths(tmp_path)
    proc = hold_lock(tmp_path)
    acquired = threading.Event()

    def waiter():
        with run_lock(paths, wait=True):
            acquired.set()

    t = threading.Thread(target=waiter)
    t.start()
    try:
        assert not acquired.wait(0.5)  # still held by proc
    finally:
        proc.kill()
        proc.wait()
    t.join(timeout=60)
    assert acquired.is_set()


def test_the_lock_is_reentrant_within_one_process(tmp_path: Path):
    """`jibao run` holds it and the in-process Dagster steps take it again."""
    paths = Paths(tmp_path)
    with run_lock(paths), run_lock(paths, wait=True), run_lock(paths):
        assert holder(paths)["pid"] == os.getpid()
    proc = hold_lock(tmp_path)  # released after the outermost block
    proc.kill()
    proc.wait()


def test_jibao_run_while_another_run_holds_the_lock_exits_75_in_chinese(tmp_path: Path):
    proc = hold_lock(tmp_path)
    try:
        env = {**os.environ, "JIBAO_HOME": str(tmp_path)}
        env.pop("DAGSTER_HOME", None)
        for command in (["run"], ["demo"]):
            out = subprocess.run(
                [sys.executable, "-m", "pipelines.cli", *command],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert out.returncode == EXIT_RUN_IN_PROGRESS == 75, out.stderr
            assert "另一个运行正在进行" in out.stderr and "--wait" in out.stderr
            assert "Traceback" not in out.stderr + out.stdout
        assert not (tmp_path / "data" / "raw").exists()  # demo wrote no sample while refused
    finally:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------- plug-in subcommands

PLUGIN = '''
"""A package's subcommands, as pipelines/office/cli.py adds them."""


def add_commands(subparsers):
    p = subparsers.add_parser("hello", help="打个招呼")
    p.add_argument("--name", required=True, help="姓名")
    p.set_defaults(handler=_hello)


def _hello(args):
    print(f"你好，{args.name}")
    return 3
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "jibao_test_plugin.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        cli, "OPTIONAL_COMMANDS", ("jibao_test_plugin", "pipelines.no_such_package.cli")
    )
    return "jibao_test_plugin"


def test_a_package_module_adds_subcommands_that_main_dispatches(plugin, capsys):
    assert cli.main(["hello", "--name", "小王"]) == 3
    assert capsys.readouterr().out.strip() == "你好，小王"


def test_a_missing_package_module_is_skipped_and_a_packages_help_is_chinese(plugin, capsys):
    assert cli.main(["--help"]) == 0
    listing = capsys.readouterr().out
    assert "hello" in listing and "打个招呼" in listing and "no_such_package" not in listing
    assert cli.main(["hello", "--help"]) == 0
    out = capsys.readouterr().out
    assert "用法：jibao hello" in out and "姓名" in out and "显示本帮助并退出" in out
    assert cli.main(["hello"]) == 2
    err = capsys.readouterr().err
    assert "缺少必需的参数：--name" in err and "error" not in err


@pytest.mark.parametrize("module", cli.OPTIONAL_COMMANDS)
def test_packages_command_modules_are_light(module: str):
    """They are imported on every `jibao` call, `validate` included: no Django or Dagster."""
    if importlib.util.find_spec(module.rsplit(".", 1)[0]) is None:
        pytest.skip(f"{module} not on this branch")
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "heavy = [m for m in ('dagster', 'django', 'duckdb', 'polars') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_validate_help_starts_without_dagster():
    code = (
        "import sys; from pipelines.cli import main; rc = main(['validate', '--help']); "
        "assert 'dagster' not in sys.modules; sys.exit(rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "用法：jibao validate" in out.stdout
