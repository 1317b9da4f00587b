"""Funding rules as data: one YAML file per contract year in `funding/rules/`, plus scenarios.

Each stream states its rate, the population it is paid on, the months it covers, how it is
paid, its source and its confirmation status (the flags of the research note:
C, C2 = confirmed; D = derived from confirmed figures; S = one secondary source;
X = sources conflict; U = not confirmed). A stream that is not C, C2 or D is usable, but every
output built on it is marked unconfirmed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

from pcnkit.dates import (
    contract_year_start,
    financial_year_start,
    months_between,
    parse_iso,
    year_label,
)
from pcnkit.errors import BadValue, InputError
from pcnkit.funding.money import decimal
from pcnkit.store.layout import year_slug
from pcnkit.yamlfile import Fields, parse_yaml, read_yaml

BASES = ("registered", "weighted", "adjusted", "beds", "fixed")
PAYEES = ("pcn", "practice")
RATE_PERIODS = ("annual", "period", "monthly")
STATUSES = {"C": True, "C2": True, "D": True, "S": False, "X": False, "U": False}
# The status flags in words, for people reading a figure.
STATUS_WORDS = {
    "C": "confirmed: stated in the cited source",
    "C2": "confirmed: two independent sources agree",
    "D": "derived by arithmetic from confirmed figures",
    "S": "not confirmed: one secondary source only",
    "X": "not confirmed: the sources conflict",
    "U": "not confirmed: no source found",
}
# What one unit of each population basis is, for a rate's label ("£120 per care home bed").
UNITS = {
    "registered": "registered patient",
    "weighted": "weighted patient (contractor weighted list)",
    "adjusted": "patient in the PCN adjusted population",
    "beds": "care home bed",
    "fixed": "payee",
}


class Flagged:
    """A figure or rule carrying the research note's status letter: confirmed when the letter is
    C, C2 or D (`STATUSES`). The one place that reads a status as confirmed or not."""

    status: str

    @property
    def confirmed(self) -> bool:
        return STATUSES[self.status]


def month(text: object, what: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})-(\d{2})", str(text).strip())
    if not m:
        raise ValueError(f"{what}: '{text}' is not a month; write it as YYYY-MM")
    return dt.date(int(m[1]), int(m[2]), 1)


def year_of(day: dt.date) -> str:
    """The contract year (1 April to 31 March) containing `day`: 2020-01-01 is in 2019/20."""
    return year_label(contract_year_start(day))


@dataclass(frozen=True)
class Stream(Flagged):
    """One entitlement stream in one contract year."""

    id: str
    name: str
    basis: str
    payee: str
    rate: Decimal
    rate_period: str
    start: dt.date
    end: dt.date
    first_payment: dt.date
    payment_lag: int
    list_reference_date: dt.date
    status: str
    source: str
    note: str = ""
    version: int = 1

    @cached_property
    def months(self) -> list[dt.date]:
        return months_between(self.start, self.end)

    @property
    def rate_text(self) -> str:
        """The rate with its unit and period, in words: "£120 per care home bed a year"."""
        if self.basis == "fixed":
            head = f"£{self.rate} per payee"
        else:
            head = f"£{self.rate} per {UNITS[self.basis]}"
        return f"{head} {self.period_text}"

    @property
    def period_text(self) -> str:
        if self.rate_period == "annual":
            return "a year"
        if self.rate_period == "monthly":
            return "a month"
        span = f"{self.start:%B %Y}" + (f" to {self.end:%B %Y}" if self.end != self.start else "")
        return f"for {span} in full"

    def formula(self) -> str:
        """The rule in words."""
        unit = {
            "registered": "registered patients",
            "weighted": "weighted patients",
            "adjusted": "patients in the PCN adjusted population",
            "beds": "care home beds",
            "fixed": "payees",
        }[self.basis]
        per = {
            "annual": " x months paid / 12",
            "period": f" x months paid / {len(self.months)}",
            "monthly": " x months paid",
        }[self.rate_period]
        return f"number of {unit} x £{self.rate}{per}, rounded to the penny"


@dataclass(frozen=True)
class ArrsRole:
    id: str
    name: str
    reimbursement_rate: Decimal
    max_per_wte: Decimal | None
    status: str
    source: str

    @property
    def confirmed(self) -> bool:
        return STATUSES[self.status] and self.max_per_wte is not None


@dataclass(frozen=True)
class ArrsRules(Flagged):
    """How a PCN's ARRS budget is set and what each role may reclaim."""

    method: str  # "roles_per_pcn" (2019/20) or "per_weighted_patient" (2020/21 on)
    start: dt.date
    end: dt.date
    payment_lag: int
    status: str
    source: str
    rate_per_weighted_patient: Decimal | None = None
    roles_per_pcn: dict[str, int] = field(default_factory=dict)
    double_above: int | None = None
    roles: dict[str, ArrsRole] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class IifRules(Flagged):
    """Investment and Impact Fund mechanics; point values are configurable where unconfirmed."""

    max_points: int | None
    point_value: Decimal | None
    status: str
    source: str
    note: str = ""
    # Per-indicator figures and the list-size adjustment (read by `iif_details`).
    indicators: tuple[IifIndicator, ...] = ()
    list_size: ListSizeAdjustment | None = None


@dataclass(frozen=True)
class Review:
    """Who wrote a rules file and who last checked it against its sources, when (the metadata
    OpenPrescribing keeps on its measures): figures people are paid on are read by someone, and
    read again by `next_review` (a new specification, or a status still to confirm)."""

    authored_by: str
    reviewed_on: dt.date | None  # None: nobody but the author has checked it yet
    reviewed_by: str | None
    next_review: dt.date

    def due(self, on: dt.date) -> bool:
        """The review is due (or overdue) on the date given."""
        return on >= self.next_review

    def text(self) -> str:
        reviewed = (
            f"reviewed {self.reviewed_on:%-d %B %Y} by {self.reviewed_by}"
            if self.reviewed_on
            else "NO INDEPENDENT REVIEW RECORDED"
        )
        return (
            f"written by {self.authored_by}; {reviewed}; "
            f"next review by {self.next_review:%-d %B %Y}"
        )


@dataclass(frozen=True)
class Estimate(Flagged):
    """A stated stand-in for a population basis open data does not hold (the PCN adjusted
    population): `from_basis` x `ratio`, used only for practices whose own figure is not
    loaded, so a user's loaded list always wins. Every line that uses it says so."""

    basis: str
    from_basis: str
    ratio: Decimal
    status: str
    source: str
    note: str = ""

    @property
    def label(self) -> str:
        """How a line that uses the estimate names its input."""
        what, of = ESTIMATED_NAMES[self.basis], ESTIMATED_NAMES[self.from_basis]
        why = f"; {self.note}" if self.note else ""
        return (
            f"{what} ESTIMATED as {of} x {self.ratio}{why}; "
            f"load {what} figures to replace this estimate"
        )


# The bases an estimate may stand in for or be computed from, in words.
ESTIMATED_NAMES = {
    "registered": "registered list",
    "weighted": "contractor weighted list",
    "adjusted": "PCN adjusted population",
    "beds": "care home bed count",
}


@dataclass(frozen=True)
class YearRules:
    year: str
    start: dt.date
    end: dt.date
    version: int
    list_reference_date: dt.date
    streams: dict[str, Stream]
    arrs: ArrsRules | None
    iif: IifRules | None
    file: str
    membership_from: dt.date | None = None
    review: Review | None = None  # every shipped rules file has one
    scenario: str | None = None
    official: YearRules | None = None
    caip: CaipRules | None = None
    obligations: tuple[Obligation, ...] = ()
    # basis -> its stated estimate, for inputs open data does not hold (`estimates:` block)
    estimates: dict[str, Estimate] = field(default_factory=dict)

    def stream(self, stream_id: str) -> Stream:
        if stream_id not in self.streams:
            raise KeyError(f"{self.year} has no stream '{stream_id}'; it has {list(self.streams)}")
        return self.streams[stream_id]


def rules_folder() -> Path:
    return Path(str(resources.files("pcnkit") / "funding" / "rules"))


def known_years() -> list[str]:
    return sorted(year_label(financial_year_start(p.stem)) for p in rules_folder().glob("*.yaml"))


class _Reader(Fields):
    """Typed access to one mapping in a rules file, with errors that say where."""

    fix = "Correct the rules file."

    def number(self, key: str, default=...) -> Decimal | None:
        value = self.get(key, default)
        if value is None:
            return None
        try:
            return decimal(value, f"{self.where}.{key}")
        except ValueError as exc:
            raise self.fail(key, str(exc)) from exc

    def month(self, key: str, default=...) -> dt.date | None:
        value = self.get(key, default)
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return month(value, f"{self.where}.{key}")
        except ValueError as exc:
            raise self.fail(key, str(exc)) from exc

    def date(self, key: str, default=...) -> dt.date | None:
        value = self.get(key, default)
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return parse_iso(str(value))
        except ValueError as exc:
            raise self.fail(key, str(exc)) from exc


def parse_rules(text: str, file: str) -> YearRules:
    doc = parse_yaml(text, file)
    top = _Reader(file, doc, "rules")
    start = financial_year_start(str(top.get("year")))
    end = dt.date(start.year + 1, 3, 1)
    version = int(top.get("version"))
    reference = top.date("list_reference_date")
    streams: dict[str, Stream] = {}
    for i, data in enumerate(top.get("streams")):
        r = _Reader(file, data, f"streams[{i}]")
        sid = str(r.get("id"))
        if sid in streams:
            raise r.fail("id", f"stream '{sid}' is defined twice")
        s_start, s_end = r.month("start", start), r.month("end", end)
        if not (start <= s_start <= s_end <= end):
            raise r.fail(
                "end", f"months {s_start:%Y-%m}..{s_end:%Y-%m} fall outside {year_label(start)}"
            )
        streams[sid] = Stream(
            id=sid,
            name=str(r.get("name")),
            basis=r.choice("basis", BASES),
            payee=r.choice("payee", PAYEES),
            rate=r.number("rate"),
            rate_period=r.choice("rate_period", RATE_PERIODS),
            start=s_start,
            end=s_end,
            first_payment=r.month("first_payment", s_start),
            payment_lag=int(r.get("payment_lag", 0)),
            list_reference_date=r.date("list_reference_date", reference),
            status=r.choice("status", STATUSES),
            source=str(r.get("source")),
            note=str(r.get("note", "")),
            version=int(r.get("version", version)),
        )
    arrs = None
    if doc.get("arrs"):
        a = _Reader(file, doc["arrs"], "arrs")
        roles = {}
        for i, data in enumerate(a.get("roles")):
            rr = _Reader(file, data, f"arrs.roles[{i}]")
            rid = str(rr.get("id"))
            roles[rid] = ArrsRole(
                rid,
                str(rr.get("name")),
                rr.number("reimbursement_rate"),
                rr.number("max_per_wte", None),
                rr.choice("status", STATUSES),
                str(rr.get("source", a.get("source"))),
            )
        method = a.choice("method", ("roles_per_pcn", "per_weighted_patient"))
        arrs = ArrsRules(
            method=method,
            start=a.month("start", start),
            end=a.month("end", end),
            payment_lag=int(a.get("payment_lag", 1)),
            status=a.choice("status", STATUSES),
            source=str(a.get("source")),
            rate_per_weighted_patient=a.number("rate_per_weighted_patient", None),
            roles_per_pcn={str(k): int(v) for k, v in (a.get("roles_per_pcn", {}) or {}).items()},
            double_above=int(a.get("double_above")) if a.get("double_above", None) else None,
            roles=roles,
            note=str(a.get("note", "")),
        )
        if (
            method == "per_weighted_patient"
            and arrs.rate_per_weighted_patient is None
            and arrs.status not in ("U", "X")
        ):
            raise a.fail(
                "rate_per_weighted_patient",
                "is needed for method per_weighted_patient (leave it out only with status U)",
            )
    iif = None
    if doc.get("iif"):
        i = _Reader(file, doc["iif"], "iif")
        iif = IifRules(
            i.get("max_points", None),
            i.number("point_value", None),
            i.choice("status", STATUSES),
            str(i.get("source")),
            str(i.get("note", "")),
            *iif_details(file, i),
        )
    membership_from = top.date("membership_from", None)
    estimates = {}
    for basis, data in (doc.get("estimates") or {}).items():
        e = _Reader(file, data, f"estimates.{basis}")
        if basis not in ESTIMATED_NAMES:
            raise top.fail(f"estimates.{basis}", f"is not a basis (use {sorted(ESTIMATED_NAMES)})")
        estimates[basis] = Estimate(
            basis,
            e.choice("from", tuple(b for b in ESTIMATED_NAMES if b != basis)),
            e.number("ratio"),
            e.choice("status", STATUSES),
            str(e.get("source")),
            str(e.get("note", "")),
        )
    return YearRules(
        year_label(start),
        start,
        end,
        version,
        reference,
        streams,
        arrs,
        iif,
        file,
        membership_from,
        _review(file, top),
        caip=caip_rules(file, doc.get("caip")),
        obligations=obligation_rules(file, doc.get("obligations"), start, end),
        estimates=estimates,
    )


REVIEW_KEYS = {"date", "by"}


def _review(file: str, top: _Reader) -> Review:
    """`authored_by`, `reviewed` and `next_review`: all required, the next review after the
    last. `reviewed: null` says that nobody but the author has checked the file yet (shown as
    such, never as a review); otherwise `reviewed: {date, by}`."""
    authored_by = _text(top, "authored_by")
    if "reviewed" not in top.data:
        raise top.fail("reviewed", "is missing (write `reviewed: null` if nobody has reviewed it)")
    if top.data["reviewed"] is None:
        return Review(authored_by, None, None, top.date("next_review"))
    r = _Reader(file, top.get("reviewed"), "rules.reviewed")
    unknown = sorted(set(r.data) - REVIEW_KEYS)
    if unknown:
        raise r.fail(unknown[0], f"is not a review field (use {sorted(REVIEW_KEYS)})")
    reviewed_on, reviewed_by = r.date("date"), _text(r, "by")
    next_review = top.date("next_review")
    if next_review <= reviewed_on:
        raise top.fail("next_review", f"{next_review} is not after the review of {reviewed_on}")
    return Review(authored_by, reviewed_on, reviewed_by, next_review)


def _text(r: _Reader, key: str) -> str:
    value = r.get(key)
    if not isinstance(value, str) or not value.strip():
        raise r.fail(key, "must be a name (text)")
    return value.strip()


def rules_file(label: str) -> Path:
    start = financial_year_start(label)
    return rules_folder() / f"{year_slug(year_label(start))}.yaml"


@cache
def _load_official(label: str) -> YearRules:
    path = rules_file(label)
    return parse_rules(path.read_text(encoding="utf-8"), path.name)


def rules_for(year: str) -> YearRules:
    """The official rules for a contract year ('2019/20')."""
    try:
        label = year_label(financial_year_start(year))
    except ValueError as exc:
        raise BadValue("year", str(exc), f"Known years: {', '.join(known_years())}.") from exc
    if label not in known_years():
        raise BadValue(
            "year",
            f"there are no funding rules for {label}",
            f"Known years: {', '.join(known_years())}.",
        )
    return _load_official(label)


OVERRIDABLE = {"rate", "rate_period", "start", "end", "first_payment", "list_reference_date"}


def apply_scenario(official: YearRules, path: Path) -> YearRules:
    """Rules with a scenario's overrides, remembering the official rules for comparison.

    pcnkit: scenario
    name: Havering paper, July 2019
    year: 2019/20
    streams:
      clinical_director: {rate: "0.514", note: the paper truncated £0.51430}
    """
    name = str(path)
    doc = read_yaml(path)
    top = _Reader(name, doc, "scenario")
    if doc.get("pcnkit") != "scenario":
        raise InputError(name, "does not start with 'pcnkit: scenario'", "Add that line.")
    try:
        label = year_label(financial_year_start(str(top.get("year"))))
    except ValueError as exc:
        raise top.fail("year", str(exc)) from exc
    if label != official.year:
        raise top.fail("year", f"is {top.get('year')} but the rules asked for are {official.year}")
    streams = dict(official.streams)
    for sid, changes in (top.get("streams") or {}).items():
        if sid not in streams:
            raise top.fail(f"streams.{sid}", f"{official.year} has no stream '{sid}'")
        r = _Reader(name, changes, f"streams.{sid}")
        unknown = set(changes) - OVERRIDABLE - {"note"}
        if unknown:
            raise r.fail(sorted(unknown)[0], f"cannot be overridden; use {sorted(OVERRIDABLE)}")
        update = {}
        for key in changes:
            if key == "rate":
                update["rate"] = r.number("rate")
            elif key == "rate_period":
                update["rate_period"] = r.choice("rate_period", RATE_PERIODS)
            elif key in ("start", "end", "first_payment"):
                update[key] = r.month(key)
            elif key == "list_reference_date":
                update[key] = r.date(key)
        s_start = update.get("start", streams[sid].start)
        s_end = update.get("end", streams[sid].end)
        if not (official.start <= s_start <= s_end <= official.end):
            raise r.fail(
                "end" if "end" in update else "start",
                f"months {s_start:%Y-%m}..{s_end:%Y-%m} fall outside {official.year}",
            )
        note = str(changes.get("note", "")).strip()
        update["note"] = f"scenario '{top.get('name')}': {note or 'overridden'}"
        streams[sid] = replace(streams[sid], **update)
    return replace(official, streams=streams, scenario=str(top.get("name")), official=official)


# --- IIF indicators, CAIP and service obligations ----------------------------------------------


@dataclass(frozen=True)
class IifIndicator(Flagged):
    """One IIF indicator: points earned linearly between the lower and upper thresholds (%).
    A figure not found in any source is None, and whatever depends on it cannot be calculated."""

    id: str
    name: str
    lower: Decimal | None
    upper: Decimal | None
    points: int | None
    prevalence_adjusted: bool | None  # None: not confirmed either way
    status: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class ListSizeAdjustment(Flagged):
    """How IIF money scales with a PCN's list; the national average list may be unknown."""

    rule: str
    national_average_list: Decimal | None
    status: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class CaipComponent(Flagged):
    id: str
    name: str
    share: Decimal
    share_text: str
    status: str
    source: str


@dataclass(frozen=True)
class CaipRules(Flagged):
    """Capacity and access improvement payment: its maximum is a stream's rate (a share of the
    capacity and access payment), paid on assessment or declaration, split into components."""

    improvement_stream: str
    support_stream: str
    improvement_share: Decimal | None
    status: str
    source: str
    payment: str
    note: str
    components: tuple[CaipComponent, ...]


ROUNDINGS = ("nearest_quarter_hour", "up_to_minute")


@dataclass(frozen=True)
class Obligation(Flagged):
    """What a PCN must provide for a stream: minutes a week per 1,000 patients of a basis."""

    id: str
    name: str
    basis: str
    minutes_per_1000: Decimal
    start: dt.date
    end: dt.date
    list_date: dt.date | None  # None: the year's list reference date (an assumption)
    list_date_status: str
    hours: str
    rounding: str
    rounding_status: str
    rounding_source: str
    status: str
    source: str
    note: str = ""


def _fraction(r: _Reader, key: str) -> tuple[Decimal, str]:
    """A share written "1/3" or "0.5": exact division, kept unrounded until money is rounded."""
    text = str(r.get(key)).strip()
    m = re.fullmatch(r"(\d+)\s*/\s*(\d+)", text)
    if m:
        if int(m[2]) == 0:
            raise r.fail(key, f"'{text}' divides by zero")
        return Decimal(m[1]) / Decimal(m[2]), text
    return r.number(key), text


def iif_details(
    file: str, i: _Reader
) -> tuple[tuple[IifIndicator, ...], ListSizeAdjustment | None]:
    indicators = []
    for n, data in enumerate(i.get("indicators", []) or []):
        r = _Reader(file, data, f"iif.indicators[{n}]")
        prevalence = r.data.get("prevalence_adjusted")
        if prevalence not in (True, False, None):
            raise r.fail("prevalence_adjusted", "must be true, false or null (not confirmed)")
        lower, upper = r.number("lower", None), r.number("upper", None)
        if lower is not None and upper is not None and not lower < upper:
            raise r.fail("upper", f"{upper} is not above the lower threshold {lower}")
        points = r.get("points", None)
        indicators.append(
            IifIndicator(
                str(r.get("id")),
                str(r.get("name")),
                lower,
                upper,
                int(points) if points is not None else None,
                prevalence,
                r.choice("status", STATUSES),
                str(r.get("source")),
                str(r.get("note", "")),
            )
        )
    size = None
    if i.data.get("list_size_adjustment"):
        r = _Reader(file, i.data["list_size_adjustment"], "iif.list_size_adjustment")
        size = ListSizeAdjustment(
            str(r.get("rule")),
            r.number("national_average_list", None),
            r.choice("status", STATUSES),
            str(r.get("source")),
            str(r.get("note", "")),
        )
    return tuple(indicators), size


def caip_rules(file: str, data: object) -> CaipRules | None:
    if not data:
        return None
    r = _Reader(file, data, "caip")
    components = []
    for n, item in enumerate(r.get("components", []) or []):
        c = _Reader(file, item, f"caip.components[{n}]")
        share, text = _fraction(c, "share")
        components.append(
            CaipComponent(
                str(c.get("id")),
                str(c.get("name")),
                share,
                text,
                c.choice("status", STATUSES),
                str(c.get("source")),
            )
        )
    if components and sum(c.share for c in components).quantize(Decimal("0.000001")) != 1:
        raise r.fail("components", "the components' shares do not add up to 1")
    return CaipRules(
        str(r.get("improvement_stream")),
        str(r.get("support_stream")),
        r.number("improvement_share", None),
        r.choice("status", STATUSES),
        str(r.get("source")),
        str(r.get("payment")),
        str(r.get("note", "")),
        tuple(components),
    )


def obligation_rules(
    file: str, data: object, start: dt.date, end: dt.date
) -> tuple[Obligation, ...]:
    out = []
    for n, item in enumerate(data or []):
        r = _Reader(file, item, f"obligations[{n}]")
        o_start, o_end = r.month("start", start), r.month("end", end)
        if not (start <= o_start <= o_end <= end):
            raise r.fail("end", f"months {o_start:%Y-%m}..{o_end:%Y-%m} fall outside the year")
        out.append(
            Obligation(
                str(r.get("id")),
                str(r.get("name")),
                r.choice("basis", ("registered", "adjusted")),
                r.number("minutes_per_1000"),
                o_start,
                o_end,
                r.date("list_date", None),
                r.choice("list_date_status", STATUSES),
                str(r.get("hours", "")),
                r.choice("rounding", ROUNDINGS),
                r.choice("rounding_status", STATUSES),
                str(r.get("rounding_source")),
                r.choice("status", STATUSES),
                str(r.get("source")),
                str(r.get("note", "")),
            )
        )
    return tuple(out)
