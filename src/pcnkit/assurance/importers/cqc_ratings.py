"""CQC's latest overall rating of each GP practice, as the Health Equity Evidence Centre (HEEC)
re-published it (one row per CQC location: practice code, year of the rating, rating, inherited).

The ratings are those in force when CQC's ratings file was taken (April 2024, per the data
README), whatever year each was given in; so every rating is stored on one day, 1 April 2024,
and the year it was given is kept as its own measure (`rating_year`). Rules for rows that are
not one practice's one rating, each reported as a finding, never dropped silently:
- a location with no practice code (`NA`) cannot be attributed to a practice: not stored;
- a branch site (practice code plus three digits, B87016001) is another CQC location of the
  practice; the practice's own row is its rating, so branch rows are not stored;
- a practice with two rows: the later year wins; rows of the same year with the same rating
  collapse; rows of the same year with different ratings keep the less favourable one (an
  assurance report must not show a practice as good while a record says otherwise), and the
  finding names both rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pcnkit.assurance.observations import ObservationBatch, ObservationRecord
from pcnkit.dates import Period
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import Row, csv_rows

file_type = "cqc-ratings"
dataset = "cqc-ratings"
description = (
    "CQC latest overall ratings of GP practices (as re-published by the Health Equity "
    "Evidence Centre, April 2024)"
)
publisher = "Care Quality Commission (re-published by the Health Equity Evidence Centre)"
MEASURES: dict[str, str] = {
    "overall_rating": "the practice's latest overall CQC rating (in `label`)",
    "rating_year": "the year the latest overall rating was published",
    "inherited": "1 if the practice inherited the rating from a predecessor provider, else 0",
}
# Best first: the order decides which of two same-year ratings is the less favourable.
RATINGS = ("Outstanding", "Good", "Requires improvement", "Inadequate")
AS_AT = dt.date(2024, 4, 1)
PERIOD = Period(AS_AT, AS_AT)
# CQC began rating GP practices in 2014 (the re-publication's earliest year is 2015).
FIRST_YEAR = 2014
CODE, YEAR, RATING, INHERITED, DOMAIN = (
    "Practice.Code",
    "Year",
    "latest_rating",
    "inherited_rating_y_n",
    "domain",
)
NEEDED = (CODE, YEAR, RATING, INHERITED)
MISSING = {"", "NA"}
PRACTICE = re.compile(r"[A-Z]\d{5}")
BRANCH = re.compile(r"([A-Z]\d{5})\d{3}")
YES, NO = {"Y", "YES", "TRUE", "1"}, {"N", "NO", "FALSE", "0"}


@dataclass
class Rating:
    row: int
    year: int
    rating: str
    inherited: bool | None


def sniff(text: str, header: list[str]) -> bool:
    return {CODE, RATING, INHERITED} <= set(header)


def _need(path: Path, header: list[str], columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in header:
            raise InputError(
                str(path),
                f"has no '{column}' column (its columns are {', '.join(header)})",
                "Use HEEC's CQC ratings file (cqc.csv) unchanged.",
                row=1,
                column=column,
            )


def rating_of(r: Row) -> str:
    """The rating in CQC's own spelling, whatever its case and spacing; else a located error."""
    given = r.required(RATING, "a CQC rating")
    wanted = " ".join(given.split()).casefold()
    for rating in RATINGS:
        if rating.casefold() == wanted:
            return rating
    raise r.error(
        RATING,
        f"'{given}' is not a CQC overall rating; the accepted ratings are "
        + ", ".join(f"'{x}'" for x in RATINGS),
        "Correct the rating.",
    )


def _year(r: Row) -> int:
    given = r.required(YEAR, "the year of the rating")
    if not re.fullmatch(r"\d{4}", given) or not FIRST_YEAR <= int(given) <= AS_AT.year:
        raise r.error(
            YEAR,
            f"'{given}' is not the year of a rating in force on {AS_AT:%d %B %Y} "
            f"({FIRST_YEAR} to {AS_AT.year})",
            "Correct the year.",
        )
    return int(given)


def _inherited(r: Row) -> bool | None:
    given = r.text(INHERITED)
    if given.upper() in MISSING:
        return None
    if given.upper() in YES | NO:
        return given.upper() in YES
    raise r.error(INHERITED, f"'{given}' is not Y or N", "Write Y or N.")


def _rows(first: list[int]) -> str:
    shown = ", ".join(str(n) for n in first[:10])
    return shown + (f" and {len(first) - 10} more" if len(first) > 10 else "")


def parse(path: Path, text: str, sha: str) -> ObservationBatch:
    header, rows = csv_rows(path, text)
    _need(path, header, NEEDED)
    batch = ObservationBatch(str(path), file_type, dataset, description, sha, AS_AT, publisher)
    by_practice: dict[str, list[Rating]] = defaultdict(list)
    no_code: list[int] = []
    branches: dict[str, list[int]] = defaultdict(list)
    other_domain: list[int] = []
    for r in rows:
        batch.rows += 1
        if DOMAIN in header and r.text(DOMAIN).casefold() not in ("", "overall"):
            other_domain.append(r.number)
            continue
        rating = Rating(r.number, _year(r), rating_of(r), _inherited(r))
        code = r.text(CODE).upper()
        if code in MISSING:
            no_code.append(r.number)
            continue
        branch = BRANCH.fullmatch(code)
        if branch:
            branches[branch[1]].append(r.number)
            continue
        if not PRACTICE.fullmatch(code):
            raise r.error(
                CODE,
                f"'{code}' is not a GP practice code (a letter and five digits, e.g. A81001)",
                "Correct the code.",
            )
        by_practice[code].append(rating)
    if not by_practice:
        raise InputError(str(path), "holds no practice ratings", "Check the file.")
    if other_domain:
        batch.findings.append(
            f"{len(other_domain)} rows rate a key question rather than the practice overall "
            f"(domain is not 'Overall'; rows {_rows(other_domain)}): not stored"
        )
    if no_code:
        batch.findings.append(
            f"{len(no_code)} rows give no practice code (Practice.Code NA; rows "
            f"{_rows(no_code)}): CQC locations HEEC could not match to a practice, so their "
            "ratings are not stored"
        )
    if branches:
        alone = sorted(code for code in branches if code not in by_practice)
        batch.findings.append(
            f"{sum(map(len, branches.values()))} rows rate a branch site (practice code plus "
            f"three digits) of {len(branches)} practices (rows "
            f"{_rows(sorted(n for numbers in branches.values() for n in numbers))}): the "
            "practice's own row is its rating, so they are not stored"
            + (
                f"; no rating is stored for {', '.join(alone)}, rated only at branch sites"
                if alone
                else ""
            )
        )
    for code in sorted(by_practice):
        chosen = _choose(code, by_practice[code], batch)
        batch.add(
            ObservationRecord(
                code, "practice", "overall_rating", PERIOD, None, chosen.rating, chosen.row
            )
        )
        batch.add(
            ObservationRecord(
                code, "practice", "rating_year", PERIOD, Decimal(chosen.year), row=chosen.row
            )
        )
        if chosen.inherited is not None:
            batch.add(
                ObservationRecord(
                    code,
                    "practice",
                    "inherited",
                    PERIOD,
                    Decimal(int(chosen.inherited)),
                    row=chosen.row,
                )
            )
    return batch


def _choose(code: str, ratings: list[Rating], batch: ObservationBatch) -> Rating:
    """The practice's one rating by the module's rules; each rule used is a finding."""
    if len(ratings) == 1:
        return ratings[0]
    latest = max(x.year for x in ratings)
    current = [x for x in ratings if x.year == latest]
    older = [x for x in ratings if x.year < latest]
    if older:
        batch.findings.append(
            f"practice {code} has ratings from {', '.join(str(x.year) for x in older)} "
            f"(row {_rows([x.row for x in older])}) and {latest} (row "
            f"{_rows([x.row for x in current])}): the later year's rating is stored"
        )
    distinct = sorted({x.rating for x in current}, key=RATINGS.index)
    worst = max(current, key=lambda x: (RATINGS.index(x.rating), -x.row))
    if len(current) > 1:
        if len(distinct) == 1:
            batch.findings.append(
                f"practice {code} has {len(current)} rows rating it '{distinct[0]}' in {latest} "
                f"(rows {_rows([x.row for x in current])}): stored once"
            )
        else:
            batch.findings.append(
                f"practice {code} has conflicting {latest} ratings: "
                + ", ".join(f"'{x.rating}' (row {x.row})" for x in current)
                + f"; the less favourable, '{worst.rating}' (row {worst.row}), is stored"
            )
    return min(current, key=lambda x: x.row) if len(distinct) == 1 else worst
