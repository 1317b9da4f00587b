"""Time, in one place: parsing the date spellings found in NHS files, calendar-month and
contract-year arithmetic, and :class:`Period` — the one convention for "valid on a date" and
"overlaps a period", with its SQL twins (:func:`valid_on`, :func:`overlapping`).

NHS files write dates as 20191001, 01/04/1999, 01JAN2021, 01May2022 or 2019-10-01; every parser
here is strict so that a malformed date is reported, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, true

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_PATTERNS = [
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), lambda m: (m[1], m[2], m[3])),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), lambda m: (m[1], m[2], m[3])),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), lambda m: (m[3], m[2], m[1])),
]
_DMY_TEXT = re.compile(r"^(\d{1,2})([A-Za-z]{3})(\d{4})$")


def parse_date(text: object) -> dt.date | None:
    """Parse one NHS date cell; blank gives None, anything unrecognised raises ValueError."""
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    if isinstance(text, bool):
        raise ValueError(f"'{text}' is not a date")
    if isinstance(text, float):
        if not text.is_integer():  # 20191001.7 is damage, not 1 October 2019
            raise ValueError(f"'{text}' is not a date: a date has no fraction")
        text = int(text)
    if isinstance(text, int):
        text = str(text)
    s = str(text).strip()
    if not s:
        return None
    try:
        for pattern, parts in _PATTERNS:
            m = pattern.match(s)
            if m:
                y, mo, d = (int(p) for p in parts(m))
                return dt.date(y, mo, d)
        m = _DMY_TEXT.match(s)
        if m and m[2].upper() in _MONTHS:
            return dt.date(int(m[3]), _MONTHS[m[2].upper()], int(m[1]))
    except ValueError as exc:
        raise ValueError(f"'{s}' is not a real date ({exc})") from exc
    raise ValueError(f"'{s}' is not a date in any NHS format (YYYYMMDD, DD/MM/YYYY, 01JAN2021)")


def parse_iso(text: str) -> dt.date:
    """Parse a user-supplied YYYY-MM-DD date (CLI options, definition files)."""
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a date; write it as YYYY-MM-DD") from exc


def financial_year_start(label: str) -> dt.date:
    """'2019/20', '2019-20', '19-20' or '1920' → 1 April 2019."""
    m = re.fullmatch(r"(?:20)?(\d{2})[/-]?(?:20)?(\d{2})", label.strip())
    if not m or (int(m[1]) + 1) % 100 != int(m[2]):
        raise ValueError(f"'{label}' is not a financial year; write it as 2019/20")
    return dt.date(2000 + int(m[1]), 4, 1)


def date_in_name(name: str) -> dt.date | None:
    """A YYYY-MM or YYYY-MM-DD stamp in a file name (first of the month when no day is given)."""
    m = re.search(r"(20\d{2})-(\d{2})(?:-(\d{2}))?(?!\d)", name)
    if not m:
        return None
    return dt.date(int(m[1]), int(m[2]), int(m[3] or 1))


def day_before(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=1)


def day_after(d: dt.date) -> dt.date:
    return d + dt.timedelta(days=1)


# --- months ----------------------------------------------------------------------------------
# Every calendar-month calculation in pcnkit is one of these; a month is named by its first day.


def month_index(day: dt.date) -> int:
    """Months since year 0: consecutive months differ by one (12 * year + month - 1)."""
    return day.year * 12 + day.month - 1


def month_from_index(index: int) -> dt.date:
    """The first day of the month whose :func:`month_index` is `index`."""
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, 1)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    return month_from_index(month_index(day) + 1) - dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole calendar months (negative goes back); a 29th-31st that the target
    month lacks becomes that month's last day (31 March less one month is 29 February 2020)."""
    first = month_from_index(month_index(day) + months)
    return first.replace(day=min(day.day, month_end(first).day))


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of each month from `start`'s month to `end`'s, both included (none when
    `end` is before `start`). `start` is kept as given, so pass a month's first day."""
    out, current = [], start
    while current <= end:
        out.append(current)
        current = month_from_index(month_index(current) + 1)
    return out


def contract_year(start: dt.date) -> Period:
    """The NHS contract (financial) year that begins on `start` (1 April): to 31 March."""
    return Period(start, dt.date(start.year + 1, 3, 31))


def contract_year_start(day: dt.date) -> dt.date:
    """The 1 April that begins the contract year containing `day` (2020-01-01: 2019-04-01)."""
    return dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def year_label(start: dt.date) -> str:
    """The contract year beginning in `start`'s year as people write it: '2019/20'."""
    return f"{start.year}/{(start.year + 1) % 100:02d}"


# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A span of days. THE convention, for every dated fact in pcnkit (memberships, roles,
    exceptions, staff in post, contract years): both `start` and `end` are days INCLUDED in
    the period, and None means open — no known start ("since ever") or no end ("still so").
    A period that ends the day before another starts does not overlap it."""

    start: dt.date | None = None
    end: dt.date | None = None

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, other: Period) -> bool:
        return (self.start is None or other.end is None or self.start <= other.end) and (
            self.end is None or other.start is None or other.start <= self.end
        )

    @property
    def first(self) -> dt.date:
        """The start, with an open start as the earliest date (for sorting and comparing)."""
        return self.start or dt.date.min

    @property
    def last(self) -> dt.date:
        """The end, with an open end as the latest date (for sorting and comparing)."""
        return self.end or dt.date.max


# The SQL twins: the same two tests as SQLAlchemy conditions on a table's start and end columns
# (nullable Date columns holding a Period by the convention above).


def valid_on(start: Any, end: Any, day: dt.date) -> ColumnElement[bool]:
    """SQL for ``Period(start, end).contains(day)``."""
    return and_(or_(start.is_(None), start <= day), or_(end.is_(None), end >= day))


def overlapping(start: Any, end: Any, period: Period) -> ColumnElement[bool]:
    """SQL for ``Period(start, end).overlaps(period)``."""
    conditions = []
    if period.end is not None:
        conditions.append(or_(start.is_(None), start <= period.end))
    if period.start is not None:
        conditions.append(or_(end.is_(None), end >= period.start))
    return and_(true(), *conditions)
