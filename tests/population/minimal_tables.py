"""The smallest population tables the measures read (the generator's have more columns), shared
by the measure tests and the cross-engine tests."""

from __future__ import annotations

import pyarrow as pa

PATIENTS = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("practice", pa.string()),
        ("sex", pa.string()),
        ("month_of_birth", pa.date32()),
        ("registration_start", pa.date32()),
        ("lsoa_imd_decile", pa.int8()),
        ("ethnic_group", pa.string()),
        ("care_home", pa.bool_()),
        ("housebound", pa.bool_()),
    ]
)
CONDITIONS = pa.schema(
    [("pseudonym", pa.string()), ("qof_group", pa.string()), ("diagnosis_date", pa.date32())]
)
MEDICATIONS = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("medicine_group", pa.string()),
        ("bnf_chapter", pa.int8()),
        ("issue_date", pa.date32()),
    ]
)
HOSPITAL = pa.schema([("pseudonym", pa.string()), ("kind", pa.string()), ("date", pa.date32())])
