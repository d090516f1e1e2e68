"""Times as Thai voters and officials read them: Thailand's local time (Asia/Bangkok, UTC+7).

Thai: ``05/12/2569 09:31 น.`` — day/month/Buddhist-era year (พ.ศ. = CE + 543), 24-hour clock
and "น." (นาฬิกา). English: ``05/12/2026 09:31 ICT`` — the same local time, CE year, 24 hours.
Stored times stay UTC everywhere (database, board, record); only what a page shows is local.

Thailand has kept UTC+7 without daylight saving since 1920, so a fixed offset is exact and needs
no time-zone database on the server.

Use it in templates as the ``thai_time`` filter (registered by :func:`init_app`):
``{{ receipt.cast_at|thai_time }}``, ``{{ election.closes_at|thai_time(seconds=False) }}``,
or ``{{ dt|thai_date }}`` for the date alone; in Python, :func:`format_local`.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask import Flask

#: Asia/Bangkok: UTC+7, no daylight saving.
BANGKOK = timezone(timedelta(hours=7), "ICT")
#: พ.ศ. (Buddhist era) = CE + 543.
BUDDHIST_ERA_OFFSET = 543


def to_local(value: datetime | str) -> datetime:
    """``value`` (an aware datetime, a naive one taken as UTC, or an ISO 8601 text such as the
    board's ``cast_at``) in Thailand's local time."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(BANGKOK)


def format_date(value: datetime | date | str, locale: str) -> str:
    """dd/mm/yyyy, with the Buddhist-era year in Thai."""
    day = value if isinstance(value, date) and not isinstance(value, datetime) else to_local(value).date()
    year = day.year + (BUDDHIST_ERA_OFFSET if locale == "th" else 0)
    return f"{day.day:02d}/{day.month:02d}/{year}"


def format_local(value: datetime | str, locale: str, seconds: bool = False) -> str:
    """The date and 24-hour time in Thailand: Thai ``dd/mm/พ.ศ. HH:MM น.``, otherwise
    ``dd/mm/yyyy HH:MM ICT`` (``seconds=True`` adds :SS)."""
    local = to_local(value)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    suffix = "น." if locale == "th" else "ICT"
    return f"{format_date(local, locale)} {clock} {suffix}"


def init_app(app: Flask) -> None:
    """Register the ``thai_time`` and ``thai_date`` template filters (in the page's language)."""
    from flask_babel import get_locale

    def thai_time(value: datetime | str | None, seconds: bool = False) -> str:
        return "" if value is None or value == "" else format_local(value, str(get_locale()), seconds)

    def thai_date(value: datetime | date | str | None) -> str:
        return "" if value is None or value == "" else format_date(value, str(get_locale()))

    app.add_template_filter(thai_time, "thai_time")
    app.add_template_filter(thai_date, "thai_date")
