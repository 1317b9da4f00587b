"""The funding rules files: every contract year loads, its figures match the research note
(shared/domain/funding-rules.md), every unconfirmed figure says why, and scenarios override only
what they may."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from pcnkit.errors import BadValue, InputError
from pcnkit.funding.rules import (
    STATUSES,
    YearRules,
    apply_scenario,
    known_years,
    parse_rules,
    rules_file,
    rules_for,
)

YEARS = ["2019/20", "2020/21", "2021/22", "2022/23", "2023/24", "2024/25", "2025/26"]
DECIMAL_KEYS = {"rate", "max_per_wte", "rate_per_weighted_patient", "point_value", "ratio"}
UNCONFIRMED = {status for status, confirmed in STATUSES.items() if not confirmed}

# Keys the loader reads; anything else in a rules file is a typo it would silently ignore.
TOP_KEYS = {
    "estimates",
    "year",
    "version",
    "authored_by",
    "reviewed",
    "next_review",
    "list_reference_date",
    "membership_from",
    "streams",
    "arrs",
    "iif",
    "caip",
    "obligations",
}
STREAM_KEYS = {
    "id",
    "name",
    "basis",
    "payee",
    "rate",
    "rate_period",
    "start",
    "end",
    "first_payment",
    "payment_lag",
    "list_reference_date",
    "status",
    "source",
    "note",
    "version",
}
ARRS_KEYS = {
    "method",
    "rate_per_weighted_patient",
    "start",
    "end",
    "payment_lag",
    "roles_per_pcn",
    "double_above",
    "status",
    "source",
    "note",
    "roles",
}
ROLE_KEYS = {"id", "name", "reimbursement_rate", "max_per_wte", "status", "source"}
IIF_KEYS = {
    "max_points",
    "point_value",
    "status",
    "source",
    "note",
    "list_size_adjustment",
    "indicators",
}
ESTIMATE_KEYS = {"from", "ratio", "status", "source", "note"}


def raw(year: str) -> dict:
    return yaml.safe_load(rules_file(year).read_text(encoding="utf-8"))


def walk(node, path=""):
    """Every (path, key, value) in a parsed YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from walk(item, f"{path}[{i}]")


# --- every year ------------------------------------------------------------------------------


def test_known_years_are_2019_20_to_2025_26():
    assert known_years() == YEARS


@pytest.mark.parametrize("year", YEARS)
def test_every_year_loads(year):
    rules = rules_for(year)
    assert isinstance(rules, YearRules)
    assert rules.year == year
    assert rules.version == 1
    first = int(year[:4])
    assert (rules.start, rules.end) == (dt.date(first, 4, 1), dt.date(first + 1, 3, 1))
    # Core funding uses the list at 1 January before the year (research note section 0).
    assert rules.list_reference_date == dt.date(first, 1, 1)
    assert rules.streams
    assert rules.arrs is not None


@pytest.mark.parametrize("year", YEARS)
def test_every_stream_lies_inside_its_year(year):
    rules = rules_for(year)
    for stream in rules.streams.values():
        assert rules.start <= stream.start <= stream.end <= rules.end, stream.id
        assert stream.months[0] == stream.start and stream.months[-1] == stream.end
        assert all(rules.start <= m <= rules.end for m in stream.months), stream.id
        assert stream.first_payment >= stream.start, stream.id
        assert stream.list_reference_date == rules.list_reference_date, stream.id
    assert rules.start <= rules.arrs.start <= rules.arrs.end <= rules.end


@pytest.mark.parametrize("year", YEARS)
def test_every_unconfirmed_figure_says_why(year):
    rules = rules_for(year)
    for stream in rules.streams.values():
        assert stream.source.strip(), stream.id
        if stream.status in UNCONFIRMED:
            assert not stream.confirmed
            assert stream.note.strip(), f"{year} {stream.id} is {stream.status} without a note"
    if rules.arrs.status in UNCONFIRMED:
        assert rules.arrs.note.strip(), f"{year} ARRS is {rules.arrs.status} without a note"
    if rules.iif is not None and rules.iif.status in UNCONFIRMED:
        assert rules.iif.note.strip(), f"{year} IIF is {rules.iif.status} without a note"
    for role in rules.arrs.roles.values():
        assert role.source.strip(), role.id
        if role.max_per_wte is None:
            assert role.status == "U" and not role.confirmed, role.id


@pytest.mark.parametrize("year", YEARS)
def test_no_figure_is_a_float_in_the_yaml(year):
    figures = [
        (p, k, v) for p, k, v in walk(raw(year)) if k in DECIMAL_KEYS | {"reimbursement_rate"}
    ]
    assert figures
    for path, key, value in figures:
        assert isinstance(value, str), f"{year} {path}.{key} = {value!r} is not quoted"


@pytest.mark.parametrize("year", YEARS)
def test_rules_files_use_only_keys_the_loader_reads(year):
    doc = raw(year)
    assert set(doc) <= TOP_KEYS
    for stream in doc["streams"]:
        assert set(stream) <= STREAM_KEYS, stream["id"]
    assert set(doc["arrs"]) <= ARRS_KEYS
    for role in doc["arrs"]["roles"]:
        assert set(role) <= ROLE_KEYS, role["id"]
    assert set(doc.get("iif") or {}) <= IIF_KEYS
    for estimate in (doc.get("estimates") or {}).values():
        assert set(estimate) <= ESTIMATE_KEYS


@pytest.mark.parametrize("year", YEARS[1:])
def test_each_year_lists_what_it_could_not_encode(year):
    header = rules_file(year).read_text(encoding="utf-8").split("\nyear:")[0]
    assert "Not encoded" in header


def test_arrs_reimburses_every_role_in_full_from_2020_21():
    assert rules_for("2019/20").arrs.roles["clinical_pharmacist"].reimbursement_rate == Decimal(
        "0.70"
    )
    for year in YEARS[1:]:
        arrs = rules_for(year).arrs
        assert arrs.method == "per_weighted_patient"
        assert {r.reimbursement_rate for r in arrs.roles.values()} == {Decimal("1.00")}


# --- figures against the research note -------------------------------------------------------

STREAMS = [
    # year, stream, rate, rate_period, status, basis, months (None = the whole year)
    ("2019/20", "clinical_director", "0.51430", "period", "C", "registered", "2019-07..2020-03"),
    ("2020/21", "clinical_director", "0.722", "annual", "C2", "registered", None),
    ("2020/21", "pcn_support", "0.27", "period", "C2", "weighted", "2020-04..2020-09"),
    ("2020/21", "care_home_premium", "60", "period", "X", "beds", "2020-08..2021-03"),
    ("2020/21", "network_participation", "1.761", "annual", "C", "weighted", None),
    ("2021/22", "extended_hours", "1.44", "annual", "X", "registered", None),
    ("2021/22", "care_home_premium", "120", "annual", "C", "beds", None),
    # derived from what NHS England paid (issue 14): NHS Payments to General Practice
    ("2021/22", "leadership_management", "0.719", "annual", "D", "registered", None),
    ("2022/23", "clinical_director", "0.72963", "annual", "D", "registered", None),
    ("2022/23", "extended_hours", "0.720", "period", "C2", "registered", "2022-04..2022-09"),
    ("2022/23", "enhanced_access", "7.46", "annual", "X", "adjusted", "2022-10..2023-03"),
    ("2022/23", "leadership_management", "0.699", "annual", "X", "adjusted", None),
    ("2023/24", "clinical_director", "0.72963", "annual", "C2", "registered", None),
    ("2023/24", "leadership_management", "0.684", "annual", "C", "adjusted", None),
    ("2023/24", "enhanced_access", "7.578", "annual", "C2", "adjusted", None),
    ("2023/24", "capacity_access_support", "2.765", "annual", "X", "adjusted", None),
    ("2024/25", "enhanced_access", "7.674", "annual", "C2", "adjusted", None),
    ("2024/25", "core_pcn_funding_registered", "2.218", "annual", "C2", "registered", None),
    ("2024/25", "core_pcn_funding_adjusted", "0.698", "annual", "C2", "adjusted", None),
    ("2024/25", "capacity_access_support", "3.248", "annual", "C2", "adjusted", None),
    ("2024/25", "capacity_access_improvement", "1.392", "annual", "C2", "adjusted", None),
    ("2024/25", "network_participation", "0.147", "monthly", "S", "weighted", None),
    ("2025/26", "core_pcn_funding_registered", "2.266", "annual", "C", "registered", None),
    ("2025/26", "core_pcn_funding_adjusted", "0.733", "annual", "C", "adjusted", None),
    ("2025/26", "enhanced_access", "8.427", "annual", "C", "adjusted", None),
    ("2025/26", "care_home_premium", "130.253", "annual", "C", "beds", None),
    ("2025/26", "capacity_access_support", "3.208", "annual", "C", "adjusted", None),
    ("2025/26", "capacity_access_improvement", "1.375", "annual", "C", "adjusted", None),
]


@pytest.mark.parametrize(("year", "sid", "rate", "period", "status", "basis", "months"), STREAMS)
def test_stream_figures_match_the_note(year, sid, rate, period, status, basis, months):
    rules = rules_for(year)
    stream = rules.stream(sid)
    assert stream.rate == Decimal(rate)
    assert str(stream.rate) == rate  # stored exactly as published, trailing zeros included
    assert (stream.rate_period, stream.status, stream.basis) == (period, status, basis)
    first, last = (months or f"{rules.start:%Y-%m}..{rules.end:%Y-%m}").split("..")
    assert (f"{stream.start:%Y-%m}", f"{stream.end:%Y-%m}") == (first, last)


def test_2019_20_clinical_director_covers_nine_months():
    cd = rules_for("2019/20").stream("clinical_director")
    assert cd.rate == Decimal("0.51430") and cd.rate_period == "period"
    assert len(cd.months) == 9


def test_2020_21_care_home_premium_is_60_per_bed_for_eight_months():
    chp = rules_for("2020/21").stream("care_home_premium")
    assert (chp.rate, chp.rate_period, chp.basis) == (Decimal(60), "period", "beds")
    assert len(chp.months) == 8
    assert (chp.start, chp.end) == (dt.date(2020, 8, 1), dt.date(2021, 3, 1))
    assert "1 October 2020" in chp.note  # the conflicting [S12] start is explained


def test_network_participation_is_paid_to_practices():
    for year in YEARS:
        npp = rules_for(year).stream("network_participation")
        assert (npp.payee, npp.basis) == ("practice", "weighted")
    for year in YEARS:
        rules = rules_for(year)
        others = [s for s in rules.streams.values() if s.id != "network_participation"]
        assert {s.payee for s in others} == {"pcn"}, year


def test_2024_25_and_2025_26_core_funding_parts_add_up_to_the_published_totals():
    r24, r25 = rules_for("2024/25"), rules_for("2025/26")
    assert "core_pcn_funding" not in r24.streams and "core_pcn_funding" not in r25.streams
    total24 = r24.stream("core_pcn_funding_registered").rate
    total24 += r24.stream("core_pcn_funding_adjusted").rate
    total25 = r25.stream("core_pcn_funding_registered").rate
    total25 += r25.stream("core_pcn_funding_adjusted").rate
    assert (total24, total25) == (Decimal("2.916"), Decimal("2.999"))
    # The September 2024 uplift to £2.967 has an unconfirmed split, so it is only described.
    assert "2.967" in r24.stream("core_pcn_funding_registered").note


def test_2024_25_backdated_uplifts_are_derived_streams():
    rules = rules_for("2024/25")
    for base, uplift, total in [
        ("enhanced_access", "enhanced_access_uplift", "7.975"),
        ("care_home_premium", "care_home_premium_uplift", "127.20"),
    ]:
        b, u = rules.stream(base), rules.stream(uplift)
        assert b.rate + u.rate == Decimal(total)
        assert u.status == "D" and u.basis == b.basis
        assert (u.start, u.end) == (b.start, b.end)  # backdated to 1 April 2024
        assert u.first_payment == dt.date(2024, 9, 1)


def test_streams_without_a_figure_are_left_out():
    assert "capacity_access_support" not in rules_for("2022/23").streams
    assert "extended_hours" not in rules_for("2023/24").streams  # replaced by enhanced access
    assert "pcn_support" not in rules_for("2021/22").streams


ARRS = [
    ("2020/21", "7.131", "S"),
    ("2021/22", None, "U"),  # not confirmed: no rate, so no budget (see the note)
    ("2022/23", "16.696", "U"),
    ("2023/24", "22.671", "C"),
    ("2024/25", "22.894", "C2"),
    ("2025/26", "26.631", "C"),
]


@pytest.mark.parametrize(("year", "rate", "status"), ARRS)
def test_arrs_rate_per_weighted_patient(year, rate, status):
    arrs = rules_for(year).arrs
    assert arrs.method == "per_weighted_patient"
    assert arrs.rate_per_weighted_patient == (Decimal(rate) if rate else None)
    assert arrs.status == status


def test_2021_22_arrs_rate_is_not_invented():
    arrs = rules_for("2021/22").arrs
    assert not arrs.confirmed and arrs.rate_per_weighted_patient is None
    assert "not confirmed" in arrs.note and "£746m" in arrs.note


def test_a_per_weighted_patient_rate_may_be_left_out_only_when_unconfirmed():
    text = (
        rules_file("2020/21")
        .read_text(encoding="utf-8")
        .replace('  rate_per_weighted_patient: "7.131"\n', "")
    )
    with pytest.raises(InputError, match="leave it out only with status U"):
        parse_rules(text, "2020-21.yaml")


ROLES = [
    ("2019/20", "social_prescribing_link_worker", "34113", "C"),
    ("2020/21", "clinical_pharmacist", "55670", "C2"),
    ("2020/21", "nursing_associate", "29135", "C"),
    ("2020/21", "care_coordinator", None, "U"),
    ("2021/22", "advanced_practitioner", "62705", "C"),
    ("2021/22", "clinical_pharmacist", None, "U"),
    ("2022/23", "social_prescribing_link_worker", "36428", "S"),
    ("2023/24", "clinical_pharmacist", "62340", "C"),  # after the 1 July 2023 uplift
    ("2023/24", "social_prescribing_link_worker", "40159", "C2"),
    ("2024/25", "advanced_practitioner", "72141", "C"),  # after the 1 October 2024 uplift
    ("2024/25", "general_practitioner", "92462", "C"),
    ("2025/26", "consultant_nurse", "102683", "C"),
    ("2025/26", "general_practice_nurse_experienced", "53319", "C"),
    ("2025/26", "clinical_pharmacist", None, "U"),
]


@pytest.mark.parametrize(("year", "role", "maximum", "status"), ROLES)
def test_arrs_role_maxima(year, role, maximum, status):
    r = rules_for(year).arrs.roles[role]
    assert r.max_per_wte == (Decimal(maximum) if maximum else None)
    assert r.status == status


def test_roles_not_in_the_scheme_that_year_are_absent():
    assert "advanced_practitioner" not in rules_for("2020/21").arrs.roles
    assert "general_practitioner" not in rules_for("2023/24").arrs.roles
    assert "consultant_nurse" not in rules_for("2024/25").arrs.roles


IIF = [
    ("2019/20", None),
    ("2020/21", (194, "111", "C2")),
    ("2021/22", (225, "200", "C2")),
    ("2022/23", (None, None, "U")),
    ("2023/24", (None, None, "U")),
    ("2024/25", (58, "198", "C2")),
    ("2025/26", (None, None, "U")),  # an IIF ran (CAN-04 is sourced); its point value is U
]


@pytest.mark.parametrize(("year", "expected"), IIF)
def test_iif_mechanics(year, expected):
    iif = rules_for(year).iif
    if expected is None:
        assert iif is None
        return
    points, value, status = expected
    assert iif.max_points == points
    assert iif.point_value == (Decimal(value) if value else None)
    assert iif.status == status


# --- unknown years ---------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["2018/19", "2026-27", "not a year"])
def test_unknown_year_lists_the_known_years(year):
    with pytest.raises(BadValue) as caught:  # a value the user chose, named for the shells
        rules_for(year)
    assert caught.value.field == "year"
    message = str(caught.value)
    for known in YEARS:
        assert known in message


def test_year_spellings_agree():
    assert rules_for("2023-24") is rules_for("2023/24") is rules_for("2324")


# --- scenarios -------------------------------------------------------------------------------


def scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(body, encoding="utf-8")
    return path


HAVERING = """\
pcnkit: scenario
name: Havering paper, July 2019
year: 2019/20
streams:
  clinical_director: {rate: "0.514", note: the paper truncated £0.51430}
"""


def test_scenario_overrides_a_rate_and_keeps_the_official_rules(tmp_path):
    official = rules_for("2019/20")
    rules = apply_scenario(official, scenario(tmp_path, HAVERING))
    assert rules.scenario == "Havering paper, July 2019"
    assert rules.official is official
    assert rules.stream("clinical_director").rate == Decimal("0.514")
    assert "the paper truncated" in rules.stream("clinical_director").note
    assert rules.official.stream("clinical_director").rate == Decimal("0.51430")
    # Nothing else changes, and the cached official rules are untouched.
    assert rules.stream("clinical_director").months == official.stream("clinical_director").months
    for sid in ("core_pcn_funding", "extended_hours", "network_participation"):
        assert rules.stream(sid) == official.stream(sid)
    assert rules_for("2019/20").stream("clinical_director").rate == Decimal("0.51430")
    assert rules_for("2019/20").official is None


@pytest.mark.parametrize(
    ("streams", "named"),
    [
        ('  no_such_stream: {rate: "1"}', "no_such_stream"),
        ("  clinical_director: {status: C}", "clinical_director.status"),
        ("  clinical_director: {basis: weighted}", "clinical_director.basis"),
        ('  clinical_director: {rate: "0.514", source: my paper}', "clinical_director.source"),
    ],
)
def test_scenario_refuses_what_it_cannot_override(tmp_path, streams, named):
    body = f"pcnkit: scenario\nname: bad\nyear: 2019/20\nstreams:\n{streams}\n"
    with pytest.raises(InputError) as caught:
        apply_scenario(rules_for("2019/20"), scenario(tmp_path, body))
    assert named in str(caught.value)


HEAD = "pcnkit: scenario\nname: x\n"
CD = HEAD + "year: 2019/20\nstreams:\n  clinical_director: "


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("name: x\nyear: 2019/20\nstreams: {}\n", "pcnkit: scenario"),
        (HEAD + "year: 2020/21\nstreams: {}\n", "scenario.year"),
        (HEAD + "year: someday\nstreams: {}\n", "scenario.year"),
        (CD + "{rate: 0.514}\n", "clinical_director.rate"),  # a float is inexact: quote it
        (CD + "{end: 2020-06}\n", "clinical_director.end"),  # beyond the year
        (CD + "{start: 2019-12, end: 2019-09}\n", "clinical_director.end"),  # ends before start
    ],
)
def test_scenario_errors_name_the_problem(tmp_path, body, named):
    with pytest.raises(InputError) as caught:
        apply_scenario(rules_for("2019/20"), scenario(tmp_path, body))
    assert named in str(caught.value)


def test_scenario_may_shorten_a_stream_inside_the_year(tmp_path):
    body = HAVERING.replace('{rate: "0.514", note: the paper truncated £0.51430}', "{end: 2019-12}")
    rules = apply_scenario(rules_for("2019/20"), scenario(tmp_path, body))
    assert len(rules.stream("clinical_director").months) == 6


# --- who wrote the rules, and their review ---------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
def test_every_rules_file_says_who_wrote_it_and_when_it_was_reviewed(year):
    review = rules_for(year).review
    assert review.authored_by.startswith("pcnkit maintainers")
    # nobody but the authors has checked the shipped files: that is said, never dressed up
    assert review.reviewed_on is None and review.reviewed_by is None
    assert not review.due(review.next_review - dt.timedelta(days=1))
    assert review.due(review.next_review)
    assert review.text() == (
        f"written by {review.authored_by}; NO INDEPENDENT REVIEW RECORDED; "
        f"next review by {review.next_review:%-d %B %Y}"
    )


def test_a_recorded_review_is_read_and_shown():
    text = rules_file("2019/20").read_text(encoding="utf-8")
    changed = text.replace(NO_REVIEW, "reviewed: {date: 2026-11-23, by: A Reviewer}", 1)
    assert changed != text
    review = parse_rules(changed, "2019-20.yaml").review
    assert (review.reviewed_on, review.reviewed_by) == (dt.date(2026, 11, 23), "A Reviewer")
    assert "; reviewed 23 November 2026 by A Reviewer; next review by 1 April 2027" in (
        review.text()
    )


AUTHORED = "authored_by: pcnkit maintainers (from shared/domain/funding-rules.md)"
NO_REVIEW = "reviewed: null"


@pytest.mark.parametrize(
    ("line", "instead", "column", "problem"),
    [
        (AUTHORED, "authored_by: ", "rules.authored_by", "is missing"),
        (AUTHORED, "authored_by: 5", "rules.authored_by", "must be a name"),
        ("next_review: 2027-04-01", "", "rules.next_review", "is missing"),
        (NO_REVIEW, "reviewed: {date: 2027-05-01, by: x}", "rules.next_review", "not after"),
        (
            NO_REVIEW,
            "reviewed: {date: 2026-11-23}",
            "rules.reviewed.by",
            "is missing",
        ),
        (
            NO_REVIEW,
            "reviewed: {date: 2026-11-23, by: x, when: y}",
            "rules.reviewed.when",
            "is not a review field",
        ),
        (
            NO_REVIEW,
            "reviewed: {date: 2026-11-31, by: x}",
            "rules.reviewed.date",
            "'2026-11-31' is not a date",
        ),
        (
            NO_REVIEW,
            "reviewed: 2026-11-23",
            None,
            "rules.reviewed is not a mapping",
        ),
        (NO_REVIEW, "", "rules.reviewed", "is missing"),
    ],
)
def test_review_fields_are_required_and_checked(line, instead, column, problem):
    text = rules_file("2019/20").read_text(encoding="utf-8")
    changed = text.replace(line, instead, 1)
    assert changed != text
    with pytest.raises(InputError, match=problem) as info:
        parse_rules(changed, "2019-20.yaml")
    assert info.value.column == column


def test_the_workbook_cover_shows_the_rules_review():
    from pcnkit.funding.entitlements import Total
    from pcnkit.funding.export import cover

    rules = rules_for("2019/20")
    rows = dict(cover("U00367", rules, dt.date(2020, 1, 1), Total(Decimal("1")), [], set()))
    assert rows["Rules review"] == rules.review.text()
