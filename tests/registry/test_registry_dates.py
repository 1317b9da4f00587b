"""Issue 10 items 15, 16, 19 and 20 on the shipped BHR extract: PCN memberships dated from the
DES start with evidence, organisations never shown before they existed, whole registered
patients from one stated source, and configuration findings that separate a breached rule from
missing data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pcnkit.demo import demo_data
from pcnkit.registry import kinds, queries, timeline
from pcnkit.registry.actions import apply_batches
from pcnkit.registry.checks import run_checks
from pcnkit.registry.importers import expand, parse_file
from pcnkit.registry.profile import describe
from pcnkit.registry.summary import area_summary
from pcnkit.store import open_workspace

D = dt.date
PAYMENTS_1920 = "NHS Digital, NHS Payments to General Practice 2019/20"


@pytest.fixture(scope="module")
def bhr(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bhr-dates")
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    chosen, _ = expand([demo_data()])
    with ws.transaction() as session:
        apply_batches(session, [parse_file(s.path, None, s) for s in chosen])
    yield ws
    ws.dispose()


# --- item 15: PCN memberships from 1 July 2019, with the evidence named --------------------


def _epcn(parent="U1", start=D(2019, 10, 1), end=None):
    return timeline.Fact(parent, start, end, True, D(2019, 12, 4), "ePCN December 2019, row 5")


def _payments(parent="U1"):
    return timeline.Fact(
        parent, None, None, False, D(2020, 3, 31), f"{PAYMENTS_1920}, row 3", D(2019, 4, 1)
    )


def test_a_2019_20_source_dates_the_back_dated_membership_from_the_des_start():
    (seg,) = timeline.resolve([_epcn(), _payments()], known_from=D(1990, 1, 1), des=True)
    assert seg.start == D(2019, 7, 1)
    assert "Network Contract DES began" in seg.bases[0] and PAYMENTS_1920 in seg.bases[0]


@pytest.mark.parametrize(
    "facts, des",
    [
        ([_epcn()], True),  # no 2019/20 source says so
        ([_epcn(), _payments("U2")], True),  # the 2019/20 source names another PCN
        ([_epcn(start=D(2020, 1, 1)), _payments()], True),  # a real later start is kept
        ([_epcn(), _payments()], False),  # not the practice → PCN channel
    ],
)
def test_without_evidence_the_ods_date_stands(facts, des):
    first = timeline.resolve(facts, known_from=D(1990, 1, 1), des=des)[0]
    assert first.start == facts[0].start


def test_havering_south_has_its_17_practices_in_august_2019(bhr):
    with bhr.sessions() as s:
        members = queries.members_at(s, "U00367", D(2019, 8, 1), kinds.PRACTICE)
        assert len(members) == 17
        for m in members:  # the Havering paper of 24 July 2019, in the demo's definitions
            assert m.start == D(2019, 7, 1)
            assert m.basis.startswith("Local definitions, pcnkit demo (from BHR committee papers")
        # Barking & Dagenham has no such paper: the 2019/20 national files date its members.
        members = queries.members_at(s, "U86966", D(2019, 8, 1), kinds.PRACTICE)
        assert len(members) == 4
        for m in members:
            assert m.start == D(2019, 7, 1)
            assert "when the Network Contract DES began" in m.basis
            assert "2019/20" in m.basis  # the payments or QOF 2019/20 row that says so
        profile = describe(s, "U00367", D(2019, 8, 1))
        assert profile.empty_state is None and profile.began == D(2019, 7, 1)
        assert profile.total is not None and profile.total.practices == 17
        # The configuration check sees the 15 PCNs in August 2019 too.
        assert len(run_checks(s, D(2019, 8, 1), "BHR").pcns) == 15


def test_a_date_without_data_says_so(bhr):
    with bhr.sessions() as s:
        before = describe(s, "U00367", D(2019, 6, 1))
        assert before.members == [] and before.total is None
        assert before.empty_state == (
            "This PCN did not exist on 1 June 2019: the earliest the data shows it is 1 July 2019."
        )
        later = describe(s, "A3A8R", D(2020, 1, 1))
        assert "did not exist on 1 January 2020" in later.empty_state


# --- item 16: no organisation before it existed; one CCG end date on every page -------------


def test_the_ics_does_not_list_a_ccg_before_it_existed(bhr):
    with bhr.sessions() as s:
        members = {m.code for m in describe(s, "QMF", D(2020, 1, 1)).members}
        assert members == {"07L", "08F", "08N"}
        members = {m.code for m in describe(s, "QMF", D(2021, 6, 1)).members}
        assert members == {"A3A8R"}
        (nel,) = [p for p in queries.member_history(s, "QMF") if p.organisation.code == "A3A8R"]
        assert nel.start == D(2021, 4, 1)  # not "from: not known"


def test_practice_and_pcn_pages_agree_on_the_ccg_merger(bhr):
    with bhr.sessions() as s:
        for code in ("F82002", "U00367"):
            ccgs = {
                p.organisation.code: (p.start, p.end)
                for p in queries.history(s, code)
                if p.organisation.kind == kinds.SUB_ICB
            }
            assert ccgs["08F"][1] == D(2021, 3, 31), code
            assert ccgs["A3A8R"] == (D(2021, 4, 1), None), code


def _snap(parent, day, covers_from=None):
    return timeline.Fact(parent, None, None, False, day, f"{parent} at {day}", covers_from)


def test_a_merger_seen_only_in_snapshots_is_dated_when_the_new_ccg_began():
    """Without close dates: the PCN's ePCN snapshots say 08F (December 2019) then A3A8R (May
    2022); A3A8R, first named for 2021/22, began on 1 April 2021, so the move is dated then,
    as it is for a practice whose payments files say 08F for 2020/21 and A3A8R for 2021/22."""
    pcn = [_snap("08F", D(2019, 12, 4)), _snap("A3A8R", D(2022, 5, 1))]
    practice = [
        _snap("08F", D(2021, 3, 31), D(2020, 4, 1)),
        _snap("A3A8R", D(2022, 3, 31), D(2021, 4, 1)),
    ]
    opened = {"A3A8R": D(2021, 4, 1)}
    for facts in (pcn, practice):
        old, new = timeline.resolve(facts, opened, known_from=D(2019, 7, 1))
        assert (old.parent, old.end, new.parent, new.start) == (
            "08F", D(2021, 3, 31), "A3A8R", D(2021, 4, 1)
        )  # fmt: skip
    # A new parent that already existed when the old one was last seen: the snapshot dates it.
    old, new = timeline.resolve(pcn, {"A3A8R": D(2019, 4, 1)}, known_from=D(2019, 7, 1))
    assert new.start == D(2022, 5, 1)


def test_an_unknown_start_means_first_named_not_always():
    assert kinds.opened_on(kinds.SUB_ICB, None, D(2021, 4, 1)) == D(2021, 4, 1)
    assert kinds.opened_on(kinds.ICB, None, D(2020, 3, 31)) is None  # STPs predate the files
    assert kinds.opened_on(kinds.PCN, D(2019, 10, 1), D(2019, 4, 1)) == D(2019, 7, 1)
    assert kinds.opened_on(kinds.PCN, D(2020, 4, 1), D(2019, 4, 1)) == D(2020, 4, 1)


# --- item 19: whole patients from one stated source ------------------------------------------


def test_registered_patients_are_whole_and_their_sources_stated(bhr):
    with bhr.sessions() as s:
        pcn = describe(s, "U00367", D(2020, 1, 1))
        total = pcn.total
        assert total.total == total.total.to_integral() and total.practices == 17
        # Mungo Park Surgery has no QOF 2019/20 count: its figure is the last count, not the
        # payments file's quarter average (3,165.25), and the sum says it mixes two sources.
        assert total.mixed and total.source_text.startswith("mixed sources: ")
        assert "for 16 practices" in total.source_text and "for 1 practice" in total.source_text
        mungo = next(m for m in pcn.members if m.code == "F82614")
        assert not mungo.registered.average and mungo.registered.as_of == D(2019, 1, 1)
        for m in pcn.members:
            assert m.registered.value == m.registered.value.to_integral()
        # The same figure on the summary, the check and the page.
        node = area_summary(s, "U00367", D(2020, 1, 1), depth=0)
        line = next(p for p in run_checks(s, D(2020, 1, 1), "U00367").pcns)
        assert node.registered.total == total.total
        assert line.registered == f"{total.total:,}"
        assert ".csv" not in total.source_text and ".xlsx" not in total.source_text


def test_a_payments_average_is_rounded_and_marked_only_when_nothing_counts(bhr):
    with bhr.sessions() as s:
        ids = [queries.organisation(s, "F82614").id]
        # On 1 January 2019 a QOF count and a payments average coexist: the count wins.
        (counted,) = queries.patients_at(s, ids, D(2019, 1, 1)).values()
        assert not counted.average
        # Funding's own rule is unchanged: the latest figure on the date, average or not.
        (funding,) = queries.list_sizes_at(s, ids, D(2020, 1, 1)).values()
        assert funding.value == Decimal("3165.25") and funding.average


def test_place_and_ics_members_show_patients_and_a_total(bhr):
    with bhr.sessions() as s:
        place = describe(s, "PL-HAV", D(2020, 1, 1))
        pcns = [m for m in place.members if m.kind == "PCN"]
        assert len(pcns) == 4 and all(m.patients and m.patients.total > 0 for m in pcns)
        assert place.total.total == sum(m.patients.total for m in pcns)
        ics = describe(s, "QMF", D(2020, 1, 1))
        assert all(m.patients.total > 0 for m in ics.members)
        assert ics.total.total == sum(m.patients.total for m in ics.members)


# --- item 20: breached, not recorded, to review ---------------------------------------------


def test_the_one_breach_is_not_buried_under_missing_data(bhr):
    with bhr.sessions() as s:
        result = run_checks(s, D(2019, 12, 1), "BHR")
    counts = result.counts()
    assert counts == {"breach": 1, "not recorded": 26, "review": 6}
    (breach,) = [f for f in result.findings if f.outcome == "breach"]
    assert (breach.code, breach.check_name) == ("U86966", "PCN list size")
    assert result.summary().startswith("1 rule breached (PCN list size 1); 26 not recorded")
    groups = result.groups()
    assert groups[0].pcn == "U86966" and groups[0].name == "BARKING & DAGENHAM EAST PCN"
    assert {f.check_name for f in result.findings} <= {
        "PCN list size",
        "Clinical director",
        "Nominated payee",
        "Member from another commissioner",
        "Single-practice PCN",
    }
    data = result.as_dict()
    assert data["counts"]["breach"] == 1 and data["findings"][0]["outcome_label"] == (
        "Rule breached"
    )


@pytest.mark.england
def test_england_has_its_pcns_in_august_2019(england):
    """Before: on 2019-08-01 no PCN was open and 7,080 of 7,081 open practices were "in no
    PCN". The 2019/20 payments file and QOF map date the original memberships from July."""
    ws, _ = england
    with ws.sessions() as s:
        result = run_checks(s, D(2019, 8, 1), "ENG")
        december = run_checks(s, D(2019, 12, 1), "ENG")
    coverage = sum(1 for f in result.findings if f.check == "coverage")
    print(
        f"2019-08-01: {len(result.pcns)} PCNs, {result.practices} open practices, "
        f"{coverage} in no PCN; 2019-12-01: {len(december.pcns)} PCNs"
    )
    assert len(result.pcns) >= len(december.pcns) - 10
    assert coverage < result.practices // 20
