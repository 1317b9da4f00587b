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
5. A start left unknown is clipped to the parent's open date and to the child's open date or
   first appearance in any source (a practice first seen in 2025 is not placed in a PCN in
   2019; NHS North East London CCG, first named for 2021/22, is not in the ICS in 2020).
6. No membership outlasts its parent, or a child other than a practice (a closed practice
   still listed is a finding for the configuration check, so it is kept). A change first seen
   in a snapshot after the old parent closed, or into a parent that began after the last file
   still showing the old one, is dated from the new parent's beginning (the 2021 CCG mergers:
   1 April 2021 on the practice and the PCN pages alike).
7. PCN memberships only (`des=True`): a first membership starting on ODS's 1 October 2019
   back-date starts on 1 July 2019, when the Network Contract DES began, if a yearly source
   for 2019/20 (payments, QOF geographies) names the same PCN; the evidence says so and names
   that source.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass, field

from pcnkit.dates import Period, day_after, day_before, year_label
from pcnkit.registry.kinds import ODS_PCN_BACKDATE, PCN_ERA_START


@dataclass(frozen=True)
class Fact:
    parent: str
    start: dt.date | None
    end: dt.date | None
    dated: bool
    observed_at: dt.date
    basis: str
    covers_from: dt.date | None = None  # a yearly publication: the first day of its year


@dataclass
class Segment:
    parent: str
    start: dt.date | None
    end: dt.date | None
    observed_at: dt.date
    bases: list[str] = field(default_factory=list)
    dated: bool = False
    changed_at_snapshot: bool = False  # starts on the extract date of the snapshot showing it
    last_seen: dt.date | None = None  # the newest extract that still showed this membership

    def __post_init__(self) -> None:
        self.last_seen = self.last_seen or self.observed_at

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    def covers(self, day: dt.date) -> bool:
        return self.period.contains(day)


def _paint(segments: list[Segment], new: Segment) -> list[Segment]:
    """Lay `new` over `segments`, trimming or splitting whatever it overlaps."""
    lo, hi = new.period.first, new.period.last
    out: list[Segment] = []
    for s in segments:
        if not s.period.overlaps(new.period):
            out.append(s)
            continue
        s_lo, s_hi = s.period.first, s.period.last
        if s_lo < lo:
            out.append(dataclasses.replace(s, end=day_before(lo), bases=list(s.bases)))
        if s_hi > hi:
            out.append(
                dataclasses.replace(
                    s, start=day_after(hi), bases=list(s.bases), changed_at_snapshot=False
                )
            )
    out.append(new)
    return sorted(out, key=lambda s: s.period.first)


def _neighbours(segments: list[Segment], day: dt.date) -> tuple[Segment | None, Segment | None]:
    before = [s for s in segments if s.period.last < day]
    after = [s for s in segments if s.period.first > day]
    return (
        max(before, key=lambda s: s.period.last, default=None),
        min(after, key=lambda s: s.period.first, default=None),
    )


def resolve(
    facts: list[Fact],
    parent_open: dict[str, dt.date] | None = None,
    known_from: dt.date | None = None,
    parent_close: dict[str, dt.date] | None = None,
    known_until: dt.date | None = None,
    des: bool = False,
) -> list[Segment]:
    """One child's facts in one channel → disjoint segments sorted by start.

    `known_from` bounds how far back an unknown start reaches: the child's open date, or the
    first date any source mentions it. `known_until` is the child's close date (not given for
    practices). `des` marks the practice → PCN channel (rule 7)."""
    parent_open = parent_open or {}
    parent_close = parent_close or {}
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
            here.last_seen = max(here.last_seen, day)
            continue
        if here is not None and here.observed_at > day:
            continue  # newer knowledge already says otherwise
        if here is not None:
            end = here.end
            segments = _paint(
                segments, Segment(f.parent, day, end, day, [f.basis], changed_at_snapshot=True)
            )
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
            prev.last_seen = max(prev.last_seen, s.last_seen)
        else:
            merged.append(s)
    if des and merged:
        _date_from_des_start(merged[0], facts, parent_open, known_from)
    for s in merged:
        ends = [d for d in (parent_close.get(s.parent), known_until, s.end) if d]
        s.end = min(ends) if ends else None
    for prev, s in itertools.pairwise(merged):
        opened = parent_open.get(s.parent)
        if not (s.changed_at_snapshot and prev.end and opened and s.start and opened < s.start):
            continue
        if prev.end < day_before(s.start):  # the old parent closed: start when the new opened
            s.start = max(day_after(prev.end), opened)
        elif prev.last_seen < opened:  # last seen in the old before the new one existed
            prev.end, s.start = day_before(opened), opened
    for s in merged:
        if s.start is None:
            bounds = [d for d in (parent_open.get(s.parent), known_from) if d]
            s.start = max(bounds) if bounds else None
    return [s for s in merged if s.end is None or s.start is None or s.start <= s.end]


def _date_from_des_start(
    first: Segment, facts: list[Fact], parent_open: dict[str, dt.date], known_from
) -> None:
    """Rule 7: move a first PCN membership back from ODS's back-date to the DES start."""
    if not first.dated or first.start != ODS_PCN_BACKDATE:
        return
    witness = next(
        (
            f
            for f in sorted(facts, key=lambda f: f.observed_at)
            if not f.dated
            and f.parent == first.parent
            and f.covers_from
            and f.covers_from <= PCN_ERA_START <= f.observed_at
            and first.covers(f.observed_at)
        ),
        None,
    )
    if witness is None:
        return
    start = max(d for d in (PCN_ERA_START, known_from, parent_open.get(first.parent)) if d)
    if start >= first.start:
        return
    first.start = start
    first.bases.insert(
        0,
        f"from {start.day} {start:%B %Y}, when the Network Contract DES began (ODS dates every "
        f"PCN membership from 1 October 2019): {witness.basis} places it in this PCN for "
        f"{year_label(witness.covers_from)}",
    )


def overlaps(intervals: list[tuple[dt.date | None, dt.date | None, int]]) -> tuple[int, int] | None:
    """The first pair of source rows whose intervals overlap, or None."""
    ordered = sorted(intervals, key=lambda i: Period(i[0], i[1]).first)
    for (s1, e1, r1), (s2, e2, r2) in itertools.pairwise(ordered):
        if Period(s1, e1).overlaps(Period(s2, e2)):
            return r1, r2
    return None
