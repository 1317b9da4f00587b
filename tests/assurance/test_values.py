"""Indicator values: sums of numerators over sums of denominators at each period, with the
registry's membership at that period; England published or summed; nothing silently zero."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal as D

import pandas as pd
import pytest
from sqlalchemy import func, select

from conftest import load
from pcnkit.assurance import definitions
from pcnkit.assurance.frame import Frame
from pcnkit.assurance.membership import Tree
from pcnkit.assurance.observations import ENGLAND, ObservationBatch, ObservationRecord
from pcnkit.assurance.store import store_batches
from pcnkit.assurance.values import Assurance
from pcnkit.dates import Period, month_end
from pcnkit.errors import InputError
from pcnkit.store.models import Observation, SourceFile

REGISTRY = """\
pcnkit: definitions
publisher: test
as_of: 2024-01-01
organisations:
  - {code: A00001, kind: practice, name: Alpha Surgery}
  - {code: A00002, kind: practice, name: Beta Surgery}
  - {code: A00003, kind: practice, name: Gamma Surgery}
  - {code: A00004, kind: practice, name: Delta Surgery}
  - code: U00001
    kind: pcn
    name: North PCN
    members:
      - {code: A00001, from: 2023-01-01}
      - {code: A00002, from: 2023-01-01}
      - {code: A00003, from: 2024-03-01}
  - code: U00002
    kind: pcn
    name: South PCN
    members:
      - {code: A00003, from: 2023-01-01, to: 2024-02-29}
      - {code: A00004, from: 2023-01-01}
  - code: PL-1
    kind: place
    name: The Place
    members:
      - {code: U00001, from: 2023-01-01}
      - {code: U00002, from: 2023-01-01}
"""
LISTS = {"A00001": 1000, "A00002": 9000, "A00003": 2000, "A00004": 4000}


def month(year: int, m: int) -> Period:
    start = dt.date(year, m, 1)
    return Period(start, month_end(start))


def indicator(tmp_path, text: str, name: str = "test_indicator") -> definitions.Indicator:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"id: {name}\nversion: 1\ntitle: A test\nshort_title: Test\ndescription: d\n"
        "topic: Access\nlevels: [practice, pcn, place, nation]\nsources: [test]\n"
        "disclosure: none\nlimits: none\nauthored_by: tests\nreviewed: null\n"
        "next_review: 2030-01-01\n" + text
    )
    return definitions.load_file(path)


RATE = """\
unit: percent
polarity: higher
periods: test-data.hits
numerator: {words: hits, sum: test-data.hits}
denominator: {words: tries, sum: test-data.tries}
"""


def batch(observations, sha="a" * 64, published=dt.date(2024, 6, 1), name="test.csv"):
    b = ObservationBatch(name, "test", "test-data", "Test publication", sha, published, "Tests")
    b.observations = list(observations)
    b.rows = len(b.observations)
    return b


def obs(code, measure, period, value, kind="practice", row=None, label=None):
    value = None if value is None else D(value)
    return ObservationRecord(code, kind, measure, period, value, label=label, row=row)


@pytest.fixture
def ws(tmp_path, workspace):
    (tmp_path / "defs.yaml").write_text(REGISTRY)
    lists = "practice_code,as_of,registered\n" + "".join(
        f"{code},2024-01-15,{n}\n" for code, n in LISTS.items()
    )
    (tmp_path / "lists.csv").write_text(lists)
    load(workspace, tmp_path / "defs.yaml", tmp_path / "lists.csv")
    return workspace


def store(ws, *batches):
    with ws.transaction() as session:
        return store_batches(session, batches)


def values(ws, ind):
    with ws.transaction() as session:
        return Assurance.load(session, (ind,)).values(ind)


def one(v, org, period):
    rows = v[(v["org"] == org) & (v["start"] == pd.Timestamp(period.start))]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_a_pcn_sums_its_members_at_each_period(ws, tmp_path):
    """A00003 moves from South to North PCN on 1 March 2024: February counts it in South,
    March in North; the place counts it once either way."""
    ind = indicator(tmp_path, RATE)
    feb, mar = month(2024, 2), month(2024, 3)
    rows = []
    for p in (feb, mar):
        rows += [obs("A00001", "hits", p, 10), obs("A00001", "tries", p, 100)]
        rows += [obs("A00002", "hits", p, 90), obs("A00002", "tries", p, 900)]
        rows += [obs("A00003", "hits", p, 50), obs("A00003", "tries", p, 100)]
        rows += [obs("A00004", "hits", p, 0), obs("A00004", "tries", p, 200)]
    store(ws, batch(rows))
    v = values(ws, ind)
    north_feb, north_mar = one(v, "U00001", feb), one(v, "U00001", mar)
    assert (north_feb.numerator, north_feb.denominator) == (100, 1000)
    assert (north_mar.numerator, north_mar.denominator) == (150, 1100)
    assert one(v, "U00002", feb).numerator == 50
    assert one(v, "U00002", mar).numerator == 0
    assert one(v, "PL-1", feb).denominator == one(v, "PL-1", mar).denominator == 1300
    # the sum of numerators over the sum of denominators, never the mean of the rates (which
    # would be (10% + 10%) / 2 = 10% in February: here 100 / 1000 is 10% too, but with
    # A00003 in March the mean of rates is 23.3%, the true rate 13.6%)
    assert north_mar.value == pytest.approx(150 / 1100 * 100)
    assert (north_mar.units, north_mar.members) == (3, 3)


def test_a_member_without_figures_is_left_out_and_counted_in_the_coverage(ws, tmp_path):
    ind = indicator(tmp_path, RATE)
    p = month(2024, 3)
    store(ws, batch([obs("A00001", "hits", p, 5), obs("A00001", "tries", p, 10)]))
    north = one(values(ws, ind), "U00001", p)
    assert (north.numerator, north.denominator, north.units, north.members) == (5, 10, 1, 3)


def test_a_zero_denominator_is_not_a_value(ws, tmp_path):
    ind = indicator(tmp_path, RATE)
    p = month(2024, 3)
    store(ws, batch([obs("A00004", "hits", p, 0), obs("A00004", "tries", p, 0)]))
    row = one(values(ws, ind), "A00004", p)
    assert math.isnan(row.value)
    assert row.reason == "the denominator is zero"


def test_a_labelled_count_out_of_those_rated(ws, tmp_path):
    ind = indicator(
        tmp_path,
        """\
unit: percent
polarity: higher
periods: test-data.rating
numerator: {words: good, count: test-data.rating, labels: [Good, Outstanding]}
denominator: {words: rated, count: test-data.rating}
""",
    )
    day = Period(dt.date(2024, 4, 1), dt.date(2024, 4, 1))
    store(
        ws,
        batch(
            [
                obs("A00001", "rating", day, None, label="Good"),
                obs("A00002", "rating", day, None, label="Requires improvement"),
                obs("A00003", "rating", day, None, label="Outstanding"),
            ]
        ),
    )
    v = values(ws, ind)
    north = one(v, "U00001", day)  # A00003 joined North in March
    assert (north.numerator, north.denominator) == (2, 3)
    # A00004 has no rating: South has nothing to count, so no value (not 0%)
    assert not (v["org"] == "U00002").any()


def test_patients_at_practices_meeting_a_condition(ws, tmp_path):
    """Online consultation access: patients at practices with submissions above 0, out of all
    registered patients; a practice absent from the month's table counts 0 in the numerator."""
    ind = indicator(
        tmp_path,
        """\
unit: percent
polarity: higher
periods: test-data.submissions
numerator:
  words: patients at practices receiving
  patients: registered
  where: {measure: test-data.submissions, above: 0}
denominator: {words: all patients, patients: registered}
""",
    )
    p = month(2024, 3)
    store(ws, batch([obs("A00001", "submissions", p, 12), obs("A00002", "submissions", p, 0)]))
    north = one(values(ws, ind), "U00001", p)
    assert (north.numerator, north.denominator) == (1000, 12000)


def test_a_list_more_than_a_year_away_does_not_stand_for_the_period(ws, tmp_path):
    ind = indicator(
        tmp_path,
        """\
unit: per_1000
polarity: neither
periods: test-data.submissions
numerator: {words: submissions, sum: test-data.submissions}
denominator: {words: patients, patients: registered, where: {measure: test-data.submissions}}
""",
    )
    near, far = month(2024, 3), month(2025, 6)  # lists are as at 15 January 2024
    store(
        ws,
        batch([obs("A00001", "submissions", near, 50), obs("A00001", "submissions", far, 60)]),
    )
    v = values(ws, ind)
    assert one(v, "A00001", near).value == pytest.approx(50)  # 50 per 1,000 patients
    # no list within a year of June 2025: the practice has no value then (not a rate on 0)
    assert not ((v["org"] == "A00001") & (v["start"] == pd.Timestamp(far.start))).any()


def test_the_newest_publication_wins_and_the_older_stays_traceable(ws, tmp_path):
    ind = indicator(tmp_path, RATE)
    p = month(2024, 3)
    first = batch(
        [obs("A00001", "hits", p, 1, row=5), obs("A00001", "tries", p, 10, row=5)],
        sha="1" * 64,
        published=dt.date(2024, 3, 1),
        name="march.xlsx",
    )
    revised = batch(
        [obs("A00001", "hits", p, 3, row=9), obs("A00001", "tries", p, 10, row=9)],
        sha="2" * 64,
        published=dt.date(2024, 4, 1),
        name="april.xlsx",
    )
    store(ws, revised, first)  # load order does not matter: publication date does
    row = one(values(ws, ind), "A00001", p)
    assert row.numerator == 3 and (row.row_min, row.row_max) == (9, 9)
    with ws.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) == 4


def test_england_is_the_published_figure_where_the_publication_prints_one(ws, tmp_path):
    ind = indicator(tmp_path, RATE)
    p = month(2024, 3)
    store(
        ws,
        batch(
            [
                obs("A00001", "hits", p, 1),
                obs("A00001", "tries", p, 10),
                obs(ENGLAND, "hits", p, 700, kind="nation", row=12),
                obs(ENGLAND, "tries", p, 1000, kind="nation", row=12),
            ]
        ),
    )
    eng = one(values(ws, ind), ENGLAND, p)
    assert (eng.value, eng.basis) == (70, "published")


def test_england_is_not_summed_from_a_few_practices_lists(ws, tmp_path):
    """A workspace holding lists for its own area cannot sum England's patients."""
    ind = indicator(
        tmp_path,
        """\
unit: percent
polarity: higher
periods: test-data.submissions
numerator:
  words: patients at practices receiving
  patients: registered
  where: {measure: test-data.submissions, above: 0}
denominator: {words: all patients, patients: registered}
""",
    )
    p = month(2024, 3)
    others = [obs(f"Z{n:05d}", "submissions", p, 1) for n in range(100)]
    store(ws, batch([obs("A00001", "submissions", p, 12), *others]))
    eng = one(values(ws, ind), ENGLAND, p)
    assert math.isnan(eng.value)
    assert "too few" in eng.reason and "England" in eng.reason


def test_england_is_not_one_areas_sum_when_the_publication_covers_england(ws, tmp_path):
    """The demo's cut files: four practices' figures, while the publication's England table
    counts 6,208 open practices. England's sum of four practices is not England."""
    ind = indicator(tmp_path, RATE)
    p = month(2024, 3)
    rows = [obs(c, m, p, 5) for c in ("A00001", "A00002") for m in ("hits", "tries")]
    rows.append(obs(ENGLAND, "open_practices", p, 6208, kind="nation"))
    store(ws, batch(rows))
    with ws.transaction() as session:
        measures = {*ind.measures, ("test-data", "open_practices")}
        found = Assurance(Frame.load(session, ind.datasets, measures), Tree(session)).values(ind)
    eng = one(found, ENGLAND, p)
    assert math.isnan(eng.value)
    assert eng.reason.startswith("the figures loaded cover 2 of England's 6,208 practices")
    assert one(found, "U00001", p).value == 100  # the area's own figures stand


def test_pcn_level_figures_roll_up_through_member_practices(ws, tmp_path):
    ind = indicator(
        tmp_path,
        """\
unit: per_10000
polarity: higher
periods: test-data.fte
numerator: {words: fte, sum: test-data.fte}
denominator: {words: patients, patients: registered, where: {measure: test-data.fte}}
""",
    )
    day = Period(dt.date(2024, 3, 31), dt.date(2024, 3, 31))
    store(
        ws,
        batch([obs("U00001", "fte", day, 6, kind="pcn"), obs("U00002", "fte", day, 2, kind="pcn")]),
    )
    v = values(ws, ind)
    assert one(v, "U00001", day).numerator == 6
    assert one(v, "PL-1", day).numerator == 8


def test_a_load_is_all_or_nothing_and_a_file_loads_once(ws):
    p = month(2024, 3)
    good = batch([obs("A00001", "hits", p, 1)], sha="3" * 64)
    clash = batch(
        [obs("A00001", "hits", p, 1), obs("A00001", "hits", p, 2)], sha="4" * 64
    )  # the same figure twice in one file: the database refuses it
    with pytest.raises(Exception):  # noqa: B017 - the driver's integrity error
        store(ws, good, clash)
    with ws.transaction() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(SourceFile).where(SourceFile.sha256 == "3" * 64)
            )
            == 0
        )
    assert store(ws, good)[0].status == "loaded"
    assert store(ws, good)[0].status == "already loaded: skipped"


def test_every_shipped_indicator_names_measures_an_importer_produces():
    from pcnkit.assurance.loading import datasets

    known = datasets()
    shipped = definitions.load_all()
    assert len(shipped) >= 40
    for ind in shipped:
        definitions.check_known_measures(ind, known)


def test_a_definition_naming_an_unknown_measure_is_refused(tmp_path):
    ind = indicator(tmp_path, RATE)
    with pytest.raises(InputError, match=r"names test-data\.hits, which no importer produces"):
        definitions.check_known_measures(ind, {"test-data": {"tries": "t"}})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "unit: percent",
            "unit: furlongs",
        ),
        ("polarity: higher", "polarity: upwards"),
        ("periods: test-data.hits", "periods: hits"),
        ("numerator: {words: hits, sum: test-data.hits}", "numerator: {words: hits}"),
    ],
)
def test_a_bad_definition_names_its_key(tmp_path, change, message):
    with pytest.raises(InputError) as caught:
        indicator(tmp_path, RATE.replace(change, message))
    key = message.split(":")[0]
    assert f"indicator.{key}" in str(caught.value)


def test_the_parquet_copy_is_rebuilt_when_the_table_changes_and_a_damaged_one_ignored(ws, tmp_path):
    ind = indicator(tmp_path, RATE)
    p, q = month(2024, 3), month(2024, 4)
    snapshot = tmp_path / "snap" / "observations.parquet"
    store(ws, batch([obs("A00001", "hits", p, 1), obs("A00001", "tries", p, 10)], sha="5" * 64))
    with ws.transaction() as session:
        first = Assurance.load(session, (ind,), snapshot=snapshot).values(ind)
    assert snapshot.exists() and (first["org"] == "A00001").sum() == 1
    store(ws, batch([obs("A00001", "hits", q, 2), obs("A00001", "tries", q, 10)], sha="6" * 64))
    with ws.transaction() as session:
        second = Assurance.load(session, (ind,), snapshot=snapshot).values(ind)
    assert (second["org"] == "A00001").sum() == 2  # the new month is seen: the copy was stale
    snapshot.write_bytes(b"not parquet")
    with ws.transaction() as session:
        third = Assurance.load(session, (ind,), snapshot=snapshot).values(ind)
    assert third[["org", "start", "value"]].equals(second[["org", "start", "value"]])


STRADDLING = """\
pcnkit: definitions
publisher: test
as_of: 2024-01-01
organisations:
  - {code: B00001, kind: practice, name: One}
  - {code: B00002, kind: practice, name: Two}
  - {code: B00003, kind: practice, name: Three}
  - code: U00009
    kind: pcn
    name: Straddling PCN
    members: [{code: B00001, from: 2023-01-01}, {code: B00003, from: 2023-01-01}]
  - code: U00008
    kind: pcn
    name: Inside PCN
    members: [{code: B00002, from: 2023-01-01}]
  - code: PL-A
    kind: place
    name: Place A
    members: [{code: B00001, from: 2023-01-01}, {code: B00002, from: 2023-01-01}]
  - code: PL-B
    kind: place
    name: Place B
    members: [{code: B00003, from: 2023-01-01}]
"""


def test_a_pcn_level_figure_counts_only_in_areas_containing_the_whole_pcn(tmp_path, workspace):
    """The registry's containment rule: an area contains a PCN when all its member practices
    are in the area. A PCN straddling two places adds its census to neither."""
    (tmp_path / "defs.yaml").write_text(STRADDLING)
    lists = "practice_code,as_of,registered\n" + "".join(
        f"{c},2024-01-15,1000\n" for c in ("B00001", "B00002", "B00003")
    )
    (tmp_path / "lists.csv").write_text(lists)
    load(workspace, tmp_path / "defs.yaml", tmp_path / "lists.csv")
    ind = indicator(
        tmp_path,
        """\
unit: per_10000
polarity: higher
periods: test-data.fte
numerator: {words: fte, sum: test-data.fte}
denominator: {words: patients, patients: registered, where: {measure: test-data.fte}}
""",
    )
    day = Period(dt.date(2024, 3, 31), dt.date(2024, 3, 31))
    store(
        workspace,
        batch([obs("U00009", "fte", day, 4, kind="pcn"), obs("U00008", "fte", day, 1, kind="pcn")]),
    )
    v = values(workspace, ind)
    assert one(v, "PL-A", day).numerator == 1  # the inside PCN only
    assert not (v["org"] == "PL-B").any()
