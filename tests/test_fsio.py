"""Atomic writes: the target is whole or untouched, never torn; temporary names never collide."""

import os
import threading

import pytest

from pipelines.fsio import TMP_PREFIX, atomic_path, atomic_write_bytes, atomic_write_text


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "汇总表_2025Q3.xlsx"
    atomic_write_bytes(target, b"good")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_concurrent_writers_of_one_file_never_share_a_temporary_name(tmp_path):
    target = tmp_path / "进展报告.html"
    errors = []

    def write(n: int) -> None:
        try:
            for _ in range(20):
                atomic_write_text(target, f"writer {n}\n" * 1000)
        except Exception as exc:  # pragma: no cover - the failure this test looks for
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    lines = set(target.read_text().splitlines())
    assert len(lines) == 1 and lines.pop().startswith("writer ")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(TMP_PREFIX)]
