"""Membership and list history as the organisation page and `pcnkit registry show` read it
(`queries.members_over_time`, `pcns_during`, `list_history`), on the shipped BHR extract."""

import datetime as dt
from decimal import Decimal

import pytest

from conftest import load
from pcnkit.dates import Period
from pcnkit.demo import demo_data
from pcnkit.registry import queries

D = dt.date


@pytest.fixture(scope="module")
def bhr(tmp_path_factory):
    from pcnkit.store import open_workspace

    folder = tmp_path_factory.mktemp("bhr-history")
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    load(ws, demo_data())
    yield ws
    ws.dispose()


def test_members_over_time_marks_who_was_a_member_on_the_date(bhr):
    with bhr.sessions() as s:
        spells = queries.members_over_time(s, "U00367", D(2020, 6, 1))
        history = queries.member_history(s, "U00367")
    assert [(m.organisation.code, m.start, m.end) for m in spells] == [
        (p.organisation.code, p.start, p.end) for p in history
    ]
    by_code = {m.organisation.code: m for m in spells}
    assert by_code["F82614"].end == D(2020, 3, 31) and not by_code["F82614"].current  # left
    assert by_code["F82002"].current
    assert not by_code["F82675"].current  # joined in August 2025
    assert by_code["F82675"].start == D(2025, 8, 1)


def test_members_over_time_names_each_member_as_at_the_date(bhr):
    """U92874 was 'North West' PCN in 2019 and 'Central' from 2025."""
    with bhr.sessions() as s:
        parent = next(p for p in queries.history(s, "U92874") if p.organisation.kind != "icb")
        code = parent.organisation.code
        then = queries.members_over_time(s, code, D(2019, 12, 1))
        now = queries.members_over_time(s, code, D(2025, 9, 1))
    assert {m.name for m in then if m.organisation.code == "U92874"} == {
        "BARKING & DAGENHAM NORTH WEST PCN"
    }
    assert {m.name for m in now if m.organisation.code == "U92874"} == {
        "BARKING & DAGENHAM CENTRAL PCN"
    }


def test_pcns_during_a_period_include_any_overlapping_membership(bhr):
    with bhr.sessions() as s:
        mungo = queries.organisation(s, "F82614")
        assert queries.pcns_during(s, mungo, Period(D(2019, 4, 1), D(2020, 3, 31))) == ["U00367"]
        assert queries.pcns_during(s, mungo, Period(D(2020, 3, 31), D(2020, 3, 31))) == ["U00367"]
        assert queries.pcns_during(s, mungo, Period(D(2020, 4, 1), D(2021, 3, 31))) == []
        assert queries.pcns_during(s, mungo, Period(D(2019, 1, 1), D(2019, 6, 30))) == []
        haiderian = queries.organisation(s, "F82002")
        assert queries.pcns_during(s, haiderian, Period(D(2022, 4, 1), D(2023, 3, 31))) == [
            "U00367"
        ]


def test_list_history_holds_every_list_with_its_publication(bhr):
    with bhr.sessions() as s:
        held = queries.list_history(s, queries.organisation(s, "F82614"))
    assert [h.as_of for h in held] == sorted(h.as_of for h in held)
    jan_2019 = [h for h in held if h.as_of == D(2019, 1, 1) and h.measure == "registered"]
    counts = [h for h in jan_2019 if not h.average]
    averages = [h for h in jan_2019 if h.average]
    assert [h.value for h in counts] == [Decimal("3165.00")]
    assert "Quality and Outcomes Framework" in counts[0].title
    assert [h.value for h in averages] == [Decimal("3190.75")]
    assert "NHS Payments to General Practice 2018/19" in averages[0].title
    assert {h.measure for h in held} == {"registered", "weighted"}
