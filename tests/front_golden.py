"""The front door's output on the whole sample and the whole corpus, as a comparable snapshot.

A rewrite of the front door for speed must give the same verdicts and the same JSON: the
snapshot holds every result's `jibao validate` contract and everything else a result carries
(values as a digest), with file names relative to the folder validated. The recorded snapshot
(tests/data/front_door_golden.json) was taken from the front door before the read-once rewrite
(issue 12 point 3); a deliberate change of behaviour re-records it:

    uv run python -m tests.front_golden --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

from pipelines.model import ReturnResult

GOLDEN = Path(__file__).resolve().parent / "data" / "front_door_golden.json"
# Fields compared besides the contract (sha256 of the sample's files is left out: the sample
# writer stamps the time it writes into the files).
EXTRA = ("campaign", "submitter_text", "filled_by", "phone", "header_date", "file_format")


def snapshot(results: list[ReturnResult], root: Path, *, with_sha: bool) -> list[dict]:
    out = []
    for r in results:
        row = r.contract()
        row["file"] = Path(r.file).relative_to(root).as_posix()
        row["issues"] = [
            {**i.contract(), "row_key": i.row_key, "column_id": i.column_id, "value": i.value}
            for i in r.issues
        ]
        for name in EXTRA:
            row[name] = getattr(r, name)
        if with_sha:
            row["sha256"] = r.sha256
        values = sorted(
            (v.row_key, v.column_id, v.value, v.cell) for v in r.values
        )  # values by cell: order-independent
        row["values"] = len(values)
        row["values_sha"] = hashlib.sha256(
            json.dumps(values, ensure_ascii=False).encode()
        ).hexdigest()[:16]
        out.append(row)
    return out


def sample_snapshot(folder: Path) -> list[dict]:
    from pipelines.sample import write_sample
    from pipelines.validate import validate_paths

    write_sample(folder)
    return snapshot(validate_paths([folder]), folder, with_sha=False)


def corpus_snapshot(corpus: Path) -> list[dict]:
    from pipelines.validate import validate_paths

    return snapshot(validate_paths([corpus]), corpus, with_sha=True)


def _dumps(got: dict[str, list[dict]]) -> str:
    """One result per line, so a change shows as a readable diff."""
    parts = []
    for key, rows in got.items():
        body = ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows)
        parts.append(f"{json.dumps(key)}: [\n{body}\n]")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    from tests.corpus import CORPUS

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--write", action="store_true", help="record the snapshot")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jibao-golden-") as tmp:
        got = {"sample": sample_snapshot(Path(tmp) / "raw"), "corpus": corpus_snapshot(CORPUS)}
    if a.write:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(_dumps(got), encoding="utf-8")
        print(f"{GOLDEN}: {len(got['sample'])} sample and {len(got['corpus'])} corpus results")
        return 0
    same = got == json.loads(GOLDEN.read_text(encoding="utf-8"))
    print("same as recorded" if same else "DIFFERENT from recorded")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
