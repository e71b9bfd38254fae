"""Numbers, shares, durations and dates as people read them, in French or English.

`Formats(locale)` is what public templates get as `fmt`: `fmt.number(12345)` → "12 345",
`fmt.score(7.25)` → "7,3", `fmt.share(0.5)` → "50 %", `fmt.duration(5400)` → "1 h 30",
`fmt.date(d)` → "23 novembre 2026". Missing values (None) come out as "—" so a table
never shows "None".
"""

from __future__ import annotations

import datetime as dt
from typing import Final
from zoneinfo import ZoneInfo

PARIS: Final = ZoneInfo("Europe/Paris")
MISSING: Final = "—"
NBSP: Final = "\u202f"  # narrow no-break space, the French thousands and unit separator
MONTHS: Final = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
        "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
}  # fmt: skip


class Formats:
    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in MONTHS else "fr"
        self.fr = self.locale == "fr"

    def number(self, value: int | None) -> str:
        if value is None:
            return MISSING
        text = f"{value:,}"
        return text.replace(",", NBSP) if self.fr else text

    def decimal(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return MISSING
        text = f"{value:.{digits}f}"
        return text.replace(".", ",") if self.fr else text

    def score(self, value: float | None) -> str:
        return self.decimal(value, 1)

    def share(self, value: float | None) -> str:
        if value is None:
            return MISSING
        percent = round(value * 100)
        return f"{percent}{NBSP}%" if self.fr else f"{percent}%"

    def duration(self, seconds: float | None) -> str:
        """Minutes under an hour, hours and minutes under two days, then days and hours.

        Minutes come from the hours rounded to two decimals, the figure open data publishes
        (`median_ack_hours`), so that 30.49 h reads "30 h 29 min" here, never "30 h 30"."""
        if seconds is None:
            return MISSING
        minutes = round(round(seconds / 3600, 2) * 60)
        if minutes < 60:
            return f"{minutes}{NBSP}min"
        hours, minutes = divmod(minutes, 60)
        if hours < 48:
            return f"{hours}{NBSP}h{NBSP}{minutes}{NBSP}min" if minutes else f"{hours}{NBSP}h"
        days, hours = divmod(hours, 24)
        unit = "j" if self.fr else "d"
        return f"{days}{NBSP}{unit}{NBSP}{hours}{NBSP}h" if hours else f"{days}{NBSP}{unit}"

    def date(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return MISSING
        if isinstance(value, dt.datetime):
            value = value.astimezone(PARIS).date()
        month = MONTHS[self.locale][value.month - 1]
        if self.fr:
            day = "1er" if value.day == 1 else str(value.day)
            return f"{day} {month} {value.year}"
        return f"{month} {value.day}, {value.year}"

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return MISSING
        local = value.astimezone(PARIS)
        joiner = " à " if self.fr else " at "
        return f"{self.date(local.date())}{joiner}{local:%H:%M}"

    def month(self, value: dt.date) -> str:
        name = MONTHS[self.locale][value.month - 1]
        return f"{name} {value.year}"
