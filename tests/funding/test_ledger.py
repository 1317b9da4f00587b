"""The payment ledger on SQLite and PostgreSQL: idempotent runs, adjustments, append-only."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from pcnkit.errors import InputError
from pcnkit.funding import ledger
from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import from_csv
from pcnkit.funding.rules import rules_for
from pcnkit.store.models import PaymentLine, PaymentRun

D = dt.date
RULES = rules_for("2019/20")


def lines_for(tmp_path, registered="49477", name="lists.csv"):
    lists = tmp_path / name
    lists.write_text(f"pcn_code,registered,weighted\nU51307,{registered},42502.6008\n")
    return entitlements(from_csv(lists, RULES.start, RULES.list_reference_date), RULES)


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_a_month_is_paid_once(workspace, tmp_path):
    lines = lines_for(tmp_path)
    with workspace.transaction() as s:
        first = ledger.run_month(s, RULES, lines, D(2019, 7, 1), "lists.csv")
    core = next(x for x in first.lines if x.stream == "core_pcn_funding")
    assert (core.kind, core.amount) == ("payment", Decimal("24738.50"))  # April-July catch-up
    assert {x.stream for x in first.lines} == {
        "core_pcn_funding",
        "clinical_director",
        "extended_hours",
        "network_participation",
    }
    with workspace.transaction() as s:
        again = ledger.run_month(s, RULES, lines, D(2019, 7, 1), "lists.csv")
        assert again.lines == [] and again.run_id is None
        assert count(s, PaymentRun) == 1
        assert count(s, PaymentLine) == len(first.lines)


def test_a_restated_list_produces_an_adjustment_not_a_rewrite(workspace, tmp_path):
    with workspace.transaction() as s:
        ledger.run_month(s, RULES, lines_for(tmp_path), D(2019, 7, 1), "v1")
    restated = lines_for(tmp_path, registered="50477", name="restated.csv")
    with workspace.transaction() as s:
        august = ledger.run_month(s, RULES, restated, D(2019, 8, 1), "v2")
    core = [x for x in august.lines if x.stream == "core_pcn_funding"]
    kinds = {x.kind: x.amount for x in core}
    # 1,000 more patients x £1.50 x 4/12 for April-July, which July already paid on the old list
    assert kinds["adjustment"] == Decimal("500.00")
    assert kinds["payment"] == Decimal("6309.63")  # August on 50,477: 50,477 x 1.5 / 12, rounded
    assert "restated" in next(x.reason for x in core if x.kind == "adjustment")
    with workspace.sessions() as s:
        july = s.scalars(select(PaymentLine).where(PaymentLine.payment_month == D(2019, 7, 1)))
        assert {x.amount for x in july if x.stream == "core_pcn_funding"} == {Decimal("24738.50")}


def test_paying_every_month_settles_the_year(workspace, tmp_path):
    lines = lines_for(tmp_path)
    with workspace.transaction() as s:
        for m in range(7, 13):
            ledger.run_month(s, RULES, lines, D(2019, m, 1), "lists")
        for m in range(1, 7):
            ledger.run_month(s, RULES, lines, D(2020, m, 1), "lists")
        status = ledger.against_entitlement(s, lines)
    assert all(x.outstanding == 0 for x in status)
    assert sum(x.paid for x in status) == sum(x.amount for x in lines)


def test_the_ledger_is_append_only(workspace, tmp_path):
    with workspace.transaction() as s:
        ledger.run_month(s, RULES, lines_for(tmp_path), D(2019, 7, 1), "lists")
    for statement in (
        update(PaymentLine).values(amount=0),
        delete(PaymentLine),
        delete(PaymentRun),
    ):
        with pytest.raises(DBAPIError, match="append-only"), workspace.transaction() as s:
            s.execute(statement)
    with workspace.sessions() as s:
        assert s.scalar(text("select count(*) from payment_line where amount = 0")) == 0


def test_a_correction_is_a_new_line_with_its_reason(workspace, tmp_path):
    with workspace.transaction() as s:
        ledger.run_month(s, RULES, lines_for(tmp_path), D(2019, 7, 1), "lists")
        august = (s, "2019/20", D(2019, 8, 1), "U51307", "U51307", "core_pcn_funding")
        ledger.correct(*august, Decimal("-10.00"), "duplicate payment recovered")
        with pytest.raises(InputError, match="Say why"):
            ledger.correct(*august, Decimal("1"), " ")
        paid = ledger.paid_to_date(s, "2019/20")
    assert paid[("U51307", "U51307", None, "core_pcn_funding")] == Decimal("24728.50")


def test_a_month_outside_the_year_is_refused(workspace, tmp_path):
    with workspace.transaction() as s, pytest.raises(InputError, match="not a payment month"):
        ledger.run_month(s, RULES, lines_for(tmp_path), D(2020, 9, 1), "lists")
