"""Outcome payments for groups of practices: a local scheme, defined as data, that pays each
practice for signing up (an "aspiration payment") and pays the network a collective sum when it
meets thresholds on named indicators (seed 001, Barnet 2012: "payment will be split between an
aspiration payment to individual practices, and an additional payment based on collective
achievement of outcomes across the group").

The scheme is a YAML file (`read_scheme`); `evaluate` applies it to the PCNs of an area as at a
date. Indicator values come from a user's CSV (`read_values`: org_code, indicator, period_end,
value) or else from the workspace's assurance indicators. Every line says its formula, inputs,
source and status, like an entitlement line; each amount is rounded once (`money.to_pence`).
A collective payment whose indicator has no value cannot be calculated (None and why), which is
not £0.00; a threshold not met releases nothing, and says by how much it was missed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from pcnkit.dates import parse_iso
from pcnkit.errors import InputError
from pcnkit.funding.entitlements import INPUT_NAMES, NO_PAYEE, STALE_AFTER_DAYS, Total
from pcnkit.funding.money import decimal, figure, money, money_figure, sized, to_pence
from pcnkit.funding.rules import STATUS_WORDS, STATUSES, Flagged
from pcnkit.registry import kinds, queries
from pcnkit.registry.importers.base import csv_rows, read_text
from pcnkit.yamlfile import Fields, read_yaml

BASES = ("registered", "weighted", "fixed")
RELEASES = ("per_target", "all")
COMPARISONS = {"at_least": "at least", "at_most": "at most"}
SCHEME_KEYS = {
    "pcnkit",
    "name",
    "description",
    "source",
    "period",
    "list_reference_date",
    "budget",
    "sign_up",
    "collective",
}
PAYMENT_KEYS = {"name", "basis", "rate", "status", "source", "note"}
SIGN_UP_KEYS = PAYMENT_KEYS | {"practices"}
COLLECTIVE_KEYS = PAYMENT_KEYS | {"release", "targets"}
TARGET_KEYS = {"indicator", "title", "unit", "share", "status", "source", "note", "period"}
TARGET_KEYS |= set(COMPARISONS)
BUDGET_KEYS = {"amount", "period", "status", "source", "note", "programme_total", "programme"}
VALUE_COLUMNS = ("org_code", "indicator", "period_end", "value")
# Where a workspace keeps the schemes its PCN funding pages show: funding/outcome-schemes/*.yaml
SCHEMES_FOLDER = "outcome-schemes"


# --- the scheme ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A span of days: the scheme's year, or the periods a target's value may describe."""

    start: dt.date
    end: dt.date

    def words(self) -> str:
        return f"{_day(self.start)} to {_day(self.end)}"


@dataclass(frozen=True)
class Payment(Flagged):
    """How one payment is sized: a rate per registered or weighted patient, or a fixed sum."""

    name: str
    basis: str
    rate: Decimal
    status: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class Target(Flagged):
    """A threshold on a named indicator; `share` is the part of the collective payment it
    releases (per_target release)."""

    indicator: str
    comparison: str  # at_least | at_most
    threshold: Decimal
    share: Decimal | None
    status: str
    source: str
    window: Window
    title: str = ""
    unit: str = ""
    note: str = ""

    def test(self, value: Decimal) -> tuple[bool, Decimal]:
        """Met or not, and by how much (positive: the margin above an `at_least` threshold or
        below an `at_most` one; negative: how far short)."""
        margin = value - self.threshold if self.comparison == "at_least" else self.threshold - value
        return margin >= 0, margin


@dataclass(frozen=True)
class Budget(Flagged):
    amount: Decimal
    period: str
    status: str
    source: str
    note: str = ""
    programme_total: Decimal | None = None
    programme: str = ""


@dataclass(frozen=True)
class Scheme:
    name: str
    file: str
    source: str
    period: Window
    list_reference_date: dt.date
    sign_up: Payment
    practices: tuple[str, ...] | None  # None: every member practice signs up
    collective: Payment
    release: str
    targets: tuple[Target, ...]
    budget: Budget | None = None
    description: str = ""


class _Fields(Fields):
    fix = "Correct the outcome scheme file (docs/funding.md, 'Outcome payments', lists its keys)."

    def only(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise self.fail(unknown[0], f"is not a key here; use {', '.join(sorted(allowed))}")

    def text(self, key: str, default=...) -> str:
        value = self.get(key, default)
        if not isinstance(value, str):
            raise self.fail(key, "must be text")
        return value.strip()

    def number(self, key: str, default=...) -> Decimal | None:
        value = self.get(key, default)
        if value is None:
            return None
        try:
            return sized(decimal(value, f"{self.where}.{key}"), f"{self.where}.{key}")
        except ValueError as exc:
            raise self.fail(key, str(exc)) from exc

    def date(self, key: str, default=...) -> dt.date:
        value = self.get(key, default)
        if isinstance(value, dt.date):
            return value
        try:
            return parse_iso(str(value))
        except ValueError as exc:
            raise self.fail(key, f"'{value}' is not a date; write it as YYYY-MM-DD") from exc

    def window(self, key: str, default=...) -> Window:
        raw = self.get(key, default)
        if isinstance(raw, Window):
            return raw
        w = _Fields(self.file, raw, f"{self.where}.{key}")
        w.only({"start", "end"})
        start, end = w.date("start"), w.date("end")
        if end < start:
            raise w.fail("end", f"{end} is before the start, {start}")
        return Window(start, end)


def _payment(f: _Fields, default_name: str) -> Payment:
    basis = f.choice("basis", BASES)
    rate = f.number("rate")
    if rate < 0:
        raise f.fail("rate", f"{rate} is negative; a payment rate is £0 or more")
    return Payment(
        name=f.text("name", default_name),
        basis=basis,
        rate=rate,
        status=f.choice("status", STATUSES),
        source=f.text("source"),
        note=f.text("note", ""),
    )


def parse_scheme(doc: object, file: str) -> Scheme:
    """A scheme from its YAML document; every problem names the file and the key path."""
    top = _Fields(file, doc, "scheme")
    if top.data.get("pcnkit") != "outcome-scheme":
        raise InputError(
            file, "does not start with 'pcnkit: outcome-scheme'", "Add that line at the top."
        )
    top.only(SCHEME_KEYS)
    period = top.window("period")
    reference = top.date("list_reference_date", period.start)
    s = _Fields(file, top.get("sign_up"), "scheme.sign_up")
    s.only(SIGN_UP_KEYS)
    sign_up = _payment(s, "Aspiration payment")
    practices = _practices(s)
    c = _Fields(file, top.get("collective"), "scheme.collective")
    c.only(COLLECTIVE_KEYS)
    collective = _payment(c, "Collective outcome payment")
    release = c.choice("release", RELEASES, "per_target")
    raw_targets = c.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets:
        raise c.fail("targets", "is a list of one or more targets (indicator and threshold)")
    targets = tuple(
        _target(_Fields(file, raw, f"scheme.collective.targets[{i}]"), period, release)
        for i, raw in enumerate(raw_targets)
    )
    seen: set[str] = set()
    for i, t in enumerate(targets):
        if t.indicator in seen:
            raise InputError(
                file,
                f"names indicator '{t.indicator}' twice",
                "Give each indicator one target.",
                column=f"scheme.collective.targets[{i}].indicator",
            )
        seen.add(t.indicator)
    if release == "per_target":
        shares = sum((t.share for t in targets), Decimal(0))
        if shares != 1:
            raise c.fail(
                "targets",
                f"the targets' shares add up to {_num(shares)}, not 1 (each share is the "
                "fraction of the collective payment its target releases)",
            )
    budget = None
    if top.get("budget", None) is not None:
        b = _Fields(file, top.get("budget"), "scheme.budget")
        b.only(BUDGET_KEYS)
        budget = Budget(
            amount=b.number("amount"),
            period=b.text("period", ""),
            status=b.choice("status", STATUSES),
            source=b.text("source"),
            note=b.text("note", ""),
            programme_total=b.number("programme_total", None),
            programme=b.text("programme", ""),
        )
    return Scheme(
        name=top.text("name"),
        file=file,
        source=top.text("source"),
        period=period,
        list_reference_date=reference,
        sign_up=sign_up,
        practices=practices,
        collective=collective,
        release=release,
        targets=targets,
        budget=budget,
        description=top.text("description", ""),
    )


def _practices(s: _Fields) -> tuple[str, ...] | None:
    raw = s.get("practices", "all")
    if raw == "all":
        return None
    if not isinstance(raw, list) or not raw:
        raise s.fail("practices", "is 'all' or a list of the practice codes that signed up")
    codes = []
    for value in raw:
        code = str(value).strip().upper()
        if not code.isalnum() or not 2 <= len(code) <= 12:
            raise s.fail("practices", f"'{value}' is not a practice code")
        codes.append(code)
    return tuple(dict.fromkeys(codes))


def _target(t: _Fields, period: Window, release: str) -> Target:
    t.only(TARGET_KEYS)
    given = [k for k in COMPARISONS if k in t.data]
    if len(given) != 1:
        raise t.fail("at_least", "give exactly one threshold: at_least or at_most")
    share = t.number("share", None)
    if release == "per_target":
        if share is None:
            raise t.fail(
                "share", "is missing: with release per_target each target releases a share"
            )
        if not 0 < share <= 1:
            raise t.fail("share", f"{share} is not a fraction above 0 and at most 1")
    elif share is not None:
        raise t.fail("share", "applies only with release per_target (release all pays in full)")
    indicator = t.text("indicator")
    if not indicator.replace("_", "").replace("-", "").isalnum():
        raise t.fail("indicator", f"'{indicator}' is not an indicator id (e.g. telephony_answered)")
    return Target(
        indicator=indicator,
        comparison=given[0],
        threshold=t.number(given[0]),
        share=share,
        status=t.choice("status", STATUSES),
        source=t.text("source"),
        window=t.window("period", period),
        title=t.text("title", ""),
        unit=t.text("unit", ""),
        note=t.text("note", ""),
    )


def read_scheme(path: Path) -> Scheme:
    """The scheme in a YAML file (pcnkit's YAML reader: errors name the file and line or key)."""
    return parse_scheme(read_yaml(path), str(path))


def workspace_schemes(funding: Path) -> list[Path]:
    """The scheme files a workspace keeps in its funding folder (funding/outcome-schemes), by
    name."""
    folder = funding / SCHEMES_FOLDER
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


# --- indicator values ----------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One organisation's value of an indicator for a period, and where it came from."""

    value: Decimal
    period: str  # the period in words ("February 2026", "period ending 31 March 2026")
    end: dt.date
    cited: str  # where it came from, for people


# (org code, indicator) -> the values held, any order
Values = dict[tuple[str, str], list[Value]]


def read_values(path: Path) -> Values:
    """A user's indicator values: `org_code, indicator, period_end, value` (one row per
    organisation, indicator and period end). Bad rows are refused with the row and column."""
    name = str(path)
    header, rows = csv_rows(path, read_text(path), exact=True)
    columns = {h.strip().lower(): h for h in header}
    missing = [c for c in VALUE_COLUMNS if c not in columns]
    if missing:
        raise InputError(
            name,
            f"has no column {' or '.join(repr(m) for m in missing)}",
            "The header must be: org_code, indicator, period_end, value.",
        )
    out: Values = {}
    seen: dict[tuple[str, str, dt.date], int] = {}
    for r in rows:
        code = r.code(columns["org_code"], "an organisation code")
        indicator = r.required(columns["indicator"], "an indicator id")
        text = r.required(columns["period_end"], "a date (YYYY-MM-DD)")
        try:
            end = parse_iso(text)
        except ValueError as exc:
            raise r.error(
                columns["period_end"], f"'{text}' is not a date", "Write it as YYYY-MM-DD."
            ) from exc
        raw = r.required(columns["value"], "a number")
        try:
            value = decimal(raw, "value")
        except ValueError as exc:
            raise r.error(columns["value"], f"'{raw}' is not a number", "Give a number.") from exc
        key = (code, indicator, end)
        if key in seen:
            raise r.error(
                columns["indicator"],
                f"{indicator} for {code} ending {end} is also on row {seen[key]}",
                "Keep one row per organisation, indicator and period end.",
            )
        seen[key] = r.number
        out.setdefault((code, indicator), []).append(
            Value(value, f"period ending {_day(end)}", end, f"{path.name}, row {r.number}")
        )
    return out


def _assurance_values(session: Session, scheme: Scheme, pcns: list[str], wanted: set[str]):
    """Each wanted assurance indicator's values for the PCNs, read the way the assurance pages
    read an organisation's series (`assurance.summary.series`), with their provenance. Returns
    the values, the indicators' titles and units, and the ids no assurance indicator has."""
    import pandas as pd  # only here: the funding commands need not load pandas

    from pcnkit.assurance import definitions, summary
    from pcnkit.assurance.values import Assurance

    known = {i.id: i for i in definitions.load_all()}
    chosen = tuple(known[i] for i in sorted(wanted) if i in known)
    titles = {i.id: (i.short_title, i.unit_words) for i in chosen}
    out: Values = {}
    if chosen:
        assurance = Assurance.load(session, chosen)
        first = pd.Timestamp(min(t.window.start for t in scheme.targets))
        last = pd.Timestamp(max(t.window.end for t in scheme.targets))
        for indicator in chosen:
            v = assurance.values(indicator)
            v = v[v["org"].isin(set(pcns)) & (v["end"] >= first) & (v["end"] <= last)]
            for row in v[v["value"].notna()].itertuples():
                # the figure exactly as the assurance pages read it (`summary.series`)
                f = summary._figure(row, assurance, indicator)
                cited = "; ".join(p.cite() for p in f.provenance) or "assurance figures"
                out.setdefault((f.org, indicator.id), []).append(
                    Value(
                        _exact(f, indicator.multiplier),
                        summary.period_words(f),
                        f.end,
                        f"{indicator.title} ({cited})",
                    )
                )
    return out, titles, sorted(wanted - set(known))


def _exact(f, multiplier: Decimal) -> Decimal:
    """An assurance value worked again in decimals from its numerator and denominator (sums of
    counts), so a threshold is compared with 55, not the float 55.00000000000001."""
    if f.numerator is not None and f.denominator is not None and f.denominator > 0:
        return Decimal(repr(f.numerator)) / Decimal(repr(f.denominator)) * multiplier
    if f.numerator is not None and f.denominator is None:
        return Decimal(repr(f.numerator)) * multiplier
    return Decimal(repr(f.value))


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetResult:
    target: Target
    title: str
    unit: str
    value: Value | None
    met: bool | None  # None: no value
    margin: Decimal | None
    reason: str = ""  # why there is no value

    @property
    def short(self) -> str:
        """The verdict in a few words, for a table cell: 'Calls answered 57.52% (at least 60%):
        not met, short by 2.48'."""
        t = self.target
        want = f"{COMPARISONS[t.comparison]} {_num(t.threshold)}{_unit(self.unit)}"
        if self.value is None:
            return f"{self.title} ({want}): no value"
        gap = f"{_num(abs(self.margin))}{_points(self.unit)}"
        verdict = f"met by {gap}" if self.met else f"not met, short by {gap}"
        if self.met and self.margin == 0:
            verdict = "met exactly"
        got = f"{_num(self.value.value)}{_unit(self.unit)}, {self.value.period}"
        return f"{self.title} {got} ({want}): {verdict}"

    @property
    def text(self) -> str:
        t = self.target
        want = f"{COMPARISONS[t.comparison]} {_num(t.threshold)}{_unit(self.unit)}"
        share = f" (releases {_percent(t.share)})" if t.share is not None else ""
        if self.value is None:
            return f"{self.title}: {self.reason}; needs {want}{share}"
        got = f"{_num(self.value.value)}{_unit(self.unit)} for {self.value.period}"
        gap = f"{_num(abs(self.margin))}{_points(self.unit)}"
        verdict = f"met by {gap}" if self.met else f"not met, short by {gap}"
        if self.met and self.margin == 0:
            verdict = "met exactly"
        return f"{self.title}: {got} against {want}{share}: {verdict} ({self.value.cited})"


@dataclass
class OutcomeLine:
    """One payment to one payee: a practice's aspiration payment or a PCN's collective one."""

    payment: str  # "sign_up" | "collective"
    payment_name: str
    pcn_code: str
    pcn_name: str
    payee_code: str
    payee_name: str
    practice_code: str | None
    practice_name: str
    basis: str
    population: Decimal | None
    rate: Decimal
    share: Decimal | None  # the part of the collective payment released
    exact: Decimal | None
    amount: Decimal | None
    status: str
    confirmed: bool
    inputs: str
    source: str
    reason: str = ""  # why the amount is None or £0.00
    note: str = ""
    targets: tuple[TargetResult, ...] = ()
    left_out: tuple[str, ...] = ()  # practices whose list is not held

    @property
    def formula(self) -> str:
        if self.amount is None:
            return self.reason
        head = (
            money_figure(self.rate)
            if self.basis == "fixed"
            else f"{figure(self.population)} x {money_figure(self.rate)}"
        )
        if self.share is not None:
            head += f" x {_percent(self.share)} released"
        return f"{head} = {self.exact:.4f}, rounded half-up to {money(self.amount)}"

    def as_row(self) -> dict:
        return {
            "payment": self.payment,
            "payment_name": self.payment_name,
            "pcn_code": self.pcn_code,
            "pcn_name": self.pcn_name,
            "payee_code": self.payee_code,
            "payee_name": self.payee_name,
            "practice_code": self.practice_code or "",
            "practice_name": self.practice_name,
            "basis": self.basis,
            "population": self.population,
            "rate": self.rate,
            "share": None if self.share is None else self.share.normalize(),
            "amount": self.amount,
            "calculated": self.amount is not None,
            "reason": self.reason,
            "formula": self.formula,
            "targets": " | ".join(t.text for t in self.targets),
            "inputs": self.inputs,
            "source": self.source,
            "status": self.status,
            "confirmed": self.confirmed,
            "note": self.note,
        }


OUTCOME_COLUMNS = [
    "payment",
    "payment_name",
    "pcn_code",
    "pcn_name",
    "payee_code",
    "payee_name",
    "practice_code",
    "practice_name",
    "basis",
    "population",
    "rate",
    "share",
    "amount",
    "calculated",
    "reason",
    "formula",
    "targets",
    "inputs",
    "source",
    "status",
    "confirmed",
    "note",
]


@dataclass
class Outcomes:
    scheme: Scheme
    area: str
    area_name: str
    as_of: dt.date
    lines: list[OutcomeLine]
    notes: list[str] = field(default_factory=list)
    # what the payments would come to were every target met (None: a list not held)
    most: Decimal | None = None
    # each target's indicator by its title (the assurance indicator's, or the scheme's)
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> Total:
        amounts = [x.amount for x in self.lines if x.amount is not None]
        gaps = tuple(
            dict.fromkeys(
                f"{x.payment_name} for {x.practice_code or x.pcn_code}: {x.reason}"
                for x in self.lines
                if x.amount is None
            )
        )
        return Total(sum(amounts, Decimal(0)) if amounts or not self.lines else None, gaps)

    def subtotal(self, payment: str) -> Total:
        mine = [x for x in self.lines if x.payment == payment]
        amounts = [x.amount for x in mine if x.amount is not None]
        gaps = tuple(x.reason for x in mine if x.amount is None)
        return Total(sum(amounts, Decimal(0)) if amounts or not mine else None, gaps)

    @property
    def unconfirmed(self) -> list[tuple[str, str]]:
        """Each figure of the scheme that is not confirmed, (what, status)."""
        s = self.scheme
        found = [(p.name + " rate", p.status) for p in (s.sign_up, s.collective) if not p.confirmed]
        found += [
            (f"{self.titles.get(t.indicator, t.title or t.indicator)} threshold", t.status)
            for t in s.targets
            if not t.confirmed
        ]
        return found

    def budget_words(self) -> str | None:
        b = self.scheme.budget
        if b is None:
            return None
        words = f"Scheme budget {money(b.amount)}"
        if b.period:
            words += f" for {b.period}"
        if b.programme_total is not None:
            words += f" (of {money(b.programme_total)}" + (
                f" over {b.programme})" if b.programme else ")"
            )
        words += f", {STATUS_WORDS[b.status]}; source: {b.source}."
        paid = self.total.amount
        if paid is not None:
            words += f" This area's payments come to {money(paid)}"
            words += " (incomplete)" if self.total.gaps else ""
            words += f", {_percent(paid / b.amount) if b.amount else '-'} of the budget"
        if self.most is not None:
            words += f"; with every target met they would be {money(self.most)}"
        return words + "."


# --- evaluation ----------------------------------------------------------------------------


def evaluate(
    session: Session,
    scheme: Scheme,
    area: str,
    as_of: dt.date,
    values: Values | None = None,
) -> Outcomes:
    """The scheme's payments to the PCNs of `area` (and their practices) as at `as_of`:
    membership on that date, lists at the scheme's list reference date, indicator values for
    periods ending within each target's window and on or before `as_of` (the latest wins)."""
    h = queries.Hierarchy.at(session, as_of)
    org = h.get(area)
    pcns = h.pcns_in(org)
    notes: list[str] = []
    members = {p.code: h.members(p, kinds.PRACTICE) for p in pcns}
    signed = {
        pcn: [m for m in ms if scheme.practices is None or m.code in scheme.practices]
        for pcn, ms in members.items()
    }
    if scheme.practices is not None:
        placed = {m.code for ms in members.values() for m in ms}
        strays = [c for c in scheme.practices if c not in placed]
        if strays:
            notes.append(
                f"signed up but in no PCN of {area} on {_day(as_of)}, so not paid here: "
                + ", ".join(strays)
            )
    lists = _lists(session, [m for ms in signed.values() for m in ms], scheme)
    held: Values = {}
    titles: dict[str, tuple[str, str]] = {}
    from_csv = {ind for _, ind in (values or {})}
    wanted = {t.indicator for t in scheme.targets} - from_csv
    unknown: list[str] = []
    if wanted:
        held, titles, unknown = _assurance_values(session, scheme, [p.code for p in pcns], wanted)
    held.update(values or {})
    payees = _payees(session, h, pcns, as_of)
    lines: list[OutcomeLine] = []
    most: Decimal | None = Decimal(0)  # the sign-up payments, plus every collective pot
    for pcn in pcns:
        name = h.name(pcn)
        mine = signed[pcn.code]
        if not mine:
            notes.append(f"{name} ({pcn.code}): no member practice signed up, so nothing is paid")
            continue
        for practice in mine:
            line = _sign_up(scheme, pcn.code, name, practice, h.name(practice), lists)
            lines.append(line)
            most = None if most is None or line.amount is None else most + line.amount
        payee, payee_name, payee_note = payees[pcn.code]
        line = _collective(
            scheme, pcn.code, name, mine, lists, held, titles, unknown, as_of, payee, payee_name
        )
        line.note = _join(line.note, payee_note)
        lines.append(line)
        pot = _pot(scheme.collective, line)
        most = None if most is None or pot is None else most + to_pence(pot)
    if not pcns:
        notes.append(f"{area} has no PCNs on {_day(as_of)}")
    named = {r.target.indicator: r.title for x in lines for r in x.targets}
    return Outcomes(scheme, org.code, h.name(org), as_of, lines, notes, most, named)


def _lists(session: Session, practices, scheme: Scheme) -> dict[str, dict]:
    """Per basis: practice code -> ListFigure at the scheme's list reference date."""
    out: dict[str, dict] = {}
    ids = {p.id: p.code for p in practices}
    for basis in {scheme.sign_up.basis, scheme.collective.basis} - {"fixed"}:
        found = queries.list_sizes_at(session, list(ids), scheme.list_reference_date, basis)
        out[basis] = {ids[i]: f for i, f in found.items()}
    return out


def _payees(session: Session, h, pcns, as_of: dt.date) -> dict[str, tuple[str, str, str]]:
    """Each PCN's nominated payee on the date, or the PCN itself and a note saying so."""
    roles = queries.roles_at(session, [p.id for p in pcns], as_of)
    out = {}
    for pcn in pcns:
        payee = next(
            (r.payee_id for r in roles.get(pcn.id, []) if r.role == "nominated_payee"), None
        )
        if payee is not None and payee in h.orgs:
            org = h.orgs[payee]
            out[pcn.code] = (org.code, h.name(org), "")
        else:
            out[pcn.code] = (pcn.code, h.name(pcn), NO_PAYEE)
    return out


def _cite(f) -> str:
    return f"{f.title or f.source}" + (f", row {f.source_row}" if f.source_row else "")


def _sign_up(scheme, pcn, pcn_name, practice, practice_name, lists) -> OutcomeLine:
    pay = scheme.sign_up
    line = OutcomeLine(
        "sign_up",
        pay.name,
        pcn,
        pcn_name,
        practice.code,
        practice_name,
        practice.code,
        practice_name,
        pay.basis,
        None,
        pay.rate,
        None,
        None,
        None,
        pay.status,
        pay.confirmed,
        "",
        pay.source,
        note=pay.note,
    )
    if pay.basis == "fixed":
        line.population = Decimal(1)
        line.inputs = f"signed up to {scheme.name}; a fixed sum per practice"
    else:
        f = lists[pay.basis].get(practice.code)
        what = INPUT_NAMES[pay.basis]
        if f is None:
            line.reason = (
                f"cannot be calculated: {what} not held for {practice.code} on or before "
                f"{_day(scheme.list_reference_date)}"
            )
            return line
        line.population = f.value
        line.inputs = f"{what} as at {_day(f.as_of)} ({_cite(f)})"
        line.note = _join(line.note, _stale([f], scheme.list_reference_date))
    line.exact = line.population * pay.rate
    line.amount = to_pence(line.exact)
    return line


def _collective(
    scheme, pcn, pcn_name, practices, lists, held, titles, unknown, as_of, payee, payee_name
) -> OutcomeLine:
    pay = scheme.collective
    results = tuple(_test(t, pcn, pcn_name, held, titles, unknown, as_of) for t in scheme.targets)
    confirmed = pay.confirmed and all(t.confirmed for t in scheme.targets)
    line = OutcomeLine(
        "collective",
        pay.name,
        pcn,
        pcn_name,
        payee,
        payee_name,
        None,
        "",
        pay.basis,
        None,
        pay.rate,
        None,
        None,
        None,
        pay.status,
        confirmed,
        "",
        "; ".join(dict.fromkeys([pay.source, *(t.source for t in scheme.targets)])),
        note="; ".join(
            x
            for x in (pay.note, *(f"{r.title}: {r.target.note}" for r in results if r.target.note))
            if x
        ),
        targets=results,
    )
    if pay.confirmed and not confirmed:  # the rate is confirmed, a threshold is not
        line.status = next(t.status for t in scheme.targets if not t.confirmed)
    codes = [p.code for p in practices]
    if pay.basis == "fixed":
        line.population = Decimal(1)
        line.inputs = f"{len(codes)} practices signed up; a fixed sum per network"
    else:
        what = INPUT_NAMES[pay.basis]
        figures = lists[pay.basis]
        found = [figures[c] for c in codes if c in figures]
        line.left_out = tuple(c for c in codes if c not in figures)
        if not found:
            line.reason = (
                f"cannot be calculated: {what} not held for any practice of {pcn_name} on or "
                f"before {_day(scheme.list_reference_date)}"
            )
            return line
        line.population = sum((f.value for f in found), Decimal(0))
        dates = sorted({f.as_of for f in found})
        sources = sorted({f.title or f.source for f in found})
        line.inputs = (
            f"{what} of the {len(found)} signed-up practices as at "
            f"{', '.join(_day(d) for d in dates)} ({'; '.join(sources)})"
        )
        if line.left_out:
            line.note = _join(line.note, f"leaves out {', '.join(line.left_out)} ({what} not held)")
        line.note = _join(line.note, _stale(found, scheme.list_reference_date))
    missing = [r for r in results if r.value is None]
    if missing:
        line.reason = "cannot be calculated: " + "; ".join(r.reason for r in missing)
        return line
    met = [r for r in results if r.met]
    if scheme.release == "all":
        share = Decimal(1) if len(met) == len(results) else Decimal(0)
    else:
        share = sum((r.target.share for r in met), Decimal(0))
    line.share = share
    line.exact = line.population * pay.rate * share
    line.amount = to_pence(line.exact)
    if share == 0:
        unmet = ", ".join(r.title for r in results if not r.met)
        line.reason = f"£0.00: threshold not met ({unmet})"
    elif share < 1:
        unmet = ", ".join(r.title for r in results if not r.met)
        line.reason = f"part released: not met for {unmet}"
    return line


def _stale(figures, reference: dt.date) -> str:
    """A note on lists much older than the reference date (as entitlement lines carry)."""
    old = [f for f in figures if (reference - f.as_of).days > STALE_AFTER_DAYS]
    if not old:
        return ""
    return (
        f"{len(old)} list(s) dated more than six months before the list reference date "
        f"{_day(reference)}"
    )


def _join(*notes: str) -> str:
    return "; ".join(x for x in notes if x)


def _pot(pay: Payment, line: OutcomeLine) -> Decimal | None:
    """The collective payment were every target met (None when the population is not held)."""
    if line.population is None:
        return None
    return line.population * pay.rate


def _test(t: Target, pcn, pcn_name, held, titles, unknown, as_of) -> TargetResult:
    title, unit = titles.get(t.indicator, (t.title or t.indicator, t.unit))
    title = t.title or title
    unit = t.unit or unit
    last = min(t.window.end, as_of)
    window = Window(t.window.start, last) if last >= t.window.start else None
    candidates = [
        v
        for v in held.get((pcn, t.indicator), [])
        if window is not None and window.start <= v.end <= window.end
    ]
    if not candidates:
        where = t.window.words() if window is None else window.words()
        reason = f"{t.indicator} has no value for {pcn_name} ({pcn}) in {where}"
        if t.indicator in unknown:
            reason += " (no assurance indicator has this id; give its values in a --values CSV)"
        elif window is None:
            reason += f" (the period starts after {_day(as_of)})"
        return TargetResult(t, title, unit, None, None, None, reason)
    value = max(candidates, key=lambda v: v.end)
    met, margin = t.test(value.value)
    return TargetResult(t, title, unit, value, met, margin)


# --- words ---------------------------------------------------------------------------------


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _num(value: Decimal) -> str:
    """An indicator value or threshold: at most two decimal places, no trailing zeros."""
    rounded = value.quantize(Decimal("0.01")) if value.as_tuple().exponent < -2 else value
    return f"{rounded.normalize():,f}"


def _unit(unit: str) -> str:
    if not unit:
        return ""
    return unit if unit == "%" else f" {unit}"


def _points(unit: str) -> str:
    return " percentage points" if unit == "%" else _unit(unit)


def _percent(share: Decimal) -> str:
    return f"{figure((share * 100).quantize(Decimal('0.01')).normalize())}%"
