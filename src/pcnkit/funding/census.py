"""ARRS roles in post: NHS Digital's PCN Workforce census (individual level) read per PCN.

The census says who was actually in post in each PCN on its date (31 March 2020, 30 September
2022, ...), by staff role, with FTE. Set beside the ARRS budget and what NHS England paid, it
shows whether money left unclaimed goes with empty posts. Readings, stated so they can be
checked:

- A row is one staff record. `NWRS Staff` rows carry a staff identifier: people are counted
  once per role and PCN by identifier (one person in two roles counts in each). `NWRS
  contracted services` rows carry the identifier `NULL`: they are contracts, not people (one
  row may be 7.5 FTE), so they count as contracted FTE and never as people.
- FTE is summed over every row as published, the published totals' way: the September 2022
  file's one negative FTE (-0.03, an adjustment) is kept, as `assurance` keeps it.
- The census date is the last day of the census month.
- Roles are matched to ARRS role ids (`ARRS_ROLES`) only where they obviously name the same
  post; `NOT_ARRS` says why each other published role is not matched. A role new to pcnkit is
  kept with no ARRS id and counted in `RolesInPost.unmatched`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pcnkit.assurance.importers.pcn_workforce import FTE
from pcnkit.dates import month_end
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import NO_PCN, Row, csv_rows, read_text

SOURCE = "Primary Care Network Workforce, NHS Digital"
COLUMNS = (
    "Data_source",
    "CENSUS_YEAR",
    "CENSUS_MONTH",
    "PCN_CODE",
    "PCN_NAME",
    "ICB_CODE",
    "ICB_NAME",
    "STAFF_ROLE",
    "DETAILED_STAFF_ROLE",
    "FTE",
    "UNIQUE_IDENTIFIER",
)
STAFF, CONTRACTED = "NWRS Staff", "NWRS contracted services"
NO_PERSON = {"", "NULL"}

# The census's detailed staff roles that name an ARRS role (the rules files' role ids).
ARRS_ROLES: dict[str, str] = {
    "Pharmacist": "clinical_pharmacist",
    "Social Prescribing Link Worker": "social_prescribing_link_worker",
    "Pharmacy Technician": "pharmacy_technician",
    "Care Coordinator": "care_coordinator",
    "Health and Wellbeing Coach": "health_and_wellbeing_coach",
    "Physiotherapist": "first_contact_physiotherapist",
    "Paramedic": "paramedic",
    "Physician Associate": "physician_associate",
    "Dietician": "dietitian",
    "Podiatrist": "podiatrist",
    "Therapist- Occupational Therapist": "occupational_therapist",
    "Nursing Associate": "nursing_associate",
    "Trainee Nursing Associate": "trainee_nursing_associate",
    "Advanced Pharmacist Practitioner": "advanced_practitioner",
    "Advanced Paramedic Practitioner": "advanced_practitioner",
    "Advanced Physiotherapist Practitioner": "advanced_practitioner",
    "Advanced Podiatrist Practitioner": "advanced_practitioner",
    "Advanced Dietician Practitioner": "advanced_practitioner",
    "Advanced Occupational Therapist Practitioner": "advanced_practitioner",
}
# The published roles that are not matched, and why.
NOT_ARRS: dict[str, str] = {
    "Clinical Director – Medical": "paid from the clinical director stream, not ARRS",
    "Clinical Director – DPC": "paid from the clinical director stream, not ARRS",
    "Clinical Director – Nurse": "paid from the clinical director stream, not ARRS",
    "Manager": "not an ARRS role (management is paid from PCN support and leadership)",
    "Senior Manager": "not an ARRS role (management is paid from PCN support and leadership)",
    "Finance Director": "not an ARRS role",
    "Other Director": "not an ARRS role",
    "Other": "an unnamed role: it cannot be matched to one ARRS role",
    "Therapist- Other": "an unnamed therapist: it cannot be matched to one ARRS role",
    "Health Support Worker": (
        "not obviously an ARRS role: pcnkit's rules name a healthcare support worker in one year "
        "only, and whether the census role is the same post is not confirmed"
    ),
}


@dataclass
class RoleCount:
    """One published role in one PCN: people (staff identifiers), contracts and FTE."""

    census_role: str  # DETAILED_STAFF_ROLE as published
    arrs_role: str | None  # the ARRS role id, None when not matched
    people: int = 0  # distinct staff identifiers on staff rows
    contracted: int = 0  # contracted-services rows (not people)
    fte: Decimal = Decimal(0)  # every row, as published
    contracted_fte: Decimal = Decimal(0)


@dataclass
class RolesInPost:
    """A PCN's staff in post on the census date, by role."""

    pcn_code: str
    pcn_name: str
    census_date: dt.date
    icb_code: str
    icb_name: str
    file: str
    first_row: int
    roles: dict[str, RoleCount] = field(default_factory=dict)

    @property
    def arrs_fte(self) -> Decimal:
        """FTE in roles matched to ARRS roles."""
        return sum((r.fte for r in self.roles.values() if r.arrs_role), Decimal(0))

    @property
    def arrs_people(self) -> int:
        return sum(r.people for r in self.roles.values() if r.arrs_role)

    @property
    def arrs_contracted(self) -> int:
        return sum(r.contracted for r in self.roles.values() if r.arrs_role)

    @property
    def unmatched(self) -> list[str]:
        """Published roles of this PCN that pcnkit does not know at all."""
        return sorted(r for r, c in self.roles.items() if not c.arrs_role and r not in NOT_ARRS)

    def by_arrs_role(self) -> dict[str, Decimal]:
        """FTE per ARRS role id."""
        out: dict[str, Decimal] = defaultdict(Decimal)
        for r in self.roles.values():
            if r.arrs_role:
                out[r.arrs_role] += r.fte
        return dict(out)

    def text(self) -> str:
        """For people: "4.20 FTE in ARRS roles (5 people, 1 contract) as at 30 September 2022"."""
        contracts = self.arrs_contracted
        who = f"{self.arrs_people} {'person' if self.arrs_people == 1 else 'people'}"
        if contracts:
            who += f", {contracts} contract{'s' if contracts != 1 else ''}"
        return f"{self.arrs_fte:.2f} FTE in ARRS roles ({who}) as at {self.census_date:%-d %B %Y}"


def _census_date(r: Row) -> dt.date:
    year, month = (
        r.required("CENSUS_YEAR", "a census year"),
        r.required("CENSUS_MONTH", "a census month"),
    )
    if not re.fullmatch(r"20\d\d", year):
        raise r.error("CENSUS_YEAR", f"'{year}' is not a year", "Write the year as four digits.")
    if not re.fullmatch(r"\d{1,2}", month) or not 1 <= int(month) <= 12:
        raise r.error(
            "CENSUS_MONTH", f"'{month}' is not a month number (1-12)", "Correct the month."
        )
    return month_end(dt.date(int(year), int(month), 1))


def read_census(path: Path | str) -> dict[str, RolesInPost]:
    """Each PCN's roles in post from an individual-level PCN Workforce CSV (cp1252 or UTF-8),
    one census date per file. A bad cell is an `InputError` naming the file, row and column;
    rows that name no PCN are skipped, as they belong to no PCN."""
    path = Path(path)
    name = str(path)
    header, rows = csv_rows(path, read_text(path))
    for column in COLUMNS:
        if column not in header:
            raise InputError(
                name,
                f"has no '{column}' column (its columns are {', '.join(header)})",
                "Use NHS Digital's individual-level PCN workforce CSV unchanged.",
                row=1,
                column=column,
            )
    out: dict[str, RolesInPost] = {}
    people: dict[tuple[str, str], set[str]] = defaultdict(set)
    census: tuple[dt.date, int] | None = None
    for r in rows:
        when = _census_date(r)
        if census is None:
            census = (when, r.number)
        elif when != census[0]:
            raise r.error(
                "CENSUS_MONTH",
                f"the census date {when:%B %Y} differs from {census[0]:%B %Y} at row {census[1]}",
                "Give one census at a time: split the file by census month.",
            )
        if r.text("PCN_CODE").upper() in NO_PCN:
            continue
        pcn = r.code("PCN_CODE", "a PCN code")
        source = r.required("Data_source", "the data source (NWRS Staff or contracted services)")
        if source not in (STAFF, CONTRACTED):
            raise r.error(
                "Data_source",
                f"'{source}' is neither '{STAFF}' nor '{CONTRACTED}'",
                "Use NHS Digital's file unchanged.",
            )
        role = " ".join(r.required("DETAILED_STAFF_ROLE", "a staff role").split())
        fte = r.count("FTE", FTE)
        if fte is None:
            raise r.error("FTE", "is blank; expected an FTE", "Fill it in.")
        person = r.text("UNIQUE_IDENTIFIER")
        if source == STAFF and person.upper() in NO_PERSON:
            raise r.error(
                "UNIQUE_IDENTIFIER",
                f"'{person}' is no staff identifier on a '{STAFF}' row",
                "Use NHS Digital's file unchanged; only contracted services have none.",
            )
        found = out.get(pcn)
        if found is None:
            found = out[pcn] = RolesInPost(
                pcn,
                r.text("PCN_NAME") or pcn,
                when,
                r.text("ICB_CODE").upper(),
                r.text("ICB_NAME"),
                name,
                r.number,
            )
        count = found.roles.get(role)
        if count is None:
            count = found.roles[role] = RoleCount(role, ARRS_ROLES.get(role))
        count.fte += fte
        if source == CONTRACTED:
            count.contracted += 1
            count.contracted_fte += fte
        elif person not in people[pcn, role]:
            people[pcn, role].add(person)
            count.people += 1
    if not out:
        raise InputError(name, "holds no staff in any PCN", "Check the file.")
    return out


def arrs_fte(census: dict[str, RolesInPost]) -> Decimal:
    return sum((x.arrs_fte for x in census.values()), Decimal(0))


__all__ = [
    "ARRS_ROLES",
    "NOT_ARRS",
    "SOURCE",
    "RoleCount",
    "RolesInPost",
    "arrs_fte",
    "read_census",
]
