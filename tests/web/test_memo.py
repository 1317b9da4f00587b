"""The page-data cache: computed once even when many requests miss at the same moment."""

from __future__ import annotations

import threading
import time

import pytest

from pcnkit.web.context import Memo


def test_concurrent_misses_compute_once_and_share_the_answer():
    memo, calls, answers = Memo(4), [], []

    def make():
        calls.append(1)
        time.sleep(0.05)
        return object()

    threads = [
        threading.Thread(target=lambda: answers.append(memo.get(("k",), make))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len({id(a) for a in answers}) == 1


def test_least_recently_used_entries_go_first_and_failures_are_not_kept():
    memo = Memo(2)
    memo.get(("a",), lambda: 1)
    memo.get(("b",), lambda: 2)
    assert memo.get(("a",), lambda: 99) == 1  # a hit: a is now the most recent
    memo.get(("c",), lambda: 3)  # evicts b, the least recently used
    assert memo.get(("c",), lambda: 30) == 3
    assert memo.get(("b",), lambda: 20) == 20  # computed again
    with pytest.raises(ZeroDivisionError):
        memo.get(("bad",), lambda: 1 / 0)
    assert memo.get(("bad",), lambda: "fine") == "fine"
