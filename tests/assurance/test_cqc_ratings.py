"""CQC latest ratings: the real HEEC file, the rules for duplicate and unattributable rows, and
broken copies."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from pcnkit.assurance import importers
from pcnkit.assurance.importers import cqc_ratings
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import read_text, sha256_of

HEADER = (
    '"Practice.Code","Year","location_name","service_population_group","domain",'
    '"latest_rating","inherited_rating_y_n","IMD","IMD_quintile","ICB_NAME"'
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
    return cqc_ratings.parse(path, read_text(path), sha256_of(path))


def write(tmp_path: Path, *lines: str, name: str = "cqc.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def row(code: str, year: int, rating: str, inherited: str = "N") -> str:
    return f'"{code}",{year},"A Surgery","Overall","Overall","{rating}","{inherited}",20.1,3,"ICB"'


def by(batch, measure: str) -> dict[str, object]:
    return {
        o.org_code: (o.label if measure == "overall_rating" else o.value)
        for o in batch.observations
        if o.measure == measure
    }


@pytest.fixture(scope="module")
def real(shared_data):
    return load(shared_data / "cqc" / "cqc_ratings_practice_2016-2024_heec.csv")


def test_real_file_counts_and_ratings(real):
    assert real.rows == 6229
    ratings = by(real, "overall_rating")
    # 6,185 codes, less 42 rows with no code and 18 branch sites (parents of 14 rated too,
    # Y01929 rated only at its branches): 6,167 practices, three measures each.
    assert len(ratings) == 6167
    assert len(real.observations) == 3 * 6167
    # The README's counts over all 6,229 rows (Good 5,586 / Outstanding 294 / RI 292 /
    # Inadequate 57) less the rows not stored: 42 + 18 + 2 superseded (checked with awk).
    assert Counter(ratings.values()) == {
        "Good": 5532,
        "Outstanding": 291,
        "Requires improvement": 289,
        "Inadequate": 55,
    }
    assert {o.period for o in real.observations} == {
        cqc_ratings.PERIOD
    } and cqc_ratings.PERIOD.first == dt.date(2024, 4, 1) == real.extract_date
    assert set(o.measure for o in real.observations) == set(cqc_ratings.MEASURES)


def test_real_file_known_practices(real):
    ratings, years = by(real, "overall_rating"), by(real, "rating_year")
    inherited = by(real, "inherited")
    assert (ratings["A81001"], years["A81001"], inherited["A81001"]) == (
        "Good",
        Decimal(2016),
        Decimal(0),
    )
    rows = {o.org_code: o.row for o in real.observations if o.measure == "overall_rating"}
    assert rows["A81001"] == 2
    # Two rows: the later year wins (2016 Outstanding, 2019 Good at rows 4694 and 4695).
    assert (ratings["M84032"], years["M84032"], rows["M84032"]) == ("Good", Decimal(2019), 4695)
    assert (ratings["C84005"], years["C84005"], rows["C84005"]) == (
        "Outstanding",
        Decimal(2018),
        1090,
    )
    # The practice's own row, not its branch site's (L82023001, Good 2019).
    assert (ratings["L82023"], years["L82023"]) == ("Inadequate", Decimal(2023))
    assert "Y01929" not in ratings and "NA" not in ratings
    assert not any(len(code) != 6 for code in ratings)
    # 335 rows say Y: 36 have no practice code and one is C84005's superseded 2016 row (awk).
    assert sum(1 for v in inherited.values() if v == 1) == 335 - 36 - 1


def test_real_file_findings_say_what_was_left_out(real):
    text = "\n".join(real.findings)
    assert "42 rows give no practice code" in text
    assert "18 rows rate a branch site" in text and "Y01929" in text
    assert "M84032" in text and "4694" in text and "4695" in text


def test_same_year_conflict_keeps_less_favourable_and_names_both_rows(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        row("A81001", 2022, "Good"),
        row("A81002", 2021, "Outstanding"),
        row("A81001", 2022, "Inadequate", "Y"),
        row("A81002", 2021, "Outstanding"),
        row("A81003", 2019, "Good"),
        row("A81003", 2023, "Requires improvement"),
    )
    batch = load(path)
    ratings = by(batch, "overall_rating")
    assert ratings == {
        "A81001": "Inadequate",
        "A81002": "Outstanding",
        "A81003": "Requires improvement",
    }
    assert by(batch, "inherited")["A81001"] == Decimal(1)
    rows = {o.org_code: o.row for o in batch.observations if o.measure == "overall_rating"}
    assert rows == {"A81001": 4, "A81002": 3, "A81003": 7}
    text = "\n".join(batch.findings)
    assert "'Good' (row 2)" in text and "'Inadequate' (row 4)" in text
    assert "A81002 has 2 rows rating it 'Outstanding' in 2021 (rows 3, 5): stored once" in text
    assert "A81003 has ratings from 2019 (row 6) and 2023 (row 7)" in text


def test_rating_spelling_and_case_are_normalised(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        row("A81001", 2022, "requires  IMPROVEMENT"),
        row("A81002", 2022, " good "),
    )
    assert by(load(path), "overall_rating") == {"A81001": "Requires improvement", "A81002": "Good"}


def test_unknown_rating_is_refused_with_the_accepted_ones(tmp_path):
    path = write(tmp_path, HEADER, row("A81001", 2022, "Good"), row("A81002", 2022, "Very good"))
    with pytest.raises(InputError) as e:
        load(path)
    err = e.value
    assert (err.file, err.row, err.column) == (str(path), 3, "latest_rating")
    for accepted in ("'Very good'", "'Outstanding'", "'Good'", "'Requires improvement'"):
        assert accepted in str(err)
    assert "'Inadequate'" in str(err)


@pytest.mark.parametrize(
    ("cells", "column", "words"),
    [
        (row("A81001", 2026, "Good"), "Year", "'2026' is not the year of a rating"),
        (row("A81001", 2022, "Good", "maybe"), "inherited_rating_y_n", "'maybe' is not Y or N"),
        (row("A8100X", 2022, "Good"), "Practice.Code", "'A8100X' is not a GP practice code"),
    ],
)
def test_bad_cells_are_located(tmp_path, cells, column, words):
    path = write(tmp_path, HEADER, row("A81002", 2022, "Good"), cells)
    with pytest.raises(InputError) as e:
        load(path)
    assert (e.value.row, e.value.column) == (3, column)
    assert words in e.value.problem


def test_missing_column_is_named(tmp_path):
    path = write(
        tmp_path,
        HEADER.replace('"latest_rating"', '"rating"'),
        row("A81001", 2022, "Good"),
    )
    with pytest.raises(InputError) as e:
        load(path)
    assert e.value.column == "latest_rating" and "has no 'latest_rating' column" in str(e.value)


def test_truncated_and_empty_files_are_refused(tmp_path, shared_data):
    real = (shared_data / "cqc" / "cqc_ratings_practice_2016-2024_heec.csv").read_text()
    cut = real[: real.index("\n", 5000) + 30]  # a row cut after its first fields
    truncated = write(tmp_path, cut.rstrip("\n"), name="truncated.csv")
    with pytest.raises(InputError) as e:
        load(truncated)
    assert "truncated" in e.value.problem and e.value.row is not None
    with pytest.raises(InputError, match="empty"):
        load(write(tmp_path, "", name="empty.csv"))
    with pytest.raises(InputError, match="no data rows"):
        load(write(tmp_path, HEADER, name="header_only.csv"))


def test_sniff_recognises_the_header_not_the_name(shared_data):
    header = [h.strip('"') for h in HEADER.split(",")]
    assert cqc_ratings.sniff("", header)
    assert not cqc_ratings.sniff("", ["Practice.Code", "Year", "TOTAL_PATIENTS"])


def test_only_this_importer_claims_the_real_file(shared_data):
    """Of the assurance importers, only this one recognises the real file by its header."""
    text = read_text(shared_data / "cqc" / "cqc_ratings_practice_2016-2024_heec.csv")
    header = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
    names = [
        n
        for n in IMPORTERS
        if importlib.import_module(f"{importers.__name__}.{n}").sniff(text, header)
    ]
    assert names == ["cqc_ratings"]
