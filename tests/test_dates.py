"""Time in one place: month arithmetic, Period's convention, and its SQL twins agreeing with it
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, Table, create_engine, insert, select

from pcnkit.dates import (
    Period,
    add_months,
    contract_year,
    contract_year_start,
    month_end,
    month_from_index,
    month_index,
    month_start,
    months_between,
    overlapping,
    valid_on,
    year_label,
)

D = dt.date


def test_add_months_clips_to_the_month_end():
    assert add_months(D(2020, 1, 1), -12) == D(2019, 1, 1)
    assert add_months(D(2020, 2, 29), -12) == D(2019, 2, 28)
    assert add_months(D(2020, 3, 31), -1) == D(2020, 2, 29)
    assert add_months(D(2020, 12, 31), -12) == D(2019, 12, 31)
    assert add_months(D(2019, 11, 15), 3) == D(2020, 2, 15)
    assert add_months(D(2019, 1, 31), 1) == D(2019, 2, 28)
    assert add_months(D(2019, 12, 1), 1) == D(2020, 1, 1)
    assert add_months(D(2020, 1, 1), -1) == D(2019, 12, 1)
    assert add_months(D(2020, 5, 17), 0) == D(2020, 5, 17)


def test_month_index_start_end():
    assert month_index(D(2020, 1, 31)) - month_index(D(2019, 12, 1)) == 1
    assert month_from_index(month_index(D(2020, 7, 19))) == D(2020, 7, 1)
    assert month_from_index(month_index(D(2019, 12, 5)) + 1) == D(2020, 1, 1)
    assert month_start(D(2020, 2, 29)) == D(2020, 2, 1)
    assert month_end(D(2020, 2, 3)) == D(2020, 2, 29)
    assert month_end(D(2019, 2, 3)) == D(2019, 2, 28)
    assert month_end(D(2019, 12, 3)) == D(2019, 12, 31)


def test_months_between_includes_both_ends():
    assert months_between(D(2019, 11, 1), D(2020, 2, 1)) == [
        D(2019, 11, 1),
        D(2019, 12, 1),
        D(2020, 1, 1),
        D(2020, 2, 1),
    ]
    assert months_between(D(2019, 4, 1), D(2019, 4, 1)) == [D(2019, 4, 1)]
    assert months_between(D(2019, 4, 1), D(2019, 3, 1)) == []
    assert len(months_between(D(2019, 4, 1), D(2020, 3, 1))) == 12


def test_contract_year_runs_april_to_march():
    year = contract_year(D(2019, 4, 1))
    assert year == Period(D(2019, 4, 1), D(2020, 3, 31))
    assert year.contains(D(2020, 3, 31)) and not year.contains(D(2020, 4, 1))


def test_period_contains_both_ends_and_open_ends():
    p = Period(D(2020, 1, 1), D(2020, 1, 31))
    assert p.contains(D(2020, 1, 1)) and p.contains(D(2020, 1, 31))
    assert not p.contains(D(2019, 12, 31)) and not p.contains(D(2020, 2, 1))
    assert Period(None, D(2020, 1, 31)).contains(D(1900, 1, 1))
    assert Period(D(2020, 1, 1), None).contains(D(2999, 1, 1))
    assert not Period(D(2020, 1, 1), None).contains(D(2019, 12, 31))
    assert Period().contains(D(2020, 6, 1))
    assert (Period().first, Period().last) == (dt.date.min, dt.date.max)


def test_period_overlaps():
    jan = Period(D(2020, 1, 1), D(2020, 1, 31))
    feb = Period(D(2020, 2, 1), D(2020, 2, 29))
    assert not jan.overlaps(feb) and not feb.overlaps(jan)  # end the day before: no overlap
    handover = Period(D(2020, 1, 31), D(2020, 2, 29))  # one shared day overlaps
    assert jan.overlaps(handover) and handover.overlaps(jan)
    assert jan.overlaps(Period(D(2020, 1, 10), D(2020, 1, 10)))
    assert jan.overlaps(Period()) and Period().overlaps(jan)
    assert Period(None, D(2020, 1, 1)).overlaps(jan)
    assert not Period(None, D(2019, 12, 31)).overlaps(jan)
    assert Period(D(2020, 1, 31), None).overlaps(jan)
    assert not Period(D(2020, 2, 1), None).overlaps(jan)


DAYS = [None, D(2020, 1, 1), D(2020, 1, 15), D(2020, 1, 31), D(2020, 2, 1)]
PERIODS = [Period(s, e) for s, e in itertools.product(DAYS, DAYS) if not (s and e and e < s)]


@pytest.fixture
def spans(db_url):
    """Every period over a few days (open ends included) in a table with start/end columns."""
    engine = create_engine(db_url)
    table = Table(
        "span",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("start", Date),
        Column("end", Date),
    )
    table.metadata.create_all(engine)
    with engine.begin() as c:
        c.execute(
            insert(table),
            [{"id": i, "start": p.start, "end": p.end} for i, p in enumerate(PERIODS)],
        )
    yield engine, table
    engine.dispose()


def test_valid_on_in_sql_agrees_with_contains(spans):
    engine, table = spans
    with engine.connect() as c:
        for day in [d for d in DAYS if d] + [D(2019, 12, 31)]:
            got = set(
                c.scalars(select(table.c.id).where(valid_on(table.c.start, table.c.end, day)))
            )
            assert got == {i for i, p in enumerate(PERIODS) if p.contains(day)}, day


def test_overlapping_in_sql_agrees_with_overlaps(spans):
    engine, table = spans
    with engine.connect() as c:
        for other in PERIODS:
            where = overlapping(table.c.start, table.c.end, other)
            got = set(c.scalars(select(table.c.id).where(where)))
            assert got == {i for i, p in enumerate(PERIODS) if p.overlaps(other)}, other


def test_contract_year_start_and_label():
    assert contract_year_start(D(2020, 1, 1)) == D(2019, 4, 1)
    assert contract_year_start(D(2020, 3, 31)) == D(2019, 4, 1)
    assert contract_year_start(D(2020, 4, 1)) == D(2020, 4, 1)
    assert year_label(D(2019, 4, 1)) == "2019/20"
    assert year_label(D(2099, 4, 1)) == "2099/00"
