"""Hostile and odd things at the front door: paths that are not files, links out of the drop
folder, escapes in cells, names that nearly match — each gets a verdict or a Chinese warning at
once, and nothing a submitter typed acts on a terminal."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pipelines.paths import Paths
from pipelines.validate import validate_paths
from pipelines.warehouse.archive import scan_drop_folder
from tests.front_fixtures import poison
from tests.returns import FORM1_STREET, write_return

Q = "2025Q3"


def street_row(**over):
    return {("street", k): v for k, v in (FORM1_STREET | over).items()}


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,  # a hang fails the test instead of blocking the suite
    )


@pytest.fixture
def odd_paths(tmp_path: Path) -> dict[str, Path]:
    """A FIFO, a socket, a folder and an Apple Numbers package named like workbooks."""
    d = tmp_path / "收件"
    d.mkdir()
    os.mkfifo(d / "管道.xlsx")
    folder = d / "季报.xlsx"
    folder.mkdir()
    write_return(folder / "inside.xlsx", "form1", "常泰街道", street_row())
    package = d / "季报.numbers"
    (package / "Index").mkdir(parents=True)
    (package / "Index" / "Document.iwa").write_bytes(b"\x00" * 16)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(d / "套接字.xls"))
    yield {
        "fifo": d / "管道.xlsx",
        "folder": folder,
        "package": package,
        "socket": d / "套接字.xls",
        "dir": d,
    }
    sock.close()


def test_validate_refuses_fifos_devices_sockets_and_folders_named_like_workbooks_at_once(
    odd_paths,
):
    proc = _cli("validate", str(odd_paths["dir"]), "/dev/zero", "--format", "json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    got = {Path(d["file"]).name: d for d in json.loads(proc.stdout)}
    assert set(got) == {"管道.xlsx", "季报.xlsx", "季报.numbers", "套接字.xls", "zero"}
    for d in got.values():
        assert d["status"] == "unreadable" and [i["rule"] for i in d["issues"]] == ["not_a_file"]
    messages = {name: d["issues"][0]["message"] for name, d in got.items()}
    assert "命名管道" in messages["管道.xlsx"]
    assert "设备文件" in messages["zero"]
    assert "套接字" in messages["套接字.xls"]
    assert "是一个文件夹" in messages["季报.xlsx"]  # not searched: inside.xlsx is not a return
    assert "Apple Numbers" in messages["季报.numbers"]


def test_refused_paths_are_never_hashed_nor_sent_to_a_worker(odd_paths):
    results = validate_paths([odd_paths["fifo"], odd_paths["socket"], Path("/dev/zero")])
    assert [(r.issues[0].rule, r.sha256) for r in results] == [("not_a_file", None)] * 3


def test_the_drop_folder_scan_does_not_follow_links_out_of_it(tmp_path):
    paths = Paths(tmp_path)
    folder = paths.raw_quarter(Q)
    folder.mkdir(parents=True)
    real = write_return(folder / "常泰街道.xlsx", "form1", "常泰街道", street_row())
    (folder / "passwd.xlsx").symlink_to("/etc/passwd")
    (folder / "etc").symlink_to("/etc", target_is_directory=True)
    (folder / "重复.xlsx").symlink_to(real)  # inside the drop folder: the same content
    (folder / "断链.xlsx").symlink_to(folder / "不存在.xlsx")
    os.mkfifo(folder / "管道.xlsx")
    warnings: list[str] = []
    received = scan_drop_folder(paths, Q, warn=warnings.append)
    assert [r.path.name for r in received] == ["常泰街道.xlsx"]
    assert [p.name for p in received[0].duplicates] == ["重复.xlsx"]
    archived = list(paths.archive.iterdir())
    assert archived == [received[0].archive_path]
    assert Path("/etc/passwd").read_bytes() != archived[0].read_bytes()
    text = "\n".join(warnings)
    assert f"{Q}/passwd.xlsx：是指向报送文件夹以外位置的链接，未归档、未读取" in text
    assert f"{Q}/etc：是指向其他位置的文件夹链接" in text
    assert f"{Q}/断链.xlsx：是失效的链接" in text
    assert f"{Q}/管道.xlsx：不是普通文件（命名管道），未归档、未读取" in text


ESCAPES = "\x1b[2J\x1b]0;owned\x07\u202e"


def test_text_output_shows_escapes_from_cells_and_names_visibly(tmp_path):
    path = write_return(
        tmp_path / f"报表{ESCAPES}.xlsx",
        "form1",
        "常泰街道",
        street_row(mgmt_body="CELLMARK"),
        submitter_text="长泰街道UNITMARK",
    )
    wb = openpyxl.load_workbook(path)
    wb.active.title = "表一\u202e"
    wb.save(path)
    poison(path, "CELLMARK", "十二" + ESCAPES + "家" * 80)
    poison(path, "UNITMARK", ESCAPES)
    proc = _cli("validate", str(path), "--quarter", Q)
    assert proc.returncode == 1, proc.stderr
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in proc.stdout
    assert "\\x1b[2J" in proc.stdout and "<U+202E>" in proc.stdout


def test_a_message_quotes_a_cut_of_a_long_value_and_the_issue_keeps_it_whole(tmp_path):
    typed = "十二" + ESCAPES + "家" * 80
    path = write_return(tmp_path / "a.xlsx", "form1", "常泰街道", street_row(mgmt_body="MARK"))
    poison(path, "MARK", typed)
    [r] = validate_paths([path], quarter=Q)
    issue = next(i for i in r.issues if i.cell == "F7")
    assert issue.rule == "not_a_number" and issue.value == typed
    quoted = issue.message.split("现为「", 1)[1].split("」", 1)[0]
    assert len(quoted) == 40 and quoted.endswith("…") and "\\x1b" in quoted


# ---------------------------------------------------------------- nothing disappears


@pytest.mark.parametrize(
    ("typed", "asked"),
    [("长泰街道", "是否为常泰街道？"), ("金龍街道办事处", "是否为金龙街道？"), ("某某公司", None)],
)
def test_an_unknown_unit_is_asked_about_the_nearest_registered_names_never_guessed(
    tmp_path, typed, asked
):
    path = write_return(tmp_path / "a.xlsx", "form3", "常泰街道", submitter_text=typed)
    [r] = validate_paths([path], quarter=Q)
    assert (r.submitter, r.status) == (None, "rejected")
    [issue] = [i for i in r.issues if i.rule == "submitter_unknown"]
    assert f"填报单位「{typed}」不在报送单位名录中" in issue.message
    if asked:
        assert asked in issue.message
    else:
        assert "是否为" not in issue.message


@pytest.fixture
def odd_raw(tmp_path: Path) -> Paths:
    """data/raw/ with a lower-case quarter folder and entries that name no configured quarter."""
    paths = Paths(tmp_path)
    for name in ("2026q1", "2025Q9", "2024Q4", "扫描件"):
        (paths.raw / name).mkdir(parents=True)
    write_return(
        paths.raw / "2026q1" / "常泰.xlsx", "form1", "常泰街道", street_row(), campaign=2026
    )
    write_return(paths.raw / "2025Q9" / "迷路.xlsx", "form1", "常泰街道", street_row())
    (paths.raw / "散落.xlsx").write_bytes(b"x")
    (paths.raw / "manifest.json").write_text("{}")  # the sample's manifest: not a stray
    return paths


def test_quarter_folders_are_matched_case_insensitively_and_strays_are_warned(odd_raw):
    assert [p.name for p in odd_raw.quarter_folders()] == ["2026q1"]
    assert [r.path.name for r in scan_drop_folder(odd_raw, "2026Q1")] == ["常泰.xlsx"]
    warnings = odd_raw.drop_folder_warnings()
    assert len(warnings) == 4, warnings
    text = "\n".join(warnings)
    assert "文件夹名「2025Q9」不是有效的季度" in text
    assert "文件夹「2024Q4」的季度不在日历配置中" in text
    assert "文件夹「扫描件」不是季度文件夹" in text
    assert "文件「散落.xlsx」直接放在 data/raw/ 下，未处理" in text
    [r] = validate_paths(odd_raw.quarter_folders())
    assert (r.quarter, r.status) == ("2026Q1", "accepted")


def test_the_sensor_runs_a_lower_case_quarter_folder_under_its_quarter_and_warns(odd_raw):
    import dagster as dg

    from pipelines.automation import drop_folder_sensor
    from pipelines.resources import JibaoPaths

    ctx = dg.build_sensor_context(resources={"jibao": JibaoPaths(home=str(odd_raw.root))})
    request = drop_folder_sensor(ctx)  # one run for every changed quarter
    assert isinstance(request, dg.RunRequest)
    assert request.tags["jibao/quarters"] == "2026Q1"
    assert request.tags["dagster/asset_partition_range_start"] == "2026Q1"
    assert "2026q1/常泰.xlsx" in json.loads(ctx.cursor)["2026Q1"]
