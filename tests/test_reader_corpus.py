"""Every real-world file of the shared corpus ends in a verdict, in bounded time and memory."""

from __future__ import annotations

import fnmatch
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.reader import Unreadable, WorkbookGrid, read_many
from tests.corpus import CORPUS, present

pytestmark = pytest.mark.skipif(
    not present("poi"),
    reason=f"shared corpus not found at {CORPUS} (it lives beside the work tree, in shared/corpus)",
)

# glob of corpus file name -> acceptable verdicts ("grid:<format>" or an Unreadable code)
EXPECTED: dict[str, set[str]] = {
    "poc-xmlbomb*.xlsx": {"xml_entities", "zip_bomb"},
    "xxe_in_schema.xlsx": {"xml_entities", "zip_bomb"},
    "54764*.xlsx": {"zip_bomb", "xml_entities"},
    "poc-shared-strings.xlsx": {"zip_bomb", "xml_entities"},
    "password.xls": {"encrypted"},
    "xor-encryption-abc.xls": {"encrypted"},
    "protected_passtika.xlsx": {"encrypted"},
    "protected_passtika.xlsb": {"encrypted"},
    "xlsx-corrupted.xlsx": {"corrupt", "not_spreadsheet"},
    "SimpleMacro.xlsm": {"grid:xlsm"},
    "xlmmacro.xlsm": {"grid:xlsm"},
    "SimpleMacro.xls": {"grid:xls"},
    "58616.xlsx": {"grid:xlsx"},  # encrypted with Excel's default password: opens without prompt
    "50833.xls": {"grid:xls"},  # same, BIFF8 RC4 with the default password
    "SampleSS.ods": {"grid:ods"},
    "sample.xlsb": {"grid:xlsb"},
    "Simple.xlsb": {"unsupported"},  # an xlsb calamine cannot parse: said to be xlsb, not "corrupt"
    "testEXCEL_3.xls": {"grid:xls"},  # bare BIFF3 stream, read by xlrd
    # a fuzzed OOXML package that is in fact a Word document
    "clusterfuzz-testcase-minimized-POIFuzzer-5040805309710336.xlsx": {"not_spreadsheet"},
}
MACRO_NOTE = "工作簿含宏（已忽略，未执行）"


def _verdict(result: WorkbookGrid | Unreadable) -> str:
    return f"grid:{result.format}" if isinstance(result, WorkbookGrid) else result.code


@pytest.fixture(scope="module")
def corpus_results() -> dict[Path, WorkbookGrid | Unreadable]:
    paths = sorted(p for p in CORPUS.glob("*/*") if p.is_file() and p.name != "README.md")
    assert len(paths) >= 787, f"corpus incomplete: {len(paths)} files"
    start = time.perf_counter()
    results = dict(read_many(paths))
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts: dict[str, int] = {}
    for r in results.values():
        counts[_verdict(r)] = counts.get(_verdict(r), 0) + 1
    print(
        f"\ncorpus: {len(paths)} files in {elapsed:.1f} s; peak RSS of the test process "
        f"{peak_mb:.0f} MB; verdicts {dict(sorted(counts.items()))}"
    )
    assert list(results) == paths  # one verdict per file
    assert peak_mb < 1024, f"test process peaked at {peak_mb:.0f} MB"
    return results


def test_every_file_gets_a_verdict(corpus_results: dict[Path, WorkbookGrid | Unreadable]) -> None:
    for path, result in corpus_results.items():
        assert isinstance(result, WorkbookGrid | Unreadable), path
        if isinstance(result, Unreadable):
            assert result.code in {
                "not_spreadsheet",
                "encrypted",
                "zip_bomb",
                "xml_entities",
                "too_large",
                "too_many_cells",
                "corrupt",
                "unsupported",
                "timeout",
                "crashed",
                "empty",
            }, path
            assert result.message and not result.message.isascii(), path
        else:
            assert result.format in {"xlsx", "xlsm", "xls", "et", "xlsb", "ods"}, path
            for sheet in result.sheets:
                assert len(sheet.cells) <= 5000, path
                assert all(len(row) <= 300 for row in sheet.cells), path
                width = len(sheet.cells[0]) if sheet.cells else 0
                assert all(len(row) == width for row in sheet.cells), path


@pytest.mark.parametrize("pattern", sorted(EXPECTED))
def test_known_files(corpus_results: dict[Path, WorkbookGrid | Unreadable], pattern: str) -> None:
    matched = {p: r for p, r in corpus_results.items() if fnmatch.fnmatch(p.name, pattern)}
    assert matched, pattern
    for path, result in matched.items():
        assert _verdict(result) in EXPECTED[pattern], (path.name, result)


def test_macros_noted_not_run(corpus_results: dict[Path, WorkbookGrid | Unreadable]) -> None:
    simple = corpus_results[CORPUS / "poi" / "SimpleMacro.xlsm"]
    assert isinstance(simple, WorkbookGrid) and MACRO_NOTE in simple.notes
    assert simple.sheets[0].cells[0][0] == "This is a macro workbook"
    xlm = corpus_results[CORPUS / "poi" / "xlmmacro.xlsm"]
    assert isinstance(xlm, WorkbookGrid) and any("宏" in n for n in xlm.notes)


def test_wps_files(corpus_results: dict[Path, WorkbookGrid | Unreadable]) -> None:
    wps = {p: r for p, r in corpus_results.items() if p.parent.name == "wps"}
    assert len(wps) == 9
    for path, result in wps.items():
        expected = {".et": "et", ".xls": "xls", ".xlsx": "xlsx"}[path.suffix]
        assert isinstance(result, WorkbookGrid) and result.format == expected, path.name
    write = {p.suffix: r for p, r in wps.items() if p.stem == "write"}
    grids = [r.sheets[0].cells for r in write.values() if isinstance(r, WorkbookGrid)]
    assert grids[0][0][:3] == [1.0, 2.0, 3.0]
    assert all(g[1][:2] == grids[0][1][:2] for g in grids)  # same content whatever the format


def test_nothing_timed_out_or_crashed(
    corpus_results: dict[Path, WorkbookGrid | Unreadable],
) -> None:
    # engines' own panics are caught in the worker; a dead worker here would be a regression
    bad = {
        p.name: r.code
        for p, r in corpus_results.items()
        if isinstance(r, Unreadable) and r.code in {"timeout", "crashed"}
    }
    assert not bad


# ---------------------------------------------------------------- the front door on the corpus

CONTRACT = {"file", "sheet", "form", "submitter", "quarter", "status", "issues"}


@pytest.fixture(scope="module")
def corpus_cli() -> subprocess.CompletedProcess[str]:
    """`jibao validate --format json` over the whole corpus folder, in a fresh interpreter."""
    code = (
        "import sys; from pipelines.cli import main; rc = main(sys.argv[1:]); "
        "assert 'dagster' not in sys.modules, 'validate imported dagster'; sys.exit(rc)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "validate", "--format", "json", str(CORPUS)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_corpus_through_the_cli_every_file_a_verdict_none_accepted(
    corpus_cli: subprocess.CompletedProcess[str],
) -> None:
    """Hostile and foreign files through the command other tools call: stdout is exactly one
    JSON array (no parser chatter), every file has an entry, nothing is accepted as a return,
    exit code 1, and no traceback even where the Rust readers panic."""
    assert corpus_cli.returncode == 1, corpus_cli.stderr[-2000:]
    assert "Traceback" not in corpus_cli.stderr
    data = json.loads(corpus_cli.stdout)
    files = {str(p) for p in CORPUS.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert {d["file"] for d in data} == files
    assert all(set(d) == CONTRACT for d in data)
    assert [d["file"] for d in data if d["status"] == "accepted"] == []
    for d in data:
        assert d["status"] in {"rejected", "unreadable"} and d["issues"], d
        assert all(i["severity"] in {"error", "warning"} for i in d["issues"])
        assert any(i["severity"] == "error" and not i["message"].isascii() for i in d["issues"])
        if d["status"] == "unreadable":
            assert (d["sheet"], d["form"], d["submitter"]) == (None, None, None)
    unreadable = {Path(d["file"]).name for d in data if d["status"] == "unreadable"}
    assert {"password.xls", "protected_passtika.xlsx", "poc-xmlbomb.xlsx"} <= unreadable
