"""Summaries of entitlement lines that every shell shows: the streams whose figures are not
confirmed, and totals by stream for groups of lines (a PCN, a place, an area).

The CLI, the web pages and the demo each print or render these; the figures come from here
so they cannot drift apart. Ordering for display stays with the shell.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TypeVar

from pcnkit.funding.entitlements import EntitlementLine, Total, total, totals
from pcnkit.funding.rules import STATUS_WORDS

K = TypeVar("K", bound=Hashable)
NOTHING = Total(Decimal(0))  # a stream with no lines in a group adds nothing


@dataclass(frozen=True, order=True)
class Unconfirmed:
    """A stream whose rate or rule public sources do not confirm, and its status in words."""

    stream: str
    name: str
    status: str

    @property
    def words(self) -> str:
        return STATUS_WORDS[self.status]


def unconfirmed(lines: list[EntitlementLine]) -> list[Unconfirmed]:
    """Each unconfirmed stream among `lines` once, by stream id."""
    return sorted(
        {Unconfirmed(x.stream, x.stream_name, x.status) for x in lines if not x.confirmed}
    )


@dataclass
class GroupTotal:
    """The lines of one group, their totals by stream and their total (read the totals once
    the group is complete: they are remembered)."""

    lines: list[EntitlementLine] = field(default_factory=list)

    @cached_property
    def by_stream(self) -> dict[str, Total]:
        return totals(self.lines)

    def stream(self, stream: str) -> Total:
        """One stream's total (nothing, when the group has no line of it)."""
        return self.by_stream.get(stream, NOTHING)

    @cached_property
    def total(self) -> Total:
        return total(self.lines)

    @property
    def pcns(self) -> set[str]:
        return {x.pcn_code for x in self.lines}

    def known(self) -> dict[str, Decimal]:
        """Stream amounts that could be calculated (a line whose input is not loaded adds
        nothing known)."""
        out: dict[str, Decimal] = {}
        for x in self.lines:
            if x.amount is not None:
                out[x.stream] = out.get(x.stream, Decimal(0)) + x.amount
        return out


def group_totals(
    lines: list[EntitlementLine], key: Callable[[EntitlementLine], K]
) -> dict[K, GroupTotal]:
    """The lines grouped by `key` (e.g. `by_pcn`), groups in the order first met."""
    out: dict[K, GroupTotal] = {}
    for line in lines:
        out.setdefault(key(line), GroupTotal()).lines.append(line)
    return out


def by_pcn(line: EntitlementLine) -> str:
    return line.pcn_code


__all__ = ["GroupTotal", "Unconfirmed", "by_pcn", "group_totals", "unconfirmed"]
