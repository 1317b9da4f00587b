"""Resolve what many sources said about an organisation's parent into one effective-dated timeline.

Sources speak in two ways. A *dated* fact (ePCN partner rows, epraccur's commissioner join/left
dates, a user's definitions) gives an interval. A *snapshot* (QOF geography map, payments file,
GP appointments mapping) only says "in X as at the extract date". The rules, in order:

1. Dated facts about the same (parent, start) are one relationship: the newest extract's end date
   wins (ePCN 2022 closes F82614's Havering South membership that ePCN 2019 left open).
2. Other dated facts are painted in extract order; a newer extract overwrites an older one where
   they overlap.
3. A snapshot that agrees with the timeline at its date only adds evidence. One that disagrees with
   older knowledge starts a new membership on its extract date (the change is dated at the first
   snapshot showing it). One that falls where nothing is known fills the gap around it, reaching
   back and forward until other knowledge begins.
4. A dated end is never reopened by a snapshot naming the same parent (payments files carry a
   practice's "last known" PCN after it left).
5. A start left unknown is clipped to the parent's open date and, for practices and PCNs, to
   the child's open date or first appearance in any source (a practice first seen in 2025 is
   not placed in a PCN in 2019).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from pcnkit.dates import day_after, day_before

_MIN = dt.date.min
_MAX = dt.date.max


@dataclass(frozen=True)
class Fact:
    parent: str
    start: dt.date | None
    end: dt.date | None
    dated: bool
    observed_at: dt.date
    basis: str


@dataclass
class Segment:
    parent: str
    start: dt.date | None
    end: dt.date | None
    observed_at: dt.date
    bases: list[str] = field(default_factory=list)
    dated: bool = False

    def covers(self, day: dt.date) -> bool:
        return (self.start or _MIN) <= day <= (self.end or _MAX)


def _paint(segments: list[Segment], new: Segment) -> list[Segment]:
    """Lay `new` over `segments`, trimming or splitting whatever it overlaps."""
    lo, hi = new.start or _MIN, new.end or _MAX
    out: list[Segment] = []
    for s in segments:
        s_lo, s_hi = s.start or _MIN, s.end or _MAX
        if s_hi < lo or s_lo > hi:
            out.append(s)
            continue
        if s_lo < lo:
            out.append(
                Segment(s.parent, s.start, day_before(lo), s.observed_at, list(s.bases), s.dated)
            )
        if s_hi > hi:
            out.append(
                Segment(s.parent, day_after(hi), s.end, s.observed_at, list(s.bases), s.dated)
            )
    out.append(new)
    return sorted(out, key=lambda s: s.start or _MIN)


def _neighbours(segments: list[Segment], day: dt.date) -> tuple[Segment | None, Segment | None]:
    before = [s for s in segments if (s.end or _MAX) < day]
    after = [s for s in segments if (s.start or _MIN) > day]
    return (
        max(before, key=lambda s: s.end or _MAX, default=None),
        min(after, key=lambda s: s.start or _MIN, default=None),
    )


def resolve(
    facts: list[Fact],
    parent_open: dict[str, dt.date] | None = None,
    known_from: dt.date | None = None,
) -> list[Segment]:
    """One child's facts in one channel → disjoint segments sorted by start.

    `known_from` bounds how far back a snapshot reaches for a child that opens and closes
    (a practice or PCN): its open date, or the first date any source mentions it."""
    newest: dict[tuple[str, dt.date | None], Fact] = {}
    for f in facts:
        if f.dated:
            key = (f.parent, f.start)
            if key not in newest or f.observed_at >= newest[key].observed_at:
                newest[key] = f
    segments: list[Segment] = []
    for f in sorted(newest.values(), key=lambda f: f.observed_at):
        segments = _paint(
            segments, Segment(f.parent, f.start, f.end, f.observed_at, [f.basis], dated=True)
        )

    for f in sorted((f for f in facts if not f.dated), key=lambda f: f.observed_at):
        day = f.observed_at
        here = next((s for s in segments if s.covers(day)), None)
        if here is not None and here.parent == f.parent:
            here.bases.append(f.basis)
            continue
        if here is not None and here.observed_at > day:
            continue  # newer knowledge already says otherwise
        if here is not None:
            end = here.end
            segments = _paint(segments, Segment(f.parent, day, end, day, [f.basis]))
            continue
        before, after = _neighbours(segments, day)
        if before and before.dated and before.parent == f.parent:
            continue  # a dated end is not reopened by a "last known" snapshot
        start = day_after(before.end) if before and before.end else None
        end = day_before(after.start) if after and after.start else None
        segments = _paint(segments, Segment(f.parent, start, end, day, [f.basis]))

    merged: list[Segment] = []
    for s in segments:
        prev = merged[-1] if merged else None
        if prev and prev.parent == s.parent and prev.end and s.start == day_after(prev.end):
            prev.end = s.end
            prev.bases.extend(b for b in s.bases if b not in prev.bases)
            prev.observed_at = max(prev.observed_at, s.observed_at)
        else:
            merged.append(s)
    for s in merged:
        if s.start is None:
            bounds = [d for d in ((parent_open or {}).get(s.parent), known_from) if d]
            s.start = max(bounds) if bounds else None
    return [s for s in merged if s.end is None or s.start is None or s.start <= s.end]


def overlaps(intervals: list[tuple[dt.date | None, dt.date | None, int]]) -> tuple[int, int] | None:
    """The first pair of source rows whose intervals overlap, or None."""
    ordered = sorted(intervals, key=lambda i: i[0] or _MIN)
    for (_s1, e1, r1), (s2, _e2, r2) in itertools.pairwise(ordered):
        if (s2 or _MIN) <= (e1 or _MAX):
            return r1, r2
    return None
