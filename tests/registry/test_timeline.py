"""The rules that turn what sources said into one timeline (registry.timeline)."""

import datetime as dt

from pcnkit.registry.timeline import Fact, overlaps, resolve

D = dt.date


def spans(segments):
    return [(s.parent, s.start, s.end) for s in segments]


def test_newer_extract_closes_a_relationship_the_older_one_left_open():
    facts = [
        Fact("SOUTH", D(2019, 10, 1), None, True, D(2019, 12, 1), "ePCN 2019"),
        Fact("SOUTH", D(2019, 10, 1), D(2020, 3, 31), True, D(2022, 5, 1), "ePCN 2022"),
    ]
    assert spans(resolve(facts)) == [("SOUTH", D(2019, 10, 1), D(2020, 3, 31))]


def test_a_last_known_snapshot_does_not_reopen_a_dated_end():
    facts = [
        Fact("SOUTH", D(2019, 10, 1), D(2020, 3, 31), True, D(2022, 5, 1), "ePCN 2022"),
        Fact("SOUTH", None, None, False, D(2021, 3, 31), "payments 20-21"),
    ]
    assert spans(resolve(facts)) == [("SOUTH", D(2019, 10, 1), D(2020, 3, 31))]


def test_a_move_keeps_history():
    facts = [
        Fact("A", D(2019, 10, 1), D(2020, 8, 31), True, D(2022, 5, 1), "ePCN"),
        Fact("B", D(2020, 9, 1), None, True, D(2022, 5, 1), "ePCN"),
    ]
    assert spans(resolve(facts)) == [
        ("A", D(2019, 10, 1), D(2020, 8, 31)),
        ("B", D(2020, 9, 1), None),
    ]


def test_newer_snapshot_that_disagrees_starts_a_new_membership_on_its_date():
    facts = [
        Fact("08F", None, None, False, D(2020, 3, 31), "QOF 1920"),
        Fact("A3A8R", None, None, False, D(2022, 7, 1), "lookup"),
    ]
    assert spans(resolve(facts)) == [("08F", None, D(2022, 6, 30)), ("A3A8R", D(2022, 7, 1), None)]


def test_older_snapshot_cannot_override_newer_dated_knowledge():
    facts = [
        Fact("B", D(2019, 10, 1), None, True, D(2022, 5, 1), "ePCN 2022"),
        Fact("A", None, None, False, D(2020, 3, 31), "QOF 1920"),
    ]
    assert spans(resolve(facts)) == [("B", D(2019, 10, 1), None)]


def test_snapshot_fills_the_gap_before_dated_knowledge_begins():
    facts = [
        Fact("B", D(2021, 1, 1), None, True, D(2022, 5, 1), "ePCN"),
        Fact("A", None, None, False, D(2020, 3, 31), "QOF"),
    ]
    assert spans(resolve(facts)) == [("A", None, D(2020, 12, 31)), ("B", D(2021, 1, 1), None)]


def test_unknown_starts_are_bounded_by_parent_opening_and_first_sighting():
    facts = [Fact("P1", None, None, False, D(2025, 8, 1), "GPAD 2025")]
    assert spans(resolve(facts, {"P1": D(2019, 10, 1)})) == [("P1", D(2019, 10, 1), None)]
    bounded = resolve(facts, {"P1": D(2019, 10, 1)}, known_from=D(2025, 8, 1))
    assert spans(bounded) == [("P1", D(2025, 8, 1), None)]


def test_evidence_accumulates_on_agreeing_snapshots():
    facts = [
        Fact("A", D(2019, 10, 1), None, True, D(2019, 12, 1), "ePCN row 4"),
        Fact("A", None, None, False, D(2020, 3, 31), "QOF row 9"),
    ]
    (segment,) = resolve(facts)
    assert segment.bases == ["ePCN row 4", "QOF row 9"]


def test_overlaps_names_the_two_rows():
    assert overlaps([(D(2019, 1, 1), D(2019, 12, 31), 3), (D(2019, 6, 1), None, 7)]) == (3, 7)
    assert overlaps([(D(2019, 1, 1), D(2019, 5, 31), 3), (D(2019, 6, 1), None, 7)]) is None
