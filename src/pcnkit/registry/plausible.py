"""What a figure read from a file may plausibly be: one place for every numeric input's range.

A list of 1e20 patients, `1e400` (infinite once stored as a float) or NaN is a broken file or a
typing slip, never data; left in, it flows into money. Each input names its range here, and the
readers (registry importers, `--lists` overrides) refuse anything outside it, naming the row and
the column. The largest English practice holds about 100,000 patients and the largest PCN about
250,000, so the bounds leave ample room for real growth while catching nonsense.

Registered lists count whole patients, except where a publisher averages them: NHS Payments to
General Practice gives the "last known" list as an average over the final quarter (11429.5), so
that source's registered figures are kept as published and recorded as averages (see
`registry.importers.list_basis`). Weighted and adjusted populations are fractional by design.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Plausible:
    """A figure's plausible range (inclusive) and whether it must be a whole number."""

    what: str
    low: Decimal
    high: Decimal
    whole: bool
    unit: str = "patients"

    def problem(self, value: Decimal) -> str | None:
        """Why `value` cannot be this figure, or None when it can."""
        shown = _shown(value)
        if not value.is_finite():
            return f"'{shown}' is not a number of {self.unit}"
        if value < self.low or value > self.high:
            return (
                f"{shown} is not a valid number of {self.unit} for {self.what}: the plausible "
                f"range is {self.low:,} to {self.high:,}"
            )
        if self.whole and value != value.to_integral_value():
            return f"{shown} is not a whole number of {self.unit}, as {self.what} must be"
        return None


def _shown(value: Decimal) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


PRACTICE_REGISTERED = Plausible(
    "a practice's registered list", Decimal(0), Decimal(1_000_000), whole=True
)
# NHS Payments' "last known" registered list: an average over a quarter, so fractional.
PRACTICE_REGISTERED_AVERAGE = Plausible(
    "a practice's average registered list", Decimal(0), Decimal(1_000_000), whole=False
)
PRACTICE_WEIGHTED = Plausible(
    "a practice's weighted list", Decimal(0), Decimal(1_500_000), whole=False
)
PRACTICE_ADJUSTED = Plausible(
    "a practice's adjusted population", Decimal(0), Decimal(1_500_000), whole=False
)
PCN_REGISTERED = Plausible("a PCN's registered list", Decimal(0), Decimal(2_000_000), whole=True)
PCN_WEIGHTED = Plausible("a PCN's weighted list", Decimal(0), Decimal(3_000_000), whole=False)
PCN_ADJUSTED = Plausible("a PCN's adjusted population", Decimal(0), Decimal(3_000_000), whole=False)

# A recipient of a shared pot may be any organisation up to a region (about 10 million patients);
# its lists may be averages or weighted, so fractions are allowed.
RECIPIENT_LIST = Plausible("a recipient's list", Decimal(0), Decimal(100_000_000), whole=False)

PRACTICE_LISTS = {
    "registered": PRACTICE_REGISTERED,
    "weighted": PRACTICE_WEIGHTED,
    "adjusted": PRACTICE_ADJUSTED,
}
PCN_LISTS = {"registered": PCN_REGISTERED, "weighted": PCN_WEIGHTED, "adjusted": PCN_ADJUSTED}

# Coordinates of practices in the UK (NHS Choices GP files).
LATITUDE = Plausible("a UK latitude", Decimal(49), Decimal(61), whole=False, unit="degrees")
LONGITUDE = Plausible("a UK longitude", Decimal(-9), Decimal("2.5"), whole=False, unit="degrees")
