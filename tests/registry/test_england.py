"""Integration: every England file in ../shared/data loads, and answers match the published
figures (ePCN December 2019: 1,250 PCNs; epraccur November 2019: 6,830 active GP practices)."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from conftest import load
from pcnkit.registry import queries
from pcnkit.registry.checks import run_checks
from pcnkit.store.models import Organisation, SourceFile

pytestmark = pytest.mark.england
D = dt.date


def test_every_registry_file_loads(england):
    ws, reports = england
    types = {r.file_type for r in reports}
    assert types == {
        "epraccur",
        "epcn",
        "gp-reg-pat-prac-all",
        "nhs-payments",
        "qof-geographies",
        "gpad-practice-mapping",
        "nhs-choices-coordinates",
        "ccg-icb-lookup",
        "qof-prevalence",
    }
    with ws.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SourceFile)) == len(reports)
        pcns = s.scalar(select(func.count()).where(Organisation.kind == "pcn"))
        assert 1_300 <= pcns <= 1_400  # every PCN ever seen, 2019 to 2025


def test_england_as_at_december_2019(england):
    ws, _ = england
    with ws.sessions() as s:
        result = run_checks(s, D(2019, 12, 1), "ENG")
    assert 1_240 <= len(result.pcns) <= 1_260
    assert 6_800 <= result.practices <= 7_000
    assert sum(1 for p in result.pcns if p.status == "over 50,000") > 300


def test_membership_answers_across_eras(england):
    ws, _ = england
    with ws.sessions() as s:
        assert queries.parent_at(s, "F82614", "pcn", D(2020, 1, 1)).organisation.code == "U00367"
        assert queries.parent_at(s, "F82614", "pcn", D(2020, 6, 1)) is None
        # Havering CCG (08F) merged into North East London CCG (A3A8R) in April 2021.
        assert queries.parent_at(s, "F82008", "sub_icb", D(2019, 12, 1)).organisation.code == "08F"
        later = queries.parent_at(s, "F82008", "sub_icb", D(2023, 1, 1)).organisation
        assert later.code == "A3A8R"
        assert queries.parent_at(s, "08F", "icb", D(2019, 12, 1)).organisation.code == "QMF"


def test_coordinates_attach_to_most_practices(england):
    ws, _reports = england
    with ws.sessions() as s:
        located = s.scalar(
            select(func.count()).where(
                Organisation.kind == "practice", Organisation.latitude.is_not(None)
            )
        )
        f82008 = queries.organisation(s, "F82008")
    assert located > 7_000
    assert 51.4 < f82008.latitude < 51.7 and 0.1 < f82008.longitude < 0.4


def test_loading_the_same_files_again_changes_nothing(england, shared_data):
    ws, _ = england
    again = load(ws, shared_data / "pcn")
    assert {r.status for r in again} == {"already loaded: skipped"}


def test_cross_border_findings_name_both_commissioners(england):
    ws, _ = england
    with ws.sessions() as s:
        result = run_checks(s, D(2019, 12, 1), "ENG")
    cross = [f for f in result.findings if f.check == "cross_border"]
    assert cross
    assert all("is commissioned by CCG" in f.text and "whose CCG is" in f.text for f in cross)
