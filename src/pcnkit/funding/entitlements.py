"""Entitlements: what each PCN and practice is owed, stream by stream, for a contract year.

One line per payee, stream and run of months with unchanged membership and population. Each
line's amount is rounded half-up to the penny once (`money.to_pence`); nothing is rounded
before. Every line carries the rule id and version, its inputs and its formula.

A line whose input is not loaded for any of its practices (care home bed counts, the PCN
adjusted population) has no amount (`None`): it cannot be calculated, which is not £0.00. A line
missing the input for some practices is calculated on the others and says which it leaves out.
Sums of lines are `Total`s, which say when they are incomplete and why.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections import defaultdict
from dataclasses import dataclass, fields
from decimal import Decimal

from pcnkit.bulk import bulk
from pcnkit.dates import month_from_index, month_index
from pcnkit.funding.money import to_pence
from pcnkit.funding.populations import Populations
from pcnkit.funding.rules import STATUS_WORDS, Stream, YearRules

# A list more than about six months older than the reference date is noted as stale.
STALE_AFTER_DAYS = 190
NO_PAYEE = "no nominated payee recorded: shown against the PCN code"
# What each population basis is, in words for the people who load it.
INPUT_NAMES = {
    "registered": "registered list",
    "weighted": "contractor weighted list",
    "adjusted": "PCN adjusted population",
    "beds": "care home bed count",
    "fixed": "fixed sum",
}


@dataclass(slots=True)
class EntitlementLine:
    year: str
    pcn_code: str
    pcn_name: str
    payee_code: str
    practice_code: str | None
    stream: str
    stream_name: str
    basis: str
    population: Decimal
    rate: Decimal
    rate_period: str
    months: int
    first_month: dt.date
    last_month: dt.date
    exact: Decimal | None
    amount: Decimal | None
    rule_id: str
    rule_version: int
    confirmed: bool
    status: str
    period_months: int
    inputs: str
    source: str
    note: str = ""
    official_rate: Decimal | None = None
    official_amount: Decimal | None = None
    difference: Decimal | None = None
    # practices whose input for this line's basis is not loaded
    missing: tuple[str, ...] = ()
    payee_name: str = ""
    practice_name: str = ""

    @property
    def calculated(self) -> bool:
        return self.amount is not None

    @property
    def gap(self) -> str:
        """Why the line is not calculated, or what it leaves out ("" when complete)."""
        what = INPUT_NAMES[self.basis]
        if not self.missing:
            return ""
        if self.amount is None:
            return f"cannot be calculated: {what} not loaded"
        return f"incomplete: leaves out {', '.join(self.missing)} ({what} not loaded)"

    @property
    def formula(self) -> str:
        if self.exact is None:
            return self.gap
        per = {
            "annual": f" x {self.months}/12",
            "period": f" x {self.months}/{self.period_months}",
            "monthly": f" x {self.months}",
        }[self.rate_period]
        return f"{self.population:,} x £{self.rate}{per} = {self.exact:.4f}, rounded half-up"

    def as_row(self) -> dict:
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["formula"] = self.formula
        row["missing"] = self.gap
        for key in ("first_month", "last_month"):
            row[key] = row[key].strftime("%Y-%m")
        return row


def _practice_figures(pops: Populations, basis: str, cache: dict) -> dict:
    """Per practice: (value, date, source file, stale?) for one basis, computed once."""
    key = ("figures", basis)
    if key not in cache:
        figures = {}
        for code, p in pops.practices.items():
            value = p.values.get(basis)
            if value is not None:
                date = p.dates[basis]
                figures[code] = (
                    value,
                    date,
                    p.sources[basis].title,
                    (pops.reference_date - date).days > STALE_AFTER_DAYS,
                )
        estimate = cache.get(("estimate", basis))
        if estimate is not None:  # a stated stand-in, only where no figure is loaded
            base = _practice_figures(pops, estimate.from_basis, cache)
            for code, (value, date, _title, stale) in base.items():
                if code not in figures:
                    figures[code] = (value * estimate.ratio, date, estimate.label, stale)
        cache[key] = figures
    return cache[key]


def _own_bases(pops: Populations, basis: str, cache: dict) -> dict[str, _Basis]:
    """Per practice with a figure: its basis on its own (practice-level streams), worked out
    once per basis; the words for a figure's date and source are shared by the practices with
    the same."""
    key = ("own", basis)
    own = cache.get(key)
    if own is None:
        own, said = {}, {}
        none: frozenset = frozenset()
        for code, (value, date, title, stale) in _practice_figures(pops, basis, cache).items():
            inputs = said.get((date, title))
            if inputs is None:
                inputs = said[date, title] = f"{INPUT_NAMES[basis]} as at {_day(date)} ({title})"
            own[code] = (value, (), inputs, frozenset((code,)) if stale else none)
        cache[key] = own
    return own


@functools.cache
def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _population(pops: Populations, codes: tuple[str, ...], basis: str, cache: dict) -> _Basis:
    """Sum of a basis over practices, the practices lacking it, where the figures came from,
    and which are stale (memoised: the same practices recur in every stream and month)."""
    key = (codes, basis)
    hit = cache.get(key)
    if hit is not None:
        return hit
    if basis == "fixed":
        cache[key] = (Decimal(1), (), "a fixed sum per payee", frozenset())
        return cache[key]
    if len(codes) == 1:  # practice-level streams: one practice, no sums or sorting
        hit = _own_bases(pops, basis, cache).get(codes[0])
        if hit is None:
            hit = (Decimal(0), codes, f"{INPUT_NAMES[basis]}: not loaded", frozenset())
        cache[key] = hit
        return hit
    figures = _practice_figures(pops, basis, cache)
    found, missing, dates, sources, stale = Decimal(0), [], set(), set(), set()
    for code in codes:
        figure = figures.get(code)
        if figure is None:
            missing.append(code)
            continue
        found += figure[0]
        dates.add(figure[1])
        sources.add(figure[2])
        if figure[3]:
            stale.add(code)
    if not dates:
        inputs = f"{INPUT_NAMES[basis]}: not loaded"
    else:
        span = ", ".join(_day(d) for d in sorted(dates))
        inputs = f"{INPUT_NAMES[basis]} as at {span} ({'; '.join(sorted(sources))})"
    cache[key] = (found, tuple(missing), inputs, frozenset(stale))
    return cache[key]


def entitlements(
    pops: Populations, rules: YearRules, streams: list[str] | None = None
) -> list[EntitlementLine]:
    """Every entitlement line for the year (optionally only some streams)."""
    with bulk():
        lines = _lines(pops, rules, streams)
        if rules.official is not None:
            _compare(lines, _lines(pops, rules.official, streams))
    return lines


def _grouped_spans(pops: Populations) -> list[_Member]:
    """The membership spans as month indices, per PCN in code order, each PCN's spans in
    practice order, and what lets a window skip clipping them: worked out once per
    Populations."""
    cached = getattr(pops, "_grouped", None)
    if cached is None or cached[0] is not pops.spans or cached[1] != len(pops.spans):
        index: dict[dt.date, int] = {}
        by_pcn: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for pcn, code, a, b in pops.spans:
            i = index.get(a)
            if i is None:
                i = index[a] = month_index(a)
            j = index.get(b)
            if j is None:
                j = index[b] = month_index(b)
            by_pcn[pcn].append((code, i, j))
        grouped = []
        for pcn in sorted(by_pcn):
            spans = sorted(by_pcn[pcn])
            codes = tuple(c for c, _, _ in spans)
            grouped.append(
                (
                    pcn,
                    spans,
                    len(set(codes)) < len(codes),
                    max(a for _, a, _ in spans),
                    min(b for _, _, b in spans),
                    codes,
                )
            )
        cached = (pops.spans, len(pops.spans), grouped)
        object.__setattr__(pops, "_grouped", cached)
    return cached[2]


# One PCN's memberships (`_grouped_spans`): the PCN, its spans (practice, first and last month
# index) in order, whether a practice recurs, the latest first month and earliest last month
# (a window inside both has every member all through), and the member codes in order.
_Member = tuple[str, list[tuple[str, int, int]], bool, int, int, tuple[str, ...]]
_month = functools.cache(month_from_index)


def _runs(pops: Populations, months: tuple[dt.date, ...], by_practice: bool) -> list[_Run]:
    """Runs of consecutive months with unchanged members within `months`: per PCN, or per
    (PCN, practice); every stream paid over the same months shares them. Built from membership
    spans, so the cost follows the number of memberships, not months x practices."""
    lo, hi = month_index(months[0]), month_index(months[-1])
    first, last, whole = _month(lo), _month(hi), hi - lo + 1
    out: list[_Run] = []
    segments: list[list] = []  # [pcn, practice, first, last, codes, months], in output order
    for pcn, spans, recurs, latest_start, earliest_end, codes in _grouped_spans(pops):
        if latest_start <= lo and earliest_end >= hi:  # every member all through the window
            if by_practice:
                out.extend((pcn, c, first, last, (c,), whole) for c in codes)
            else:
                out.append((pcn, None, first, last, codes, whole))
            continue
        segments.clear()
        clipped = []
        for code, a, b in spans:
            a, b = max(a, lo), min(b, hi)
            if a <= b:
                clipped.append((code, a, b))
        if not clipped:
            continue
        if by_practice:
            if recurs:  # a practice twice in the PCN: its clipped spans in order
                clipped.sort()
            last_code = None
            for code, a, b in clipped:
                if code == last_code and segments[-1][3] == a - 1:
                    segments[-1][3] = b
                    segments[-1][5] += b - a + 1
                else:
                    segments.append([pcn, code, a, b, (code,), b - a + 1])
                last_code = code
        else:
            starts, ends = {a for _, a, _ in clipped}, {b for _, _, b in clipped}
            cuts = sorted(starts | {b + 1 for b in ends})
            mine = None
            for a, b_next in itertools.pairwise(cuts):
                members = tuple(sorted(c for c, s, e in clipped if s <= a and e >= b_next - 1))
                if not members:
                    continue
                if mine is not None and mine[4] == members and mine[3] == a - 1:
                    mine[3] = b_next - 1
                    mine[5] += b_next - a
                else:
                    mine = [pcn, None, a, b_next - 1, members, b_next - a]
                    segments.append(mine)
        out.extend((pcn, p, _month(a), _month(b), c, n) for pcn, p, a, b, c, n in segments)
    return out


def _lines(pops: Populations, rules: YearRules, only: list[str] | None) -> list[EntitlementLine]:
    """The lines stream by stream, in columns: the runs of months and who is paid for each are
    worked out once per span of months, and the population sums once per basis, then every
    stream sharing them only multiplies by its rate."""
    out: list[EntitlementLine] = []
    cache: dict = {}
    windows: dict[tuple, _Window] = {}
    for basis, estimate in rules.estimates.items():
        cache[("estimate", basis)] = estimate
    for stream in rules.streams.values():
        if only and stream.id not in only:
            continue
        months = tuple(stream.months)
        key = (months, stream.payee == "practice")
        window = windows.get(key)
        if window is None:
            window = windows[key] = _Window(pops, _runs(pops, months, key[1]))
        per_month = {"annual": Decimal(12), "period": Decimal(len(months)), "monthly": Decimal(1)}
        divisor = per_month[stream.rate_period]
        fixed = _StreamFacts(rules, stream, divisor)
        bases = window.bases(pops, stream.basis, cache)
        _stream_lines(out, pops, fixed, window, bases, rules.estimates.get(stream.basis))
    return out


def _estimated(estimate) -> str:
    """The note on a line whose population is (partly) the stated estimate."""
    status = STATUS_WORDS[estimate.status]
    return f"ESTIMATE ({status}): {estimate.label}. Source: {estimate.source}"


class _StreamFacts:
    """What every line of a stream shares, worked out once per stream."""

    __slots__ = ("base_notes", "divisor", "notes", "plain_note", "rule_id", "rules", "stream")

    def __init__(self, rules: YearRules, stream: Stream, divisor: Decimal) -> None:
        self.rules, self.stream, self.divisor = rules, stream, divisor
        self.rule_id = f"{rules.year}/{stream.id}"
        self.base_notes = [stream.note] if stream.note else []
        if stream.basis == "beds":
            self.base_notes.append(
                "bed counts are not held in the registry; load them to calculate this"
            )
        self.plain_note = "; ".join(self.base_notes)
        self.notes: dict[tuple[int, str], str] = {}

    def note(self, pops: Populations, stale: int, about_run: str) -> str:
        """The stream's notes, then how many lists are stale, then what is said of the run."""
        key = (stale, about_run)
        note = self.notes.get(key)
        if note is None:
            parts = [self.plain_note] if self.plain_note else []
            if stale:
                parts.append(
                    f"{stale} list(s) dated more than six months before the reference date "
                    f"{pops.reference_date}"
                )
            if about_run:
                parts.append(about_run)
            note = self.notes[key] = "; ".join(parts)
        return note


# A run of consecutive months one line covers: the PCN, the practice (practice-level streams)
# or None, the first and last month, the practices whose lists count and the number of months.
# A plain tuple, like `_Basis`: tens of thousands are made a year.
_Run = tuple[str, str | None, dt.date, dt.date, tuple[str, ...], int]


# A run's basis (`_population`): its sum, the practices lacking it, where the figures came from,
# and the practices whose lists are stale. A plain tuple: one is made per practice and basis,
# thousands a year, where a named tuple costs ten times as much to build.
_Basis = tuple[Decimal, tuple[str, ...], str, frozenset]


class _Window:
    """The runs of one span of months (per PCN or per practice) and, for each, who is paid and
    what is said of it whatever the stream: the columns every stream over those months shares.
    The population sums are added per basis as streams ask for them."""

    __slots__ = ("by_basis", "paid", "runs")

    def __init__(self, pops: Populations, runs: list[_Run]) -> None:
        self.runs = runs
        self.paid = [_payee(pops, run) for run in runs]
        self.by_basis: dict[str, list[_Basis]] = {}

    def bases(self, pops: Populations, basis: str, cache: dict) -> list[_Basis]:
        """Each run's population on `basis`, worked out once for every stream on it."""
        column = self.by_basis.get(basis)
        if column is None:
            own = _own_bases(pops, basis, cache)
            column = self.by_basis[basis] = []
            for run in self.runs:
                codes = run[4]
                hit = own.get(codes[0]) if len(codes) == 1 else None
                column.append(hit if hit is not None else _population(pops, codes, basis, cache))
        return column


def _payee(pops: Populations, run: _Run) -> tuple[str, str, str, str, str]:
    """Who is paid for a run, whatever the stream: (payee, payee name, PCN name, practice name,
    what is said of the run: lists taken on in a merger, no nominated payee)."""
    pcn, practice, _first, _last, codes, _count = run
    if practice and not pops.absorbed:  # a practice-level run: the practice is paid
        name = pops.practices[practice].name if practice in pops.practices else ""
        payee_name = pops.pcn_names.get(practice) or name or pops.payee_names.get(practice, "")
        return (practice, payee_name, pops.pcn_names.get(pcn, pcn), name, "")
    payee = practice or pops.payees.get(pcn)
    if practice is not None and pops.absorbed and practice in pops.absorbed:
        payee = pops.absorbed[practice][0]
    notes = []
    for code in codes if pops.absorbed else ():
        if code in pops.absorbed:
            successor, when, why = pops.absorbed[code]
            notes.append(
                f"includes the list of {code}, taken on by {successor} on {when}"
                + (f" ({why})" if why else "")
            )
    if payee is None:
        payee = pcn
        notes.append(NO_PAYEE)
    payee_name = (
        pops.pcn_names.get(payee)
        or (pops.practices[payee].name if payee in pops.practices else "")
        or pops.payee_names.get(payee, "")
    )
    return (
        payee,
        payee_name,
        pops.pcn_names.get(pcn, pcn),
        pops.practices[practice].name if practice in pops.practices else "",
        "; ".join(notes),
    )


def _stream_lines(
    out: list[EntitlementLine],
    pops: Populations,
    fixed: _StreamFacts,
    window: _Window,
    bases: list[_Basis],
    estimate=None,
) -> None:
    """One stream's lines, one per run of the window: its amount for the run, with its working.
    The stream's own fields are read once here, not per line."""
    stream = fixed.stream
    year, rule_id, divisor, plain_note = (
        fixed.rules.year,
        fixed.rule_id,
        fixed.divisor,
        fixed.plain_note,
    )
    sid, name, basis_name, rate, rate_period = (
        stream.id,
        stream.name,
        stream.basis,
        stream.rate,
        stream.rate_period,
    )
    version, confirmed, status, period_months, source = (
        stream.version,
        stream.confirmed,
        stream.status,
        len(stream.months),
        stream.source,
    )
    append = out.append
    for run, paid, basis in zip(window.runs, window.paid, bases, strict=True):
        pcn, practice, first, last, codes, count = run
        payee, payee_name, pcn_name, practice_name, about_run = paid
        population, missing, inputs, stale = basis
        # the common case has nothing line-specific to say
        note = fixed.note(pops, len(stale), about_run) if stale or about_run else plain_note
        if estimate is not None and estimate.label in inputs:  # (partly) the stated estimate
            note = "; ".join(filter(None, [note, _estimated(estimate)]))
        if missing and len(missing) >= len(codes):
            exact = amount = None  # no input for any practice: not calculable, not £0.00
        else:
            exact = population * rate * count / divisor
            amount = to_pence(exact)
        append(
            EntitlementLine(
                year,
                pcn,
                pcn_name,
                payee,
                practice,
                sid,
                name,
                basis_name,
                population,
                rate,
                rate_period,
                count,
                first,
                last,
                exact,
                amount,
                rule_id,
                version,
                confirmed,
                status,
                period_months,
                inputs,
                source,
                note,
                missing=missing,
                payee_name=payee_name,
                practice_name=practice_name,
            )
        )


def _compare(lines: list[EntitlementLine], official: list[EntitlementLine]) -> None:
    """Set each scenario line's official rate, amount and difference."""
    by_key = {
        (o.pcn_code, o.practice_code, o.stream, o.first_month, o.last_month): o for o in official
    }
    for line in lines:
        match = by_key.get(
            (line.pcn_code, line.practice_code, line.stream, line.first_month, line.last_month)
        )
        if match is None:
            continue
        line.official_rate = match.rate
        line.official_amount = match.amount
        if line.amount is not None and match.amount is not None:
            line.difference = line.amount - match.amount


def exact_totals(lines: list[EntitlementLine]) -> Decimal:
    """A total as spreadsheets compute it: unrounded amounts summed, then rounded once. It can
    differ by pennies from the sum of the (rounded) lines, which is what is paid."""
    return to_pence(sum((x.exact for x in lines if x.exact is not None), Decimal(0)))


@dataclass(frozen=True)
class Total:
    """A sum of entitlement lines that says whether it is complete.

    `amount` adds up the lines that could be calculated; it is None when none could (show
    "cannot be calculated", never £0.00). `gaps` says, stream by stream, what is missing: a
    total with gaps is incomplete and must be shown as such."""

    amount: Decimal | None
    gaps: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.gaps

    def __add__(self, other: Total) -> Total:
        if self.amount is None and other.amount is None:
            amount = None
        else:
            amount = (self.amount or Decimal(0)) + (other.amount or Decimal(0))
        return Total(amount, tuple(dict.fromkeys(self.gaps + other.gaps)))


def total(lines: list[EntitlementLine]) -> Total:
    """The lines' total, incomplete when any line is not calculated or leaves practices out."""
    amounts = [x.amount for x in lines if x.amount is not None]
    amount = sum(amounts, Decimal(0)) if amounts or not lines else None
    return Total(amount, gaps(lines))


def gaps(lines: list[EntitlementLine]) -> tuple[str, ...]:
    """Per stream, in words: what cannot be calculated and what is left out, and why."""
    by_stream: dict[str, list[EntitlementLine]] = defaultdict(list)
    for line in lines:
        by_stream[line.stream].append(line)
    out = []
    for mine in by_stream.values():
        name, what = mine[0].stream_name, INPUT_NAMES[mine[0].basis]
        dead = [x for x in mine if x.amount is None]
        if dead and len(dead) == len(mine):
            out.append(f"{name}: cannot be calculated, {what} not loaded")
        elif dead:
            whose = sorted({x.practice_code or x.pcn_code for x in dead})
            out.append(f"{name}: cannot be calculated for {_some(whose)}, {what} not loaded")
        left_out = sorted({c for x in mine if x.amount is not None for c in x.missing})
        if left_out:
            out.append(f"{name}: leaves out {_some(left_out)}, {what} not loaded")
    return tuple(out)


def _some(codes: list[str], shown: int = 6) -> str:
    if len(codes) <= shown:
        return ", ".join(codes)
    return f"{', '.join(codes[:shown])} and {len(codes) - shown} more"


def totals(lines: list[EntitlementLine], by: str = "stream") -> dict[str, Total]:
    """`total` per value of `by` (stream, pcn_code, payee_code ...)."""
    groups: dict[str, list[EntitlementLine]] = defaultdict(list)
    for line in lines:
        groups[getattr(line, by)].append(line)
    return {key: total(mine) for key, mine in groups.items()}
