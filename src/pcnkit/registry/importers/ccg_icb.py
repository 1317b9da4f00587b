"""CCG → ICB lookup (July 2022): bridges CCG-era codes to the ICBs that replaced STPs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pcnkit.dates import date_in_name
from pcnkit.registry import kinds
from pcnkit.registry.importers.base import Batch, OrgRecord, csv_rows
from pcnkit.registry.importers.snapshot import SnapshotFacts

file_type = "ccg-icb-lookup"
description = "CCG to ICB lookup"
publisher = "NHS England (via HEEC)"
ICB_ESTABLISHED = dt.date(2022, 7, 1)


def sniff(text: str, header: list[str]) -> bool:
    return {"CCG Code", "ICB Code"} <= set(header)


def parse(path: Path, text: str, sha: str) -> Batch:
    _, rows = csv_rows(path, text)
    batch = Batch(
        str(path),
        file_type,
        description,
        sha,
        date_in_name(path.name) or ICB_ESTABLISHED,
        publisher,
    )
    facts = SnapshotFacts(batch)
    for r in rows:
        batch.rows += 1
        if r.text("CCG Code").lower().startswith("n/a"):
            continue  # the published file carries a note row ("n/a not SBS client at present")
        ccg, icb = r.code("CCG Code"), r.code("ICB Code")
        batch.add_org(OrgRecord(ccg, kinds.SUB_ICB, row=r.number))
        batch.add_org(OrgRecord(icb, kinds.ICB, r.text("ICB NAME"), row=r.number))
        facts.add(ccg, icb, r, "ICB Code")
    return batch
