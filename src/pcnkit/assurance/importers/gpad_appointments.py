"""NHS England "Appointments in General Practice" practice-level crosstab, summed per practice
and month.

Each row counts one practice's appointments in one month for one combination of staff type
(HCP_TYPE), mode (APPT_MODE), national category, booking lead time and status. pcnkit stores
per practice and month: all appointments, attended, did not attend, face-to-face, booked on the
same day and with a GP. The crosstab leaves out empty combinations, so a practice in the file
with no DNA rows had 0 DNAs: every measure is stored for every practice-month present.

Only a 15-row sample of a real monthly file is available here (data README section 6c), so the
importer is tested on it and on larger files the tests write; users with the monthly files
load them as they are. The category values the measures depend on are checked against NHS
England's list (case and spacing aside: the lead-time bands are published as `8  to 14 Days`):
an unknown value would otherwise silently drop appointments from a measure.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from pcnkit.assurance.observations import ObservationBatch, ObservationRecord
from pcnkit.dates import Period, month_end
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import Row, csv_rows
from pcnkit.registry.plausible import Plausible

file_type = "gpad-appointments"
dataset = "gpad-appointments"
description = "Appointments in General Practice: practice-level crosstab (NHS England)"
publisher = "NHS England"
MONTH, PRACTICE, COUNT = "APPOINTMENT_MONTH_START_DATE", "GP_CODE", "COUNT_OF_APPOINTMENTS"
HCP, MODE, LEAD, STATUS = "HCP_TYPE", "APPT_MODE", "TIME_BETWEEN_BOOK_AND_APPT", "APPT_STATUS"
NEEDED = (MONTH, PRACTICE, HCP, MODE, LEAD, COUNT, STATUS)
MEASURES: dict[str, str] = {
    "appointments": "all appointments in the month",
    "appointments_attended": "appointments the patient attended (APPT_STATUS Attended)",
    "appointments_dna": "appointments the patient did not attend (APPT_STATUS DNA)",
    "appointments_face_to_face": "face-to-face appointments (APPT_MODE Face-to-Face)",
    "appointments_same_day": "appointments booked on the day (Same Day lead time)",
    "appointments_gp": "appointments with a GP (HCP_TYPE GP)",
}
# The accepted values of each column a measure depends on ("Unknown..." is accepted in each).
VALUES = {
    STATUS: ("Attended", "DNA", "Unknown"),
    HCP: ("GP", "Other Practice staff", "Unknown"),
    MODE: ("Face-to-Face", "Home Visit", "Telephone", "Video Conference/Online", "Unknown"),
    LEAD: (
        "Same Day",
        "1 Day",
        "2 to 7 Days",
        "8 to 14 Days",
        "15 to 21 Days",
        "22 to 28 Days",
        "More than 28 Days",
        "Unknown / Data Quality",
    ),
}
# measure -> (column, value) it counts; "appointments" counts every row.
COUNTED = {
    "appointments_attended": (STATUS, "Attended"),
    "appointments_dna": (STATUS, "DNA"),
    "appointments_face_to_face": (MODE, "Face-to-Face"),
    "appointments_same_day": (LEAD, "Same Day"),
    "appointments_gp": (HCP, "GP"),
}
APPOINTMENTS = Plausible(
    "a practice's appointments in a month", Decimal(0), Decimal(10_000_000), True, "appointments"
)


def sniff(text: str, header: list[str]) -> bool:
    return {MONTH, PRACTICE, COUNT, STATUS} <= set(header)


def _key(value: str) -> str:
    return " ".join(value.split()).casefold()


ACCEPTED = {column: {_key(v): v for v in values} for column, values in VALUES.items()}


def category(r: Row, column: str) -> str:
    """The column's value in NHS England's spelling; an unknown value is a located error."""
    given = r.required(column, "a category")
    known = ACCEPTED[column].get(_key(given))
    if known is not None:
        return known
    if _key(given).startswith("unknown"):
        return "Unknown"
    raise r.error(
        column,
        f"'{given}' is not one of the {column} values pcnkit knows; the accepted values are "
        + ", ".join(f"'{v}'" for v in VALUES[column]),
        "Check the file is NHS England's practice-level crosstab; if NHS England has added a "
        "category, pcnkit's importer needs it added before these figures can be loaded.",
    )


def _month(r: Row) -> dt.date:
    day = r.date(MONTH)
    if day is None:
        raise r.error(MONTH, "is blank; expected the month's first day", "Fill it in.")
    if day.day != 1:
        raise r.error(
            MONTH,
            f"{day:%d %B %Y} is not the first day of a month",
            "Give the month's first day, e.g. 01AUG2025.",
        )
    return day


def parse(path: Path, text: str, sha: str) -> ObservationBatch:
    header, rows = csv_rows(path, text)
    for column in NEEDED:
        if column not in header:
            raise InputError(
                str(path),
                f"has no '{column}' column (its columns are {', '.join(header)})",
                "Use NHS England's practice-level crosstab CSV unchanged.",
                row=1,
                column=column,
            )
    batch = ObservationBatch(
        str(path), file_type, dataset, description, sha, dt.date.min, publisher
    )
    first: dict[tuple[str, dt.date], int] = {}
    sums: dict[tuple[str, dt.date], dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(MEASURES, Decimal(0))
    )
    months: dict[str, dt.date] = {}
    seen: dict[tuple[str, str], str] = {}
    for r in rows:
        batch.rows += 1
        # a monthly file repeats one month and a few category values on every row
        month = months.get(r.text(MONTH))
        if month is None:
            month = months[r.text(MONTH)] = _month(r)
        key = (r.code(PRACTICE, "a practice code"), month)
        count = r.count(COUNT, APPOINTMENTS)
        if count is None:
            raise r.error(COUNT, "is blank; expected a count of appointments", "Fill it in.")
        values = {}
        for column in VALUES:
            cell = (column, r.text(column))
            if cell not in seen:
                seen[cell] = category(r, column)
            values[column] = seen[cell]
        first.setdefault(key, r.number)
        totals = sums[key]
        totals["appointments"] += count
        for measure, (column, value) in COUNTED.items():
            if values[column] == value:
                totals[measure] += count
    for (code, month), totals in sums.items():
        period, row = Period(month, month_end(month)), first[code, month]
        for measure, value in totals.items():
            batch.add(ObservationRecord(code, "practice", measure, period, value, row=row))
    batch.extract_date = max(month for _, month in sums)
    dates = sorted({month for _, month in sums})
    batch.description = f"{description}, " + (
        f"{dates[0]:%B %Y}" if len(dates) == 1 else f"{dates[0]:%B %Y} to {dates[-1]:%B %Y}"
    )
    return batch
