"""Issue 10 item 11 (payment runs): a `pcnkit funding run` killed with SIGKILL while it writes
England's July 2019 leaves the ledger either holding the whole month or untouched — never part
of it — and a run afterwards pays exactly what was due. The kills are aimed: the test waits until
the run holds the ledger's write lock (it is reading, computing or inserting) and then kills it
after a varied share of the time a complete run holds it; one kill lands before the lock, while
the run is still computing."""

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

pytestmark = pytest.mark.england

JULY = "2019-07-01"
PCNKIT = [str(Path(sys.executable).with_name("pcnkit"))]
RUN = ["funding", "run", "--year", "2019/20", "--month", "2019-07"]
# When to kill, as a fraction of a complete run's time holding the write lock (reading what was
# paid, computing, inserting 10,496 lines, committing); None: 2 s after start, while computing.
AIMS = [None, 0.0, 0.3, 0.7, 1.1]


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


def start_run(base: Path, folder: Path, env: dict) -> tuple[subprocess.Popen, Path]:
    folder.mkdir()
    db = folder / "pcnkit.db"
    shutil.copyfile(base / "pcnkit.db", db)
    cmd = [*PCNKIT, *RUN, "-w", str(folder)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), db


def wait_for_lock(proc: subprocess.Popen, db: Path) -> float:
    started = time.monotonic()
    while proc.poll() is None and not holds_write_lock(db):
        assert time.monotonic() - started < 300
        time.sleep(0.005)
    return time.monotonic()


def test_killed_payment_runs_leave_the_month_whole_or_untouched(england, tmp_path):
    base, _ = england
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    # a complete run: what July is, and how long a run holds the write lock
    proc, db = start_run(base.path, tmp_path / "reference", env)
    with proc:  # closes the stderr pipe
        locked = wait_for_lock(proc, db)
        assert proc.wait() == 0, proc.stderr.read()
    writing = time.monotonic() - locked
    whole = ledger_state(db)
    want_lines, want_pence, _, _ = whole
    assert whole == (want_lines, want_pence, 1, 0) and want_lines > 10_000
    assert Decimal(want_pence).scaleb(-2) == Decimal("73837156.30")  # the July figure

    outcomes = []
    for i, aim in enumerate(AIMS):
        proc, db = start_run(base.path, tmp_path / f"ws{i}", env)
        with proc:
            if aim is None:
                time.sleep(2)
            else:
                time.sleep(max(0.0, wait_for_lock(proc, db) + aim * writing - time.monotonic()))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        state = ledger_state(db)
        assert state in ((0, 0, 0, 0), whole), (aim, state)
        outcomes.append("written" if state[0] else "untouched")
    print(f"write lock held {writing:.2f} s; kills:", list(zip(AIMS, outcomes, strict=True)))
    assert outcomes[1] == "untouched"  # killed the moment it took the lock
    # what a kill interrupted is paid by the next run, once and in full
    folder = db.parent
    again = subprocess.run([*PCNKIT, *RUN, "-w", str(folder)], env=env, capture_output=True)
    assert again.returncode == 0, again.stderr
    assert ledger_state(db) == whole
