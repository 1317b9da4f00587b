"""How many requests may hold a database connection at once, and what happens beyond that.

A request holds its connection from the moment its context opens (the signed-in user is read)
until the context closes after the page is rendered; in between it waits for a thread more than
once. So the thread pool does not bound how many connections are held, and 50 clients used to
exhaust SQLAlchemy's pool, each request beyond it waiting 30 s and then failing with a 500. Now
a request first takes one of `Slots` — as many as the pool has connections — waiting for it on
the event loop (no thread, first come first served); a request that cannot get one within
`QUEUE_TIMEOUT` seconds, or whose connection still does not come within the pool's short
timeout, is answered 503 with Retry-After, on a styled page, rather than hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque

QUEUE_TIMEOUT = 15.0  # seconds a request may wait for a slot before it is answered 503
RETRY_AFTER = 5  # seconds, in the 503's Retry-After header


class Busy(Exception):
    """No database connection could be had in time: the page answers 503 with Retry-After."""


class Slots:
    """A counting semaphore that requests await, first come first served. Thread-safe and not
    tied to one event loop (uvicorn has one loop per worker, the test client one per request),
    so a waiter is woken with `call_soon_threadsafe` on its own loop."""

    def __init__(self, size: int, timeout: float = QUEUE_TIMEOUT) -> None:
        if size < 1:
            raise ValueError("at least one slot")
        self.size = size
        self.timeout = timeout
        self._free = size
        self._waiters: deque[asyncio.Future] = deque()
        self._lock = threading.Lock()

    @property
    def free(self) -> int:
        return self._free

    async def acquire(self, timeout: float | None = None) -> None:
        """Take a slot, waiting at most `timeout` seconds (default: the slots' own; then raise
        Busy)."""
        timeout = self.timeout if timeout is None else timeout
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with self._lock:
                if waiter.done() and not waiter.cancelled():
                    self._release_locked()  # handed a slot just as the wait ended: pass it on
                else:
                    waiter.cancel()
                    self._drop(waiter)
            if isinstance(exc, TimeoutError):
                raise Busy from None
            raise

    def try_acquire(self) -> bool:
        """Take a slot only if one is free now (for callers that are not on an event loop)."""
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return True
            return False

    def release(self) -> None:
        with self._lock:
            self._release_locked()

    def _release_locked(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if waiter.done():
                continue
            loop = waiter.get_loop()
            try:
                loop.call_soon_threadsafe(_hand_over, waiter, self)
            except RuntimeError:  # that waiter's loop has closed
                continue
            return
        self._free += 1

    def _drop(self, waiter: asyncio.Future) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)


def _hand_over(waiter: asyncio.Future, slots: Slots) -> None:
    """On the waiter's loop: give it the slot, or pass the slot on if it stopped waiting."""
    if waiter.done():
        slots.release()
    else:
        waiter.set_result(None)
