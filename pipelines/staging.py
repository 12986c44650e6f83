"""Hand-over files between pipeline steps: data/staging/<quarter>/*.json (and .parquet).

Dagster assets here cover a range of quarters in one run, so they pass state through files they
own rather than IO managers; JSON keeps each step's output readable when something goes wrong.
A quarter's values (a province sends millions) go beside it as one Parquet file
(`returns.values.parquet`, frames.VALUES_SCHEMA: `result` indexes returns.json) — written and
read as columns in one call each, and still readable (`duckdb`, `polars`) when something does.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pipelines.fsio import atomic_path, atomic_write_text
from pipelines.model import Issue, ReturnResult, Value
from pipelines.paths import Paths


def staging_dir(paths: Paths, quarter: object) -> Path:
    return paths.data / "staging" / str(quarter)


def _write_json(path: Path, payload: Any) -> None:
    atomic_write_text(path, json.dumps(payload, ensure_ascii=False, default=str))


def save_results(paths: Paths, quarter: object, results: list[ReturnResult]) -> Path:
    """returns.json (the results without their values) and returns.values.parquet."""
    from pipelines.warehouse.frames import values_frame

    folder = staging_dir(paths, quarter)
    frame = values_frame(results)
    with atomic_path(folder / "returns.values.parquet") as tmp:
        frame.write_parquet(tmp, compression="lz4", statistics=False)
    records = [dataclasses.asdict(dataclasses.replace(r, values=[])) for r in results]
    _write_json(folder / "returns.json", records)
    return folder / "returns.json"


def load_values(paths: Paths, quarter: object):
    """The values saved by save_results, as one frame (frames.VALUES_SCHEMA); None when the
    quarter was staged without a values file (its values are then inside returns.json)."""
    import polars as pl

    path = staging_dir(paths, quarter) / "returns.values.parquet"
    return pl.read_parquet(path) if path.exists() else None


def save(paths: Paths, quarter: object, name: str, records: list) -> Path:
    path = staging_dir(paths, quarter) / f"{name}.json"
    _write_json(path, [dataclasses.asdict(r) for r in records])
    return path


def _load_raw(paths: Paths, quarter: object, name: str) -> list[dict]:
    path = staging_dir(paths, quarter) / f"{name}.json"
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))


def load_results(paths: Paths, quarter: object) -> list[ReturnResult]:
    out = []
    for d in _load_raw(paths, quarter, "returns"):
        d["issues"] = [Issue(**i) for i in d["issues"]]
        d["values"] = [Value(**v) for v in d["values"]]
        out.append(ReturnResult(**d))
    return out


def load_received(paths: Paths, quarter: object) -> list:
    """ReceivedFile records saved by the raw_files step."""
    import datetime as dt

    from pipelines.warehouse.archive import ReceivedFile

    out = []
    for d in _load_raw(paths, quarter, "received"):
        out.append(
            ReceivedFile(
                sha256=d["sha256"],
                path=Path(d["path"]),
                original_name=d["original_name"],
                archive_path=Path(d["archive_path"]),
                received_at=dt.datetime.fromisoformat(d["received_at"]),
                received_at_source=d["received_at_source"],
                duplicates=tuple(Path(p) for p in d.get("duplicates", ())),
                channel=d.get("channel", "folder"),
                received_by=d.get("received_by"),
                message_id=d.get("message_id"),
            )
        )
    return out
