"""Bulk work: pause the cyclic garbage collector while building many small objects.

Building a country's entitlement lines or payments creates hundreds of thousands of acyclic
objects; each automatic collection rescans the whole heap (registry rows included), which
measured at ~45% of the funding engine's time for all England. Reference counting still frees
everything; the collector is restored (and runs normally) afterwards.

What was built is handed to the collector's oldest generation (`gc.freeze` then `gc.unfreeze`)
rather than left young: the first young collections after a build would otherwise walk every
new object once or twice only to find it still alive (~0.1 s of England's entitlements and
schedules). Cyclic garbage among them is still found, by the next full collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()  # everything tracked, built here or before, into the oldest generation
            gc.unfreeze()
            gc.enable()
