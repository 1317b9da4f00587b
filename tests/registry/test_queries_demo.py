"""As-of questions answered from the shipped BHR extract (real ODS / NHS Digital rows), on
SQLite and PostgreSQL."""

import datetime as dt
from decimal import Decimal

import pytest

from conftest import load
from pcnkit.demo import demo_data
from pcnkit.registry import queries
from pcnkit.registry.checks import CHECK_NAMES, CHECKS, check, run_checks
from pcnkit.registry.kinds import KINDS

D = dt.date
# Havering South PCN's 17 practices in "Primary Care Network Development in Havering", July 2019.
SOUTH_2019 = {
    "F82008",
    "F82624",
    "F82614",
    "F82619",
    "F82002",
    "F82028",
    "F82006",
    "F82033",
    "F82609",
    "F82055",
    "F82607",
    "F82627",
    "F82666",
    "F82674",
    "F82649",
    "F82053",
    "F82022",
}


@pytest.fixture
def bhr(workspace):
    load(workspace, demo_data())
    return workspace


def test_which_pcn_was_f82614_in(bhr):
    with bhr.sessions() as s:
        answer = queries.parent_at(s, "F82614", "pcn", D(2020, 1, 1))
        assert answer.organisation.code == "U00367"
        assert answer.end == D(2020, 3, 31)
        assert "(ePCN), May 2022" in answer.basis
        assert queries.parent_at(s, "F82614", "pcn", D(2020, 6, 1)) is None


def test_havering_south_members_before_and_after_mungo_park_left(bhr):
    with bhr.sessions() as s:
        before = {p.organisation.code for p in queries.members_at(s, "U00367", D(2019, 12, 1))}
        after = {p.organisation.code for p in queries.members_at(s, "U00367", D(2020, 6, 1))}
    assert before == SOUTH_2019
    assert after == SOUTH_2019 - {"F82614"}


def test_list_size_says_which_source_and_date_it_used(bhr):
    with bhr.sessions() as s:
        jan_2019 = queries.list_size_at(s, "F82614", D(2019, 12, 1))
        jan_2021 = queries.list_size_at(s, "F82008", D(2021, 6, 1))
        weighted = queries.list_size_at(s, "F82008", D(2019, 12, 1), "weighted")
        assert queries.list_size_at(s, "F82008", D(2018, 12, 31)) is None
    # QOF's 1 January count outranks the payments file's quarter average on the same date.
    assert (jan_2019.as_of, jan_2019.source) == (D(2019, 1, 1), "PREVALENCE_1819_v2.csv")
    assert jan_2019.value == jan_2019.value.to_integral_value()
    assert isinstance(jan_2019.value, Decimal) and jan_2019.value > 0
    assert (jan_2021.as_of, jan_2021.source) == (D(2021, 1, 1), "gp-reg-pat-prac-all_2021-01.csv")
    assert weighted.measure == "weighted" and weighted.value != jan_2019.value


def test_pcn_list_is_the_sum_of_its_members_at_that_date(bhr):
    with bhr.sessions() as s:
        h = queries.Hierarchy.at(s, D(2019, 12, 1))
        south = h.get("U00367")
        members = h.members(south, "practice")
        total = h.area_list(members)
        each = [queries.list_size_at(s, m.code, D(2019, 12, 1)).value for m in members]
    assert total.total == sum(each)
    assert total.earliest == total.latest == D(2019, 1, 1)


def test_kind_labels_follow_the_2022_reorganisation():
    assert KINDS["sub_icb"].label_at(D(2019, 12, 1)) == "CCG"
    assert KINDS["sub_icb"].label_at(D(2023, 1, 1)) == "sub-ICB location"
    assert KINDS["icb"].label_at(D(2019, 12, 1)) == "STP"


def test_bhr_check_shows_15_pcns_and_flags_those_over_50000(bhr):
    with bhr.sessions() as s:
        result = run_checks(s, D(2019, 12, 1), "BHR")
    assert len(result.pcns) == 15
    over = {p.code for p in result.pcns if p.status == "over 50,000"}
    flagged = {f.code for f in result.findings if f.check == "list_size" and "above" in f.text}
    assert over == flagged
    # Havering South, North, Fairlop, Loxford, Seven Kings, Wanstead & Woodford
    assert over == {"U00367", "U55939", "U03653", "U20290", "U27585", "U78575"}
    south = next(p for p in result.pcns if p.code == "U00367")
    assert {m.code for m in south.practices} == SOUTH_2019
    assert south.list_dated == "as at 1 January 2019"


def test_bhr_check_findings(bhr):
    with bhr.sessions() as s:
        result = run_checks(s, D(2019, 12, 1), "BHR")
    by_check = {}
    for f in result.findings:
        by_check.setdefault(f.check, set()).add(f.code)
    # Havering's clinical directors are recorded (July 2019 paper); the other 11 PCNs are not.
    assert len(by_check["clinical_director"]) == 11
    assert not by_check["clinical_director"] & {"U29424", "U50107", "U55939", "U00367"}
    assert len(by_check["nominated_payee"]) == 15
    # Dr Joseph's surgery (F82639), whose list North Street took on, is dormant in epraccur
    # November 2019 (status D), so it is not an open practice missing from a PCN.
    assert "F82639" not in by_check.get("coverage", set())
    with bhr.sessions() as s:
        joseph = queries.organisation(s, "F82639")
        assert (joseph.status, joseph.status_as_of) == ("D", D(2019, 11, 1))
        assert queries.is_open(joseph, D(2019, 10, 31)) and not queries.is_open(
            joseph, D(2019, 12, 1)
        )
    # B&D East PCN was below 30,000 on the January 2019 lists (QOF 2018/19 counts).
    assert "U86966" in by_check["list_size"]
    text = next(f.text for f in result.findings if f.check == "list_size" and f.code == "U86966")
    assert "28,750" in text and "below the 30,000 minimum" in text


def test_a_rural_waiver_turns_the_minimum_list_error_into_a_notice(bhr, tmp_path):
    waiver = tmp_path / "waiver.yaml"
    waiver.write_text(
        "pcnkit: definitions\nas_of: 2019-11-01\nexceptions:\n"
        "  - {org: U86966, rule: list_size_minimum, reason: agreed by the CCG, from: 2019-07-01}\n"
    )
    load(bhr, waiver)
    with bhr.sessions() as s:
        result = run_checks(s, D(2019, 12, 1), "U86966")
    (finding,) = [f for f in result.findings if f.check == "list_size"]
    assert finding.outcome == "review" and "agreed by the CCG" in finding.text


def test_every_named_check_is_one_registered_function():
    """Each check is one function registered under its code, run in the order the findings of
    a PCN are read; a check without a plain name cannot be registered."""
    assert [c.name for c in CHECKS] == [
        "coverage",
        "list_unknown",
        "list_size",
        "clinical_director",
        "nominated_payee",
        "single_practice",
        "closed_practice",
        "cross_border",
    ]
    assert {c.name for c in CHECKS} == set(CHECK_NAMES)
    with pytest.raises(ValueError, match="no plain name"):
        check("made_up")


def test_names_are_answered_as_at_a_date(bhr):
    """U92874 was 'North West' PCN in 2019 (BHR paper, October 2019) and 'Central' in the
    August 2025 GP appointments mapping."""
    with bhr.sessions() as s:
        pcn = queries.organisation(s, "U92874")
        assert queries.name_at(s, pcn, D(2019, 12, 1)) == "BARKING & DAGENHAM NORTH WEST PCN"
        assert "North West" in queries.name_at(s, pcn, D(2022, 6, 1))
        assert queries.name_at(s, pcn, D(2025, 9, 1)) == "BARKING & DAGENHAM CENTRAL PCN"
        result = run_checks(s, D(2019, 12, 1), "U92874")
    assert result.area_name == "BARKING & DAGENHAM NORTH WEST PCN"
