"""Kinds of organisation. NHS reorganisations change a kind's label, never a class name.

A CCG became a sub-ICB location on 1 July 2022 (often keeping its code) and an STP became an
ICB (QHM was both), so each is one kind here whose label depends on the date asked about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ICB_ERA_START = dt.date(2022, 7, 1)
PCN_ERA_START = dt.date(2019, 7, 1)  # the Network Contract DES began on 1 July 2019
# Kinds that open and close often: an unknown open date means "not before first seen".
SHORT_LIVED = ("practice", "pcn")


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    label_before_icbs: str | None = None
    plural: str = ""

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
