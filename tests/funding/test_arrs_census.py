"""ARRS roles in post from NHS Digital's PCN Workforce census: the two real files' published
totals, people against contracts, the role matching, and located errors on bad rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from pcnkit.errors import InputError
from pcnkit.funding.census import ARRS_ROLES, NOT_ARRS, arrs_fte, read_census
from pcnkit.funding.rules import rules_for

HEADER = (
    "Data_source,CENSUS_YEAR,CENSUS_MONTH,PCN_CODE,PCN_NAME,SUB_ICB_CODE,SUB_ICB_NAME,ICB_CODE,"
    "ICB_NAME,COMM_REGION_CODE,COMM_REGION_NAME,STAFF_GROUP,STAFF_ROLE,DETAILED_STAFF_ROLE,FTE,"
    "UNIQUE_IDENTIFIER"
)


def line(pcn="U00001", role="Pharmacist", fte="1", person="1", source="NWRS Staff", month="9"):
    return (
        f"{source},2022,{month},{pcn},A PCN,15A,Sub ICB,QU9,An ICB,Y59,South East,"
        f"Other Direct Patient Care staff,{role}s,{role},{fte},{person}"
    )


def write(tmp_path, *lines):
    path = tmp_path / "census.csv"
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    return path


@pytest.fixture(scope="module")
def march_2020(shared_data):
    return read_census(shared_data / "workforce" / "pcn_workforce_individual_2020-03.csv")


@pytest.fixture(scope="module")
def september_2022(shared_data):
    return read_census(shared_data / "workforce" / "pcn_workforce_individual_2022-09.csv")


def total_fte(census) -> D:
    return sum((r.fte for x in census.values() for r in x.roles.values()), D(0))


def test_published_totals(march_2020, september_2022):
    # the data README: 188 PCNs and 344 FTE; 1,105 PCNs and 14,149 FTE
    assert len(march_2020) == 188 and total_fte(march_2020) == D("343.886800001")
    assert len(september_2022) == 1105 and total_fte(september_2022) == D("14149.271920166")
    assert {x.census_date for x in march_2020.values()} == {dt.date(2020, 3, 31)}
    assert {x.census_date for x in september_2022.values()} == {dt.date(2022, 9, 30)}
    # of which in roles matched to ARRS roles (directors, managers, admin, "other" left out)
    assert arrs_fte(march_2020) == D("279.478133339")
    assert arrs_fte(september_2022) == D("12282.026933481")


def test_one_pcn_by_hand(march_2020):
    # WOKINGHAM WEST PCN, March 2020: a pharmacist 0.986666667, two link workers 0.48 each
    w = march_2020["U68696"]
    assert w.pcn_name == "WOKINGHAM WEST PCN" and w.icb_code == "QU9" and w.first_row == 2
    assert w.by_arrs_role() == {
        "clinical_pharmacist": D("0.986666667"),
        "social_prescribing_link_worker": D("0.96"),
    }
    assert w.arrs_people == 3 and w.arrs_contracted == 0
    assert w.text() == "1.95 FTE in ARRS roles (3 people) as at 31 March 2020"


def test_contracted_services_are_contracts_not_people(september_2022):
    # U55979 SARUM WEST: 19 rows, some of them contracted services (identifier NULL), one of
    # which is the file's only negative FTE (-0.026666667), kept as published
    s = september_2022["U55979"]
    assert s.arrs_contracted == 9 and s.arrs_people == 6
    technicians = s.roles["Pharmacy Technician"]
    assert technicians.contracted_fte < technicians.fte or technicians.contracted_fte < 0
    assert s.text() == "8.96 FTE in ARRS roles (6 people, 9 contracts) as at 30 September 2022"


def test_every_published_role_is_matched_or_said_why_not(march_2020, september_2022):
    for census in (march_2020, september_2022):
        roles = {r for x in census.values() for r in x.roles}
        assert roles <= set(ARRS_ROLES) | set(NOT_ARRS)
        assert not [x for x in census.values() if x.unmatched]
    # each matched role is an ARRS role of some year's rules
    known = {r for y in ("2019/20", "2022/23") for r in rules_for(y).arrs.roles}
    assert set(ARRS_ROLES.values()) <= known


def test_people_count_once_per_role(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        line(person="7"),
        line(person="7", fte="0.5"),  # the same pharmacist's second contract
        line(role="Paramedic", person="7"),
        line(role="Care Coordinator", person="NULL", source="NWRS contracted services"),
        line(role="Manager", person="8"),
        line(pcn="", person="9"),  # no PCN: belongs to none, skipped
    )
    (x,) = read_census(path).values()
    assert x.roles["Pharmacist"].people == 1 and x.roles["Pharmacist"].fte == D("1.5")
    assert x.roles["Care Coordinator"].people == 0 and x.roles["Care Coordinator"].contracted == 1
    assert x.arrs_people == 2 and x.arrs_fte == D("3.5")  # the manager is not ARRS
    assert x.roles["Manager"].arrs_role is None


def test_an_unknown_role_is_kept_unmatched(tmp_path):
    (x,) = read_census(write(tmp_path, HEADER, line(role="Mental Health Practitioner"))).values()
    assert x.unmatched == ["Mental Health Practitioner"] and x.arrs_fte == 0


@pytest.mark.parametrize(
    ("cells", "column", "problem"),
    [
        (line(fte="full time"), "FTE", "is not a number"),
        (line(fte=""), "FTE", "is blank"),
        (line(fte="75"), "FTE", ""),
        (line(pcn="U 1"), "PCN_CODE", "is not a PCN code"),
        (line(person="NULL"), "UNIQUE_IDENTIFIER", "no staff identifier"),
        (line(source="Somebody"), "Data_source", "neither"),
        (line(month="13"), "CENSUS_MONTH", "not a month"),
        (line(month="3"), "CENSUS_MONTH", "differs from September 2022 at row 2"),
        (line(role=""), "DETAILED_STAFF_ROLE", "is blank"),
    ],
)
def test_bad_rows_are_located(tmp_path, cells, column, problem):
    path = write(tmp_path, HEADER, line(), cells)
    with pytest.raises(InputError) as err:
        read_census(path)
    e = err.value
    assert (e.file, e.row, e.column) == (str(path), 3, column)
    assert problem in e.problem


def test_missing_column_and_empty_file(tmp_path):
    with pytest.raises(InputError) as err:
        read_census(write(tmp_path, HEADER.replace(",FTE,", ",WTE,"), line()))
    assert err.value.column == "FTE" and err.value.row == 1
    with pytest.raises(InputError, match="no data rows"):
        read_census(write(tmp_path, HEADER))
