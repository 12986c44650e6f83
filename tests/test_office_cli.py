"""`jibao accept | send-back | close | reopen | decisions`: exit codes and Chinese messages, driven
through pipelines.cli.main (the entry point's function) on a real warehouse, and once through the
installed `jibao` command."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.forms.layout import layout
from pipelines.office import decisions, journal
from pipelines.paths import Paths
from pipelines.validate import validate_paths
from pipelines.warehouse import refresh
from tests.returns import FORM1_STREET, write_return

Q = "2025Q3"
D8 = layout("form3").a1("street", "hazards_urged_fixed")
B7 = layout("form1").a1("street", "ent_small")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """常泰街道 表三 with 督促整改 > 发现 (explainable) and 表一 with a blank (not explainable)."""
    paths = Paths(tmp_path_factory.mktemp("office_cli") / "home")
    folder = paths.raw_quarter(Q)
    folder.mkdir(parents=True)
    found = {("street", "hazards_inspect_found"): 5, ("street", "hazards_urged_fixed"): 7}
    write_return(folder / "常泰_表三.xlsx", "form3", "常泰街道", found)
    values = {("street", k): v for k, v in (FORM1_STREET | {"ent_small": None}).items()}
    write_return(folder / "常泰_表一.xlsx", "form1", "常泰街道", values)
    refresh(paths, [Q], validate_paths)
    return paths


@pytest.fixture
def home(built: Paths, tmp_path: Path, monkeypatch) -> Paths:
    import shutil

    shutil.copytree(built.root, tmp_path / "home")
    monkeypatch.setenv("JIBAO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JIBAO_WAREHOUSE", raising=False)
    return Paths(tmp_path / "home")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_accept_records_with_who_and_says_how_to_see_it(home, capsys):
    code, out, err = run(capsys, "accept", "常泰街道办事处", "表三", Q, "--cell", D8,
                         "--reason", "含以往发现的隐患", "--by", "黄文祥")  # fmt: skip
    assert (code, err) == (0, "")
    assert f"已记录：强制上报 常泰街道 表三 {Q} {D8}：含以往发现的隐患（黄文祥" in out
    assert f"运行 jibao run --quarter {Q} 后生效" in out
    # --by defaults to the login user
    code, out, _ = run(capsys, "close", Q)
    assert code == 0 and f"（{getpass.getuser()}，" in out
    assert [a.actor for a in journal.read_actions(home)] == ["黄文祥", getpass.getuser()]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (("accept", "常泰街道", "表一", Q, "--cell", B7, "--reason", "无"), 1,
         "不能以情况说明强制上报（单元格规则 blank）"),
        (("accept", "常泰街道", "表三", Q, "--rule", "form3.urged_le_found", "--reason", " "), 1,
         "请填写情况说明"),
        (("accept", "长泰街道", "表三", Q, "--cell", D8, "--reason", "x"), 2,
         "报送单位「长泰街道」不在报送单位名录中，是否为：常泰街道"),
        (("accept", "常泰街道", "表五", Q, "--cell", D8, "--reason", "x"), 2, "表「表五」无法识别"),
        (("accept", "常泰街道", "表三", "2025Q9", "--cell", D8, "--reason", "x"), 2,
         "季度格式应为 YYYYQn"),
        (("accept", "常泰街道", "表三", Q, "--cell", "D", "--reason", "x"), 2,
         "单元格「D」格式不正确"),
        (("accept", "常泰街道", "表三", Q, "--cell", "Z9", "--reason", "x"), 2,
         "Z9 没有需要说明的问题"),
        (("accept", "常泰街道", "表三", Q, "--rule", "no_such_rule", "--reason", "x"), 2,
         "规则「no_such_rule」不存在"),
        (("send-back", "常泰街道", "表一", Q, "--reason", "x"), 1, "没有已采用的正式版本"),
        (("reopen", Q, "--reason", "x"), 1, "未审核锁定，无需重新开放"),
        (("decisions", "--quarter", "2031Q1"), 2, "不在报送日历中"),
    ],
)  # fmt: skip
def test_refusals_exit_with_a_chinese_reason(home, capsys, argv, code, message):
    got, out, err = run(capsys, *argv)
    assert got == code, (out, err)
    assert message in err and "Traceback" not in err
    assert journal.read_actions(home) == []


def test_close_reopen_and_the_list(home, capsys):
    assert run(capsys, "close", Q, "--by", "黄文祥", "--reason", "审核完毕")[0] == 0
    code, _, err = run(capsys, "close", Q, "--by", "黄文祥")
    assert code == 1 and "已于" in err and "审核锁定" in err
    code, _, err = run(capsys, "accept", "常泰街道", "表三", Q, "--cell", D8, "--reason", "x")
    assert code == 1 and "请先重新开放该季度" in err
    assert run(capsys, "reopen", Q, "--by", "李明", "--reason", "补录更正")[0] == 0
    code, out, _ = run(capsys, "decisions", "--quarter", Q)
    assert code == 0
    assert out.splitlines()[0] == f"{Q}：未锁定"
    assert "审核锁定 2025Q3：审核完毕（黄文祥" in out and "重新开放 2025Q3：补录更正（李明" in out


def test_a_missing_reason_is_a_usage_error(home, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["send-back", "常泰街道", "表三", Q])
    assert raised.value.code == 2
    assert "--reason" in capsys.readouterr().err


def test_a_decision_requests_a_run_when_a_queue_is_configured(home, capsys, monkeypatch):
    """The run queue is the OPS helper's module (pipelines.runqueue); the decision asks it for the
    quarter and every later one in the drop folder."""
    (home.raw / "2025Q4").mkdir()
    asked = []
    queue = types.ModuleType("pipelines.runqueue")
    queue.request_run = lambda quarters, *, source, paths=None: (
        asked.append((quarters, source)) or "run-1"
    )
    monkeypatch.setitem(sys.modules, "pipelines.runqueue", queue)
    code, out, _ = run(capsys, "close", Q, "--by", "黄文祥")
    assert code == 0 and f"已提交 {Q} 的运行请求（run-1）" in out
    assert asked == [(["2025Q3", "2025Q4"], "office")]
    assert decisions.is_locked(home, Q)  # recorded first, whatever the queue says


def test_the_installed_command(home):
    env = os.environ | {"JIBAO_HOME": str(home.root)}
    done = subprocess.run(
        ["uv", "run", "--no-sync", "jibao", "accept", "常泰街道", "表三", Q, "--cell", D8,
         "--reason", "含以往发现的隐患", "--by", "黄文祥"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "已记录：强制上报" in done.stdout
    done = subprocess.run(
        ["uv", "run", "--no-sync", "jibao", "accept", "常泰街道", "表一", Q, "--cell", B7,
         "--reason", "无"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1 and "为空白" in done.stderr and "Traceback" not in done.stderr
