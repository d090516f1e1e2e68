"""Thai local time on pages (app/localtime.py): Asia/Bangkok, dd/mm/พ.ศ., "น." / "ICT"."""
from __future__ import annotations

from datetime import datetime, timezone

from app.localtime import format_date, format_local, to_local


def test_utc_to_thai_local_time_with_buddhist_year() -> None:
    utc = datetime(2026, 12, 5, 1, 31, 42, 123456, tzinfo=timezone.utc)
    assert format_local(utc, "th") == "05/12/2569 08:31 น."
    assert format_local(utc, "en") == "05/12/2026 08:31 ICT"
    assert format_local(utc, "th", seconds=True) == "05/12/2569 08:31:42 น."


def test_the_board_iso_text_and_naive_utc() -> None:
    # 20:00 UTC on 31 December is already 1 January in Bangkok (the year changes too).
    assert format_local("2026-12-31T20:00:00.000001Z", "th") == "01/01/2570 03:00 น."
    assert format_local("2026-12-31T20:00:00+00:00", "en") == "01/01/2027 03:00 ICT"
    assert format_local(datetime(2026, 12, 31, 20, 0), "en") == "01/01/2027 03:00 ICT"
    assert to_local("2026-06-01T00:00:00Z").utcoffset().total_seconds() == 7 * 3600  # type: ignore[union-attr]
    assert format_date("2026-06-01T00:00:00Z", "th") == "01/06/2569"
