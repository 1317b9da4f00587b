"""GPAD practice-level crosstab: the real 15-row sample summed by hand, a larger file this test
writes (several practices and months, with the publication's spacing and case quirks), and
broken copies."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from pcnkit.assurance import importers
from pcnkit.assurance.importers import gpad_appointments
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import read_text, sha256_of

HEADER = (
    "APPOINTMENT_MONTH_START_DATE,GP_CODE,GP_NAME,SUPPLIER,PCN_CODE,PCN_NAME,"
    "SUB_ICB_LOCATION_CODE,SUB_ICB_LOCATION_NAME,HCP_TYPE,APPT_MODE,NATIONAL_CATEGORY,"
    "TIME_BETWEEN_BOOK_AND_APPT,COUNT_OF_APPOINTMENTS,APPT_STATUS"
)


def line(month, code, hcp, mode, lead, count, status) -> str:
    return (
        f"{month},{code},A SURGERY,EMIS,U07506,A PCN,14L,NHS Greater Manchester ICB - 14L,"
        f"{hcp},{mode},General Consultation Routine,{lead},{count},{status}"
    )


IMPORTERS = (
    "cqc_ratings",
    "practice_workforce",
    "pcn_workforce",
    "qof_cvd",
    "pcn_data_matrix",
    "gpad_appointments",
)


def load(path: Path):
    return gpad_appointments.parse(path, read_text(path), sha256_of(path))


def write(tmp_path: Path, *lines: str, name: str = "crosstab.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def table(batch) -> dict[tuple[str, dt.date], dict[str, Decimal]]:
    out: dict[tuple[str, dt.date], dict[str, Decimal]] = defaultdict(dict)
    for o in batch.observations:
        out[o.org_code, o.period.first][o.measure] = o.value
    return dict(out)


def test_the_real_sample_summed_by_hand(shared_data):
    batch = load(shared_data / "format_samples" / "gpad_practice_crosstab_sample.csv")
    assert batch.rows == 15
    # Y02960, August 2025. By hand over the 15 rows: GP = 3+38+1123+249+6; DNA = 17+2+38;
    # face-to-face = 17+29+1+16+10+122+27+2+2+249 (home visits are not face-to-face);
    # same day = 3+10+38+1123+249+11; attended = all less 57 DNA and 16+27 unknown.
    assert table(batch) == {
        ("Y02960", dt.date(2025, 8, 1)): {
            "appointments": Decimal(1656),
            "appointments_attended": Decimal(1556),
            "appointments_dna": Decimal(57),
            "appointments_face_to_face": Decimal(475),
            "appointments_same_day": Decimal(1434),
            "appointments_gp": Decimal(1419),
        }
    }
    only = batch.observations[0]
    assert only.period.last == dt.date(2025, 8, 31) and only.row == 2
    assert only.org_kind == "practice" and batch.extract_date == dt.date(2025, 8, 1)
    assert batch.description.endswith("(NHS England), August 2025")
    assert {o.measure for o in batch.observations} == set(gpad_appointments.MEASURES)


def test_a_larger_file_sums_per_practice_and_month(tmp_path):
    """Every combination of the categories for 3 practices x 3 months, counts from a seeded
    generator, shuffled; the expected sums are worked out independently of the importer."""
    rng = random.Random(12)
    statuses = ["Attended", "DNA", "Unknown"]
    hcps = ["GP", "Other Practice staff", "Unknown"]
    modes = ["Face-to-Face", "Home Visit", "Telephone", "Video Conference/Online", "Unknown"]
    leads = ["Same Day", "1 Day", "2 to 7 Days", "8  to 14 Days", "More than 28 Days"]
    months = {"01JUN2025": dt.date(2025, 6, 1), "01JUL2025": dt.date(2025, 7, 1)}
    months["01AUG2025"] = dt.date(2025, 8, 1)
    lines, expected = [], defaultdict(lambda: defaultdict(int))
    for code in ("A81001", "B82002", "Y02960"):
        for month, day in months.items():
            for status in statuses:
                for hcp in hcps:
                    for mode in modes:
                        for lead in leads:
                            if rng.random() < 0.3:  # the crosstab leaves out empty cells
                                continue
                            n = rng.randint(0, 400)
                            lines.append(line(month, code, hcp, mode, lead, n, status))
                            totals = expected[code, day]
                            totals["appointments"] += n
                            totals["appointments_attended"] += n * (status == "Attended")
                            totals["appointments_dna"] += n * (status == "DNA")
                            totals["appointments_face_to_face"] += n * (mode == "Face-to-Face")
                            totals["appointments_same_day"] += n * (lead == "Same Day")
                            totals["appointments_gp"] += n * (hcp == "GP")
    rng.shuffle(lines)
    batch = load(write(tmp_path, HEADER, *lines))
    assert batch.rows == len(lines) > 500
    got = table(batch)
    assert got == {k: {m: Decimal(v) for m, v in totals.items()} for k, totals in expected.items()}
    assert len(batch.observations) == 9 * 6
    assert batch.extract_date == dt.date(2025, 8, 1)
    # each figure's row is the practice-month's first row in the file
    for o in batch.observations:
        first = next(
            i
            for i, text in enumerate(lines, start=2)
            if text.split(",")[1] == o.org_code and months[text.split(",")[0]] == o.period.first
        )
        assert o.row == first


def test_spacing_and_case_variants_are_read_and_zero_categories_stored(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        line("01AUG2025", "A81001", "gp", "face-to-face", "same  day", 5, "attended"),
        line(
            "01AUG2025", "A81001", "Other Practice staff", "Telephone", "22  to 28 Days", 3, "DNA"
        ),
    )
    assert table(load(path))["A81001", dt.date(2025, 8, 1)] == {
        "appointments": 8,
        "appointments_attended": 5,
        "appointments_dna": 3,
        "appointments_face_to_face": 5,
        "appointments_same_day": 5,
        "appointments_gp": 5,
    }
    unknown = write(
        tmp_path,
        HEADER,
        line("01AUG2025", "A81001", "Unknown", "Unknown", "Unknown / Data Issue", 2, "Unknown"),
        name="unknown.csv",
    )
    assert table(load(unknown))["A81001", dt.date(2025, 8, 1)]["appointments"] == 2


@pytest.mark.parametrize(
    ("cells", "column", "words"),
    [
        (
            line("01AUG2025", "A81001", "GP", "Face-to-Face", "Same Day", 5, "Cancelled"),
            "APPT_STATUS",
            "'Cancelled' is not one of the APPT_STATUS values pcnkit knows; the accepted "
            "values are 'Attended', 'DNA', 'Unknown'",
        ),
        (
            line("01AUG2025", "A81001", "GP", "Face to Face", "Same Day", 5, "Attended"),
            "APPT_MODE",
            "'Face to Face' is not one of the APPT_MODE values",
        ),
        (
            line("01AUG2025", "A81001", "GP", "Telephone", "Same Day", "lots", "Attended"),
            "COUNT_OF_APPOINTMENTS",
            "'lots' is not a number",
        ),
        (
            line("01AUG2025", "A81001", "GP", "Telephone", "Same Day", "2.5", "Attended"),
            "COUNT_OF_APPOINTMENTS",
            "not a whole number",
        ),
        (
            line("15AUG2025", "A81001", "GP", "Telephone", "Same Day", 2, "Attended"),
            "APPOINTMENT_MONTH_START_DATE",
            "not the first day of a month",
        ),
        (
            line("AUG2025", "A81001", "GP", "Telephone", "Same Day", 2, "Attended"),
            "APPOINTMENT_MONTH_START_DATE",
            "is not a date",
        ),
    ],
)
def test_bad_cells_are_located(tmp_path, cells, column, words):
    good = line("01AUG2025", "A81001", "GP", "Telephone", "Same Day", 2, "Attended")
    path = write(tmp_path, HEADER, good, cells)
    with pytest.raises(InputError) as e:
        load(path)
    assert (e.value.file, e.value.row, e.value.column) == (str(path), 3, column)
    assert words in e.value.problem


def test_missing_column_is_named(tmp_path):
    path = write(
        tmp_path,
        HEADER.replace("APPT_STATUS", "STATUS"),
        line("01AUG2025", "A81001", "GP", "Telephone", "Same Day", 2, "Attended"),
    )
    with pytest.raises(InputError) as e:
        load(path)
    assert e.value.column == "APPT_STATUS"


def test_truncated_and_empty_files_are_refused(tmp_path, shared_data):
    text = (shared_data / "format_samples" / "gpad_practice_crosstab_sample.csv").read_text()
    cut = write(tmp_path, text[: text.index("Face-to-Face", 1500)].rstrip(), name="cut.csv")
    with pytest.raises(InputError) as e:
        load(cut)
    assert "truncated" in e.value.problem and e.value.row is not None
    with pytest.raises(InputError, match="empty"):
        load(write(tmp_path, "", name="empty.csv"))
    with pytest.raises(InputError, match="no data rows"):
        load(write(tmp_path, HEADER, name="header.csv"))


def test_sniff_recognises_the_crosstab_not_the_mapping():
    assert gpad_appointments.sniff("", HEADER.split(","))
    mapping = ["GP_CODE", "GP_NAME", "PCN_CODE", "SUB_ICB_LOCATION_CODE", "ICB_CODE"]
    assert not gpad_appointments.sniff("", mapping)


def test_only_this_importer_claims_the_real_file(shared_data):
    """Of the assurance importers, only this one recognises the real file by its header."""
    text = read_text(shared_data / "format_samples" / "gpad_practice_crosstab_sample.csv")
    header = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
    names = [
        n
        for n in IMPORTERS
        if importlib.import_module(f"{importers.__name__}.{n}").sniff(text, header)
    ]
    assert names == ["gpad_appointments"]
