"""The office's clock is Asia/Shanghai whatever zone the server machine is set to."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import zoneinfo

import pytest

from pipelines import clock

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("machine_zone", ["UTC", "America/New_York"])
def test_receipt_times_are_office_time_on_a_machine_set_to_another_zone(machine_zone, tmp_path):
    probe = tmp_path / "f"
    probe.write_text("x")
    os.utime(probe, (1_767_225_600, 1_767_225_600))  # 2026-01-01 00:00 UTC = 08:00 in 泉州
    code = (
        "from pipelines import clock; import pathlib;"
        f"print(clock.now().isoformat()); print(clock.from_timestamp(pathlib.Path({str(probe)!r}).stat().st_mtime).isoformat())"
    )
    env = {**os.environ, "TZ": machine_zone}
    env.pop("JIBAO_TODAY", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    office_now = dt.datetime.now(SHANGHAI).replace(tzinfo=None)
    assert abs((dt.datetime.fromisoformat(out[0]) - office_now).total_seconds()) < 60
    assert out[1] == "2026-01-01T08:00:00"


def test_an_aware_internaldate_becomes_office_wall_clock_time():
    when = dt.datetime(2026, 3, 31, 16, 30, tzinfo=dt.UTC)
    assert clock.office_time(when) == dt.datetime(2026, 4, 1, 0, 30)


def test_jibao_today_stands_in_for_the_date(monkeypatch):
    monkeypatch.setenv("JIBAO_TODAY", "2026-04-20")
    assert clock.today() == dt.date(2026, 4, 20)
    monkeypatch.setenv("JIBAO_TODAY", "2026/04/20")
    with pytest.raises(clock.BadToday, match="YYYY-MM-DD"):
        clock.today()
