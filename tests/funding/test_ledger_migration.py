"""Issue 10 item 9: migration 0006 carries an existing ledger across exactly (SQLite held its
amounts as binary floats), keeps the duplicate payments the concurrency defect wrote (the ledger
is append-only) while refusing new ones, and refuses a ledger holding an absurd amount."""

import datetime as dt
from decimal import Decimal

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from pcnkit.store.db import MIGRATIONS, make_engine, migrate
from pcnkit.store.models import PaymentLine, PaymentRun

JULY = dt.date(2019, 7, 1)
NOW = dt.datetime(2020, 1, 1, 9, 0)
LEGACY = [  # run, amount as the old schema held it, kind
    (1, 0.1 + 0.2, "payment"),
    (1, 24738.5, "payment"),
    (1, 999999999.99, "payment"),
    (2, 0.1 + 0.2, "payment"),  # July written twice by two runs at once
    (2, -0.07, "adjustment"),
]


def at_0004(url):
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0004")
    return engine


def legacy_ledger(engine, lines):
    with engine.begin() as c:
        for run in (1, 2):
            c.execute(
                text(
                    "INSERT INTO payment_run (id, year, month, created_at, rules, inputs, note) "
                    "VALUES (:id, '2019/20', :m, :t, 'r', 'i', '')"
                ),
                {"id": run, "m": JULY, "t": NOW},
            )
        for i, (run, amount, kind) in enumerate(lines):
            c.execute(
                text(
                    "INSERT INTO payment_line (run_id, year, payment_month, payee_code, pcn_code,"
                    " practice_code, stream, kind, amount, rule_id, confirmed, reason, created_at)"
                    " VALUES (:run, '2019/20', :m, 'U51307', 'U51307', NULL, :stream, :kind,"
                    " :amount, 'x', true, '', :t)"
                ),
                {
                    "run": run,
                    "m": JULY,
                    "stream": "core_pcn_funding" if amount < 1 else f"stream{i}",
                    "kind": kind,
                    "amount": amount,
                    "t": NOW,
                },
            )


def test_an_existing_ledger_is_carried_across_exactly(db_url):
    engine = at_0004(db_url)
    try:
        legacy_ledger(engine, LEGACY)
        migrate(engine)
        with engine.connect() as c:
            lines = c.execute(select(PaymentLine).order_by(PaymentLine.id)).all()
            assert [x.amount for x in lines] == [
                Decimal("0.30"),
                Decimal("24738.50"),
                Decimal("999999999.99"),
                Decimal("0.30"),
                Decimal("-0.07"),
            ]
            assert {x.for_month for x in lines} == {JULY}
            # the second July payment stays, amount and all, labelled for what it is
            assert [x.kind for x in lines] == ["payment"] * 3 + ["duplicate", "adjustment"]
            raw = c.execute(text("SELECT amount FROM payment_line ORDER BY id")).scalars().all()
            assert raw == [30, 2473850, 99999999999, 30, -7]
            runs = c.execute(select(PaymentRun.id, PaymentRun.revision)).all()
            assert sorted(runs) == [(1, 0), (2, 1)]
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(text("UPDATE payment_line SET amount = 0"))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(text("DELETE FROM payment_run"))
        # a further July payment is refused by the unique key
        duplicate = {
            "run_id": 2,
            "year": "2019/20",
            "payment_month": JULY,
            "for_month": JULY,
            "payee_code": "U51307",
            "pcn_code": "U51307",
            "practice_code": None,
            "stream": "core_pcn_funding",
            "kind": "payment",
            "amount": Decimal("0.30"),
            "rule_id": "x",
            "confirmed": True,
            "reason": "",
            "created_at": NOW,
        }
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(PaymentLine.__table__.insert(), [{**duplicate, "run_id": None}])
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(
                PaymentRun.__table__.insert(),
                [
                    {
                        "year": "2019/20",
                        "month": JULY,
                        "revision": 1,
                        "created_at": NOW,
                        "rules": "r",
                        "inputs": "i",
                        "note": "",
                    }
                ],
            )
    finally:
        engine.dispose()


def test_a_ledger_holding_an_absurd_amount_is_not_migrated_silently(tmp_path):
    engine = at_0004(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        legacy_ledger(engine, [(1, 3.1132999999999996e20, "payment")])
        with pytest.raises(RuntimeError, match=r"beyond ±£999999999999\.99") as refused:
            migrate(engine)
        assert "payment runs [1]" in str(refused.value)
        with engine.connect() as c:  # nothing changed: still at 0004, the amount as it was
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
            assert c.execute(text("SELECT amount FROM payment_line")).scalar() > 1e20
    finally:
        engine.dispose()
