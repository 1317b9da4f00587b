"""Kinds of organisation. NHS reorganisations change a kind's label, never a class name.

A CCG became a sub-ICB location on 1 July 2022 (often keeping its code) and an STP became an
ICB (QHM was both), so each is one kind here whose label depends on the date asked about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ICB_ERA_START = dt.date(2022, 7, 1)
PCN_ERA_START = dt.date(2019, 7, 1)  # the Network Contract DES began on 1 July 2019
# ODS gives every PCN, and every practice's first PCN membership, this start date, though the
# DES (and its payments) began on 1 July 2019.
ODS_PCN_BACKDATE = dt.date(2019, 10, 1)
# Kinds that long predate every file pcnkit reads: an unknown open date means "always existed".
# Every other kind (practices, PCNs, CCGs, places, federations, groupings) counts from its first
# mention.
LONG_STANDING = ("nation", "region", "icb")


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    label_before_icbs: str | None = None

    def label_at(self, as_of: dt.date | None) -> str:
        if self.label_before_icbs and as_of is not None and as_of < ICB_ERA_START:
            return self.label_before_icbs
        return self.label


NATION = "nation"
REGION = "region"
ICB = "icb"
SUB_ICB = "sub_icb"
PLACE = "place"
FEDERATION = "federation"
PCN = "pcn"
PRACTICE = "practice"
GROUPING = "grouping"

KINDS: dict[str, Kind] = {
    k.name: k
    for k in [
        Kind(NATION, "nation"),
        Kind(REGION, "NHS England region"),
        Kind(ICB, "ICB", "STP"),
        Kind(SUB_ICB, "sub-ICB location", "CCG"),
        Kind(PLACE, "place"),
        Kind(FEDERATION, "GP federation"),
        Kind(PCN, "PCN"),
        Kind(PRACTICE, "practice"),
        Kind(GROUPING, "grouping"),
    ]
}


def opened_on(kind: str, open_date: dt.date | None, first_seen: dt.date | None) -> dt.date | None:
    """When an organisation began, as far as the data says. A PCN whose only open date is ODS's
    1 October 2019 back-date, and which a source already names for the 2019/20 year, began with
    the DES on 1 July 2019; an organisation with no open date began no earlier than the first
    source that mentions it (nations, regions and ICBs excepted: they predate the files)."""
    if kind in LONG_STANDING:
        return open_date
    # ODS's date says nothing earlier than a source naming the PCN for 2019/20
    backdated = open_date is None or open_date == ODS_PCN_BACKDATE
    if kind == PCN and first_seen and backdated and first_seen < (open_date or dt.date.max):
        return max(first_seen, PCN_ERA_START)
    return open_date or first_seen
