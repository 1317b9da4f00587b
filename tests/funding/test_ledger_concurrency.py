"""Issue 10 item 7: payment runs started at the same moment in separate processes pay each month
exactly once, on SQLite and PostgreSQL and on the England registry. A run takes the ledger's
write lock before it reads what has been paid, so the second run of a month waits and then finds
nothing to write; a run of an earlier month after a later one has been paid is refused."""

import datetime as dt
import multiprocessing
import shutil
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from ledger_workers import pay
from sqlalchemy import func, select

from pcnkit.funding import ledger
from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import from_csv, from_registry
from pcnkit.funding.rules import rules_for
from pcnkit.funding.schedule import pounds, schedule_table
from pcnkit.store import locks, open_workspace
from pcnkit.store.models import PaymentLine, PaymentRun

D = dt.date
RULES = rules_for("2019/20")
JULY, AUGUST = D(2019, 7, 1), D(2019, 8, 1)


def race(url, folder, lines, months):
    """Run one process per entry of `months`, all released together by a barrier."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(months)), ctx.Queue()
    workers = [
        ctx.Process(target=pay, args=(url, str(folder), lines, m, barrier, results)) for m in months
    ]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=600) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    assert not [o for o in outcomes if o[0] == "error"], outcomes
    return outcomes


def assert_each_month_paid_once(ws, lines, months):
    table = schedule_table(lines, RULES)
    t = PaymentLine.__table__.c
    with ws.sessions() as s:
        rows = s.execute(
            select(
                t.payee_code, t.pcn_code, t.practice_code, t.stream, t.for_month, t.amount, t.kind
            )
        ).all()
        runs = s.execute(select(PaymentRun.month, PaymentRun.revision)).all()
    payments = Counter((r[:4], r.for_month) for r in rows if r.kind == "payment")
    assert payments and max(payments.values()) == 1, "a month's payment was written twice"
    assert {r.kind for r in rows} == {"payment"}
    paid = defaultdict(Decimal)
    for r in rows:
        paid[r.for_month] += r.amount
    for month in months:
        due = sum(pounds(row.get(month, 0)) for row in table.values())
        assert paid[month] == due, f"{month:%B %Y} paid {paid[month]}, due {due}"
    assert sorted(runs) == sorted({(m, 0) for m, _ in runs})  # one run per month


def small_lines(tmp_path):
    lists = tmp_path / "lists.csv"
    body = "".join(f"U{10000 + i},{30000 + 7 * i},{28000.5 + i}\n" for i in range(300))
    lists.write_text("pcn_code,registered,weighted\n" + body)
    return entitlements(from_csv(lists, RULES.start, RULES.list_reference_date), RULES)


def test_concurrent_runs_pay_each_month_once(workspace, tmp_path):
    """Four processes on SQLite or PostgreSQL: July twice and August twice at the same moment."""
    lines = small_lines(tmp_path)
    outcomes = race(workspace.url, workspace.path, lines, [JULY, JULY, AUGUST, AUGUST])
    paid = [o for o in outcomes if o[0] == "paid" and o[2]]
    assert 1 <= len(paid) <= 2  # whoever goes first pays; the rest find nothing or are refused
    for kind, month, detail in outcomes:
        if kind == "refused":  # July after August had paid July too
            assert month == JULY and "earlier than the latest month paid" in detail
    assert_each_month_paid_once(workspace, lines, [JULY, AUGUST])


@pytest.mark.england
def test_concurrent_england_runs_pay_july_once(england, tmp_path):
    """Three processes paying July 2019 for all England (10,496 lines, £73.8m) at once: before
    the fix every one of them wrote the month."""
    base, _ = england
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copyfile(base.path / "pcnkit.db", folder / "pcnkit.db")
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    try:
        with ws.sessions() as s:
            pops = from_registry(s, RULES)
        lines = entitlements(pops, RULES)
        outcomes = race(ws.url, folder, lines, [JULY, JULY, JULY])
        assert [o[0] for o in outcomes] == ["paid"] * 3, outcomes  # none refused or failed
        assert sorted(o[2] > 0 for o in outcomes) == [False, False, True], outcomes
        assert_each_month_paid_once(ws, lines, [JULY])
        with ws.sessions() as s:
            total = s.scalar(select(func.sum(PaymentLine.amount)))
        assert Decimal("73000000") < total < Decimal("75000000")
    finally:
        ws.dispose()


def test_the_unique_keys_refuse_a_second_payment_even_without_the_lock(
    workspace, tmp_path, monkeypatch
):
    """The backstop: a run that did not see the first run's lines (as two runs without the
    lock would not) is refused by the unique key on a month's payment, and writes nothing."""
    lines = small_lines(tmp_path)
    with workspace.transaction() as s:
        ledger.run_month(s, RULES, lines, JULY, "first")
        before = s.scalar(select(func.count()).select_from(PaymentLine))
    monkeypatch.setattr(ledger, "write_lock", lambda *a, **k: None)
    monkeypatch.setattr(ledger, "_recorded", lambda *a: ledger._Recorded({}, set(), None))
    with pytest.raises(ledger.LedgerConflict, match="wrote nothing"), workspace.transaction() as s:
        ledger.run_month(s, RULES, lines, JULY, "blind second run")
    with workspace.sessions() as s:
        assert s.scalar(select(func.count()).select_from(PaymentLine)) == before
        assert s.scalar(select(func.count()).select_from(PaymentRun)) == 1


def test_a_run_that_cannot_get_the_lock_says_so_and_writes_nothing(
    workspace, tmp_path, monkeypatch
):
    """Another run holding the ledger for longer than a run waits: a clear error, no lines."""
    monkeypatch.setattr(locks, "WAIT_SECONDS", 1)
    lines = small_lines(tmp_path)
    with workspace.transaction() as holder:
        locks.write_lock(holder, ledger.LOCK, "payment run")
        busy = pytest.raises(locks.BusyError, match="nothing was written")
        with busy, workspace.transaction() as s:
            ledger.run_month(s, RULES, lines, JULY, "second")
    with workspace.sessions() as s:
        assert s.scalar(select(func.count()).select_from(PaymentLine)) == 0
