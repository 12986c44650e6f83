"""The one receipt: a file received by a channel is archived, placed in its quarter's drop folder
and recorded once; the ledger takes its received time, channel, sender and Message-ID."""

import datetime as dt

import duckdb

from pipelines import warehouse
from pipelines.paths import Paths
from pipelines.periods import Quarter, collecting_quarter
from pipelines.validate import validate_paths
from pipelines.warehouse.receipts import read_receipts, receive_bytes
from tests.returns import write_return


def test_a_receipt_sets_received_time_channel_and_sender_in_the_ledger(tmp_path):
    paths = Paths(tmp_path / "home")
    src = write_return(tmp_path / "表一.xlsx", "form1", "常泰街道")
    data = src.read_bytes()
    when = dt.datetime(2025, 9, 30, 17, 5, 12)
    first = receive_bytes(
        paths, "常泰街道\u202e表一.xlsx", data, channel="mail", received_at=when,
        quarter="2025Q3", by="ctjd@example.org", message_id="<a1@example.org>",
    )  # fmt: skip
    again = receive_bytes(
        paths, "常泰街道\u202e表一.xlsx", data, channel="mail", received_at=when,
        quarter="2025Q3", by="ctjd@example.org", message_id="<a1@example.org>",
    )  # fmt: skip
    assert again == first and len(read_receipts(paths)) == 1
    assert "\u202e" not in first.name
    assert (paths.raw / first.drop_path).read_bytes() == data
    assert (paths.archive / f"{first.sha256}.xlsx").exists()

    warehouse.refresh(paths, ["2025Q3"], validate_paths)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    row = con.execute(
        "select received_at, received_at_source, channel, received_by, message_id, on_time, status "
        "from submissions"
    ).fetchall()
    assert row == [(when, "mail", "mail", "ctjd@example.org", "<a1@example.org>", True, "accepted")]


def test_a_file_without_a_quarter_goes_to_the_collection_window_it_arrived_in():
    assert collecting_quarter(dt.date(2025, 10, 8)) == Quarter(2025, 3)
    assert collecting_quarter(dt.date(2025, 12, 28)) == Quarter(2025, 4)  # an early sender
    assert collecting_quarter(dt.date(2025, 12, 1)) == Quarter(2025, 3)
