"""Issue 10 items 8 and 9 on SQLite and PostgreSQL: an earlier month is refused unless restated,
a restatement adjusts that month alone, a run touches only its own PCNs, and money is stored
exactly (whole pence) with absurd amounts refused before anything is written."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from pcnkit.cli import app
from pcnkit.dates import months_between
from pcnkit.errors import InputError
from pcnkit.funding import ledger
from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import from_csv
from pcnkit.funding.rules import rules_for
from pcnkit.funding.schedule import pounds, schedule_table
from pcnkit.store.models import PaymentLine, PaymentRun

D = dt.date
RULES = rules_for("2019/20")
MONTHS = months_between(RULES.start, D(2020, 6, 1))


def lines_for(tmp_path, registered="49477", pcn="U51307", name="lists.csv"):
    lists = tmp_path / name
    lists.write_text(f"pcn_code,registered,weighted\n{pcn},{registered},42502.6008\n")
    return entitlements(from_csv(lists, RULES.start, RULES.list_reference_date), RULES)


def snapshot(session):
    t = PaymentLine.__table__.c
    return (
        session.scalar(select(func.count()).select_from(PaymentLine)),
        session.scalar(select(func.count()).select_from(PaymentRun)),
        session.scalar(select(func.sum(t.amount))),
    )


def pay_year(workspace, lines, inputs="v1"):
    for m in MONTHS:
        with workspace.transaction() as s:
            ledger.run_month(s, RULES, lines, m, inputs)


def scheduled(lines, month):
    return {k: pounds(row.get(month, 0)) for k, row in schedule_table(lines, RULES).items()}


# --- item 8: an earlier month ---------------------------------------------------------------


def test_an_earlier_month_is_refused_unless_restated(workspace, tmp_path):
    lines = lines_for(tmp_path)
    pay_year(workspace, lines)
    with workspace.sessions() as s:
        before = snapshot(s)
    with pytest.raises(InputError) as refused, workspace.transaction() as s:
        ledger.run_month(s, RULES, lines, D(2019, 7, 1), "v1")
    message = str(refused.value)
    assert "July 2019 is earlier than the latest month paid for 2019/20 (March 2020)" in message
    assert "--restate" in message
    with workspace.sessions() as s:
        assert snapshot(s) == before


def test_restating_an_unchanged_month_writes_nothing(workspace, tmp_path):
    lines = lines_for(tmp_path)
    pay_year(workspace, lines)
    with workspace.sessions() as s:
        before = snapshot(s)
    with workspace.transaction() as s:
        result = ledger.run_month(s, RULES, lines, D(2019, 7, 1), "v1", restate=True)
    assert result.lines == [] and result.run_id is None
    with workspace.sessions() as s:
        assert snapshot(s) == before


def test_a_restatement_writes_only_that_months_delta(workspace, tmp_path):
    v1 = lines_for(tmp_path)
    pay_year(workspace, v1)
    with workspace.sessions() as s:
        count, runs, total = snapshot(s)
    v2 = lines_for(tmp_path, registered="50477", name="restated.csv")
    july = D(2019, 7, 1)
    with workspace.transaction() as s:
        result = ledger.run_month(s, RULES, v2, july, "v2", restate=True)
    old, new = scheduled(v1, july), scheduled(v2, july)
    want = {k: new[k] - old[k] for k in new if new[k] != old[k]}
    got = {(x.payee_code, x.pcn_code, x.practice_code, x.stream): x.amount for x in result.lines}
    assert got == want
    # 1,000 more patients x £1.50 x 4/12 for April-July, paid in July
    assert got[("U51307", "U51307", None, "core_pcn_funding")] == Decimal("500.00")
    assert {(x.kind, x.for_month, x.payment_month) for x in result.lines} == {
        ("restatement", july, july)
    }
    with workspace.sessions() as s:
        assert snapshot(s) == (count + len(want), runs + 1, total + sum(want.values()))
        revision = s.scalar(select(PaymentRun.revision).where(PaymentRun.id == result.run_id))
        assert revision == 1  # July's second run
    with workspace.transaction() as s:  # restating again: nothing left to restate
        assert ledger.run_month(s, RULES, v2, july, "v2", restate=True).lines == []
        # the latest month again on the new inputs settles the rest without paying July twice
        june = ledger.run_month(s, RULES, v2, MONTHS[-1], "v2")
        assert june.lines and july not in {x.for_month for x in june.lines}
        status = ledger.against_entitlement(s, v2)
    assert all(x.outstanding == 0 for x in status)


def test_a_month_not_yet_paid_cannot_be_restated(workspace, tmp_path):
    with pytest.raises(InputError, match="has not been paid yet"), workspace.transaction() as s:
        ledger.run_month(s, RULES, lines_for(tmp_path), D(2019, 7, 1), "v1", restate=True)


def test_a_run_for_other_pcns_leaves_earlier_payments_alone(workspace, tmp_path):
    """Paying one area and then another (`--area`) used to claw back the first area's lines."""
    first = lines_for(tmp_path)
    other = lines_for(tmp_path, pcn="U12345", name="other.csv")
    with workspace.transaction() as s:
        ledger.run_month(s, RULES, first, D(2019, 7, 1), "area A")
        paid = ledger.paid_to_date(s, "2019/20")
    with workspace.transaction() as s:
        result = ledger.run_month(s, RULES, other, D(2019, 7, 1), "area B")
        assert {x.pcn_code for x in result.lines} == {"U12345"}
        after = ledger.paid_to_date(s, "2019/20")
    assert {k: v for k, v in after.items() if k[1] == "U51307"} == paid


def test_the_cli_refuses_an_earlier_month_with_exit_2(tmp_path):
    lists = tmp_path / "lists.csv"
    lists.write_text("pcn_code,registered,weighted\nU51307,49477,42502.6008\n")
    ws = tmp_path / "ws"
    runner = CliRunner()

    def run(month, *extra):
        args = ["funding", "run", "--year", "2019/20", "--month", month, "--lists", str(lists)]
        return runner.invoke(app, [*args, "-w", str(ws), *extra])

    assert run("2019-08").exit_code == 0
    refused = run("2019-07")
    assert refused.exit_code == 2
    assert "earlier than the latest month paid" in refused.output
    assert "--restate" in refused.output
    restated = run("2019-07", "--restate")
    assert restated.exit_code == 0 and "Nothing to restate for July 2019" in restated.output


# --- item 9: exact money ----------------------------------------------------------------------


def test_money_round_trips_exactly(workspace):
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("999999999999.99"), Decimal("-0.07")]
    with workspace.transaction() as s:
        for i, amount in enumerate(amounts):
            ledger.correct(
                s, "2019/20", D(2019, 7, 1), "U51307", "U51307", "core_pcn_funding", amount, f"r{i}"
            )
    with workspace.sessions() as s:
        stored = s.scalars(select(PaymentLine.amount).order_by(PaymentLine.id)).all()
        assert stored == amounts
        assert all(isinstance(x, Decimal) for x in stored)
        t = PaymentLine.__table__.c
        assert s.scalar(select(func.sum(t.amount)).where(t.id <= 2)) == Decimal("0.30")
        assert ledger.paid_to_date(s, "2019/20")[
            ("U51307", "U51307", None, "core_pcn_funding")
        ] == sum(amounts)
        raw = s.execute(text("select amount from payment_line order by id")).scalars().all()
        assert raw == [10, 20, 99999999999999, -7]  # whole pence, integers on every database


@pytest.mark.parametrize("amount", ["1e20", "1000000000000.00", "0.001"])
def test_an_absurd_or_inexact_correction_is_refused(workspace, amount):
    with pytest.raises(InputError) as refused, workspace.transaction() as s:
        ledger.correct(
            s,
            "2019/20",
            D(2019, 7, 1),
            "U51307",
            "U51307",
            "core_pcn_funding",
            Decimal(amount),
            "x",
        )
    assert "--amount" in str(refused.value)
    with workspace.sessions() as s:
        assert snapshot(s) == (0, 0, None)


def test_an_absurd_entitlement_never_reaches_the_ledger(workspace, tmp_path):
    lines = lines_for(tmp_path)
    with workspace.transaction() as s:
        ledger.run_month(s, RULES, lines, D(2019, 7, 1), "lists.csv")
    with workspace.sessions() as s:
        before = snapshot(s)
    absurd = [
        dataclasses.replace(
            x, population=Decimal("1e20"), amount=Decimal("311329999999999587104.93")
        )
        if x.stream == "core_pcn_funding"
        else x
        for x in lines
    ]
    with pytest.raises(InputError) as refused, workspace.transaction() as s:
        ledger.run_month(s, RULES, absurd, D(2019, 8, 1), "lists.csv")
    message = str(refused.value)
    assert message.startswith("lists.csv: PCN U51307: core pcn funding")
    assert "beyond the ledger's range" in message and "nothing was written" in message
    with workspace.sessions() as s:
        assert snapshot(s) == before


def test_the_cli_refuses_a_1e20_list_with_the_ledger_unchanged(tmp_path):
    lists = tmp_path / "lists.csv"
    lists.write_text("pcn_code,registered,weighted\nU51307,1e20,42502.6008\n")
    ws = tmp_path / "ws"
    args = ["funding", "run", "--year", "2019/20", "--month", "2019-07", "--lists", str(lists)]
    result = CliRunner().invoke(app, [*args, "-w", str(ws)])
    assert result.exit_code == 2, result.output
    # refused by the ledger's range check (naming the PCN) or earlier by the list check (the row)
    assert "U51307" in result.output or "row 2" in result.output
    from pcnkit.store import open_workspace

    w = open_workspace(ws)
    try:
        with w.sessions() as s:
            assert snapshot(s) == (0, 0, None)
    finally:
        w.dispose()


@pytest.mark.parametrize("pot", ["1e400", "1e20", "-1e13"])
def test_an_absurd_pot_is_refused_with_a_located_error(tmp_path, pot):
    """Item 9: `funding allocate --pot 1e400` was a traceback (Decimal accepts it; the first
    rounding does not)."""
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("code,name,registered,weighted\nA,Alpha,1000,1100\nB,Beta,2000,2100\n")
    args = ["funding", "allocate", "--recipients", str(recipients), "--method", "registered"]
    result = CliRunner().invoke(app, [*args, "--pot", pot])
    assert result.exit_code == 2, result.output
    assert "--pot" in result.output and "beyond the range" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
