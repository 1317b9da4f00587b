"""Issue 10 item 11 (payment runs): a `pcnkit funding run` killed with SIGKILL while it writes
England's July 2019 leaves the ledger either holding the whole month or untouched — never part
of it — and a run afterwards pays exactly what was due. The kills are aimed: the test waits until
the run holds the ledger's write lock (it is reading, computing or inserting) and then kills it
after a varied delay; one kill lands before the lock, while the run is still computing."""

import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.populations import from_registry
from pcnkit.funding.rules import rules_for
from pcnkit.funding.schedule import schedule_table

pytestmark = pytest.mark.england

RULES = rules_for("2019/20")
JULY = "2019-07-01"
JULY_DATE = dt.date(2019, 7, 1)
PCNKIT = [str(Path(sys.executable).with_name("pcnkit"))]
RUN = ["funding", "run", "--year", "2019/20", "--month", "2019-07"]
# seconds after the run takes the write lock; None: kill 2 s after start, while it computes
DELAYS = [None, 0.0, 0.05, 0.15, 0.3, 0.6]


def expected(session):
    """July 2019's payment lines for all England and their total, in pence."""
    pops = from_registry(
        session, RULES.start, RULES.list_reference_date, None, RULES.membership_from
    )
    table = schedule_table(entitlements(pops, RULES), RULES)
    july = [row[JULY_DATE] for row in table.values() if row.get(JULY_DATE)]
    return len(july), sum(july)


def holds_write_lock(db: Path) -> bool:
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def ledger_state(db: Path):
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        lines, pence = con.execute(
            "SELECT count(*), coalesce(sum(amount), 0) FROM payment_line WHERE for_month = ?",
            (JULY,),
        ).fetchone()
        runs = con.execute("SELECT count(*) FROM payment_run").fetchone()[0]
        orphans = con.execute(
            "SELECT count(*) FROM payment_line l LEFT JOIN payment_run r ON r.id = l.run_id "
            "WHERE r.id IS NULL"
        ).fetchone()[0]
        return lines, pence, runs, orphans
    finally:
        con.close()


def test_killed_payment_runs_leave_the_month_whole_or_untouched(england, tmp_path):
    base, _ = england
    with base.sessions() as s:
        want_lines, want_pence = expected(s)
    assert want_lines > 10_000 and 7_300_000_000 < want_pence < 7_500_000_000
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    outcomes = []
    for i, delay in enumerate(DELAYS):
        folder = tmp_path / f"ws{i}"
        folder.mkdir()
        db = folder / "pcnkit.db"
        shutil.copyfile(base.path / "pcnkit.db", db)
        proc = subprocess.Popen(
            [*PCNKIT, *RUN, "-w", str(folder)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = time.monotonic()
        if delay is None:
            time.sleep(2)
        else:
            while proc.poll() is None and not holds_write_lock(db):
                assert time.monotonic() - started < 300
                time.sleep(0.01)
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        lines, pence, runs, orphans = ledger_state(db)
        assert orphans == 0
        assert (lines, pence, runs) in ((0, 0, 0), (want_lines, want_pence, 1)), (delay, lines)
        outcomes.append("written" if lines else "untouched")
        # what the kill interrupted is paid by the next run, once and in full
        again = subprocess.run([*PCNKIT, *RUN, "-w", str(folder)], env=env, capture_output=True)
        assert again.returncode == 0, again.stderr
        assert ledger_state(db)[:3] == (want_lines, want_pence, 1)
    print("kills:", list(zip(DELAYS, outcomes, strict=True)))
    assert "untouched" in outcomes[1:]  # at least one kill landed inside the write
    assert Decimal(want_pence).scaleb(-2) == Decimal("73837156.30")
