"""Payment runs in separate processes for the concurrency tests (imported by spawned children)."""

from __future__ import annotations

import datetime as dt

from pcnkit.errors import PcnkitError
from pcnkit.funding import ledger
from pcnkit.funding.rules import rules_for
from pcnkit.store import open_workspace


def pay(url: str, folder: str, lines: list, month: dt.date, barrier, results) -> None:
    """Open the workspace, wait for every other worker, then run `month` at the same moment."""
    ws = open_workspace(folder, url=url)
    try:
        rules = rules_for("2019/20")
        with ws.sessions() as s:  # connect before the barrier, so the start is not staggered
            s.connection()
        barrier.wait(timeout=120)
        try:
            with ws.transaction() as session:
                result = ledger.run_month(session, rules, lines, month, "concurrent test")
            results.put(("paid", month, len(result.lines)))
        except PcnkitError as exc:
            results.put(("refused", month, str(exc)))
        except Exception as exc:  # reported to the test, which fails on it
            results.put(("error", month, repr(exc)))
    finally:
        ws.dispose()
