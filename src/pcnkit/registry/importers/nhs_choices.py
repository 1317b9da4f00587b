"""NHS Choices GP files (2014, '¬'-delimited, latin-1): practice coordinates.

Branch surgeries repeat their parent's code, so the first row per code is used. Coordinates
only attach to practices the registry already holds (matched by code, then by postcode).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pcnkit.dates import date_in_name
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import Batch, CoordinateRecord, csv_rows
from pcnkit.registry.plausible import LATITUDE, LONGITUDE

file_type = "nhs-choices-coordinates"
description = "NHS Choices GP locations"
publisher = "NHS Choices (OGL v2)"
DELIMITER = "¬"


def sniff(text: str, header: list[str]) -> bool:
    return {"OrganisationCode", "Latitude", "Longitude"} <= set(header)


def parse(path: Path, text: str, sha: str) -> Batch:
    _, rows = csv_rows(path, text, delimiter=DELIMITER)
    batch = Batch(
        str(path),
        file_type,
        description,
        sha,
        date_in_name(path.name) or dt.date(2014, 2, 1),
        publisher,
    )
    seen: set[str] = set()
    for r in rows:
        batch.rows += 1
        code = r.text("OrganisationCode").upper()
        if not re.fullmatch(r"[A-Z0-9]{3,10}", code):
            continue  # e.g. 'Y02622_NEW': not an ODS code, so nothing to attach it to
        lat = r.count("Latitude", LATITUDE)
        lon = r.count("Longitude", LONGITUDE)
        if code in seen or lat is None or lon is None:
            continue
        seen.add(code)
        postcode = r.text("Postcode") or None
        batch.coordinates.append(CoordinateRecord(code, postcode, float(lat), float(lon), r.number))
    if not batch.coordinates:
        raise InputError(str(path), "holds no coordinates", "Check the file.")
    return batch
