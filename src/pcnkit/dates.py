"""Parsing the date spellings found in NHS files, and contract-year arithmetic.

NHS files write dates as 20191001, 01/04/1999, 01JAN2021, 01May2022 or 2019-10-01; every parser
here is strict so that a malformed date is reported, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re

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
