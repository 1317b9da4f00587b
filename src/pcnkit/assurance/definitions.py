"""Indicator definitions: one YAML file per indicator, read and checked here.

An indicator is data, not code: what it measures in plain words, a numerator and a denominator
built from imported observations (or the registry's registered lists), a unit, a polarity, the
levels it exists at and optional targets with their source. Aggregation up the hierarchy is
always the sum of numerators over the sum of denominators at the period (never an average of
rates); `assurance.values` computes it. A quantity names its figures as `dataset.measure`, e.g.
`oc-submissions.clinical`; `list-sizes.registered` is the registry's registered list (a count
of patients) nearest the period.

Quantity kinds (one per numerator / denominator):
- `sum: dataset.measure` — the figures added up (with `where`, only those of organisations
  meeting the condition);
- `count: dataset.measure` — organisations with the figure (optionally `labels: [...]`, or
  `above: n`) out of those that have it: 1 or 0 each, absent when the figure is absent;
- `patients: registered` — registered patients; with `where: {measure: ..., labels | above}`
  only those at practices meeting the condition (others count 0); `lag_months: 12` takes the
  list a year earlier; a list counts when within 12 months of the period (`within_months`);
- `growth: registered` with `lag_months` — the list now minus the list `lag_months` before;
- `product: [a, b, ...]` with `scale` — per organisation, the figures multiplied (e.g. QOF
  achievement % × register), so an aggregate weights each practice by its register.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

from pcnkit.dates import parse_iso
from pcnkit.errors import InputError, NotFoundError
from pcnkit.registry import kinds
from pcnkit.yamlfile import Fields, read_yaml

LIST_DATASET = "list-sizes"
UNITS = {
    # unit -> (multiplier, how a value is written)
    "percent": (Decimal(100), "%"),
    "per_1000": (Decimal(1000), "per 1,000 patients"),
    "per_10000": (Decimal(10000), "per 10,000 patients"),
    "count": (Decimal(1), ""),
}
POLARITIES = ("higher", "lower", "neither")
QUANTITY_KINDS = ("sum", "count", "patients", "growth", "product")
LEVELS = (
    kinds.PRACTICE,
    kinds.PCN,
    kinds.FEDERATION,
    kinds.PLACE,
    kinds.SUB_ICB,
    kinds.ICB,
    kinds.GROUPING,
    kinds.NATION,
)
TOPICS = ("Quality", "Access", "Workforce", "Population", "Clinical outcomes")


@dataclass(frozen=True)
class Measure:
    dataset: str
    name: str

    def __str__(self) -> str:
        return f"{self.dataset}.{self.name}"


@dataclass(frozen=True)
class Condition:
    """Which organisations count: a figure present, with a label among `labels`, or above a
    number."""

    measure: Measure
    labels: tuple[str, ...] = ()
    above: Decimal | None = None

    def words(self) -> str:
        if self.labels:
            return f"{self.measure} is {' or '.join(self.labels)}"
        if self.above is not None:
            return f"{self.measure} above {self.above}"
        return f"{self.measure} is given"


@dataclass(frozen=True)
class Quantity:
    kind: str
    words: str
    measures: tuple[Measure, ...]
    where: Condition | None = None
    lag_months: int = 0
    scale: Decimal = Decimal(1)
    # how far (in months) a registered list may be from the period and still stand for it
    within_months: int = 12

    @property
    def datasets(self) -> set[str]:
        found = {m.dataset for m in self.measures}
        if self.where:
            found.add(self.where.measure.dataset)
        return found


@dataclass(frozen=True)
class Target:
    value: Decimal
    source: str
    start: dt.date | None
    end: dt.date | None

    def applies(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class SpcSettings:
    """How an indicator's XmR charts are drawn: limits fixed on the first `baseline` points (all
    points when None), new limits from each `rebase` date (a stated change, e.g. a new system),
    and moving-range screening (off reproduces NHS England's Excel tool)."""

    baseline: int | None = None
    rebase: tuple[dt.date, ...] = ()
    screen: bool = True


@dataclass(frozen=True)
class Review:
    date: dt.date
    by: str


@dataclass(frozen=True)
class Indicator:
    id: str
    version: int
    title: str
    short_title: str
    description: str
    topic: str
    unit: str
    polarity: str
    levels: tuple[str, ...]
    periods: Measure  # the figure whose periods the indicator is computed for
    numerator: Quantity
    denominator: Quantity | None
    # NHS England's published national figures, used for England instead of the sum of practices
    national: tuple[Measure, Measure | None] | None
    targets: tuple[Target, ...]
    sources: tuple[str, ...]
    disclosure: str
    limits: str
    authored_by: str
    reviewed: Review | None
    next_review: dt.date | None
    watch: dict[str, str] = field(default_factory=dict)
    # the first period organisations' values are computed for, and why (England's published
    # series, where there is one, goes back further)
    starts: dt.date | None = None
    starts_why: str | None = None
    spc: SpcSettings = SpcSettings()

    @property
    def multiplier(self) -> Decimal:
        return UNITS[self.unit][0]

    @property
    def unit_words(self) -> str:
        return UNITS[self.unit][1]

    @property
    def datasets(self) -> set[str]:
        found = {self.periods.dataset, *self.numerator.datasets}
        if self.denominator:
            found |= self.denominator.datasets
        return found

    @property
    def measures(self) -> set[tuple[str, str]]:
        """Every (dataset, measure) the indicator reads, England's published figures included."""
        named = [self.periods, *self.numerator.measures]
        for q in (self.numerator, self.denominator):
            if q is not None:
                named += list(q.measures) if q is not self.numerator else []
                if q.where is not None:
                    named.append(q.where.measure)
        if self.national:
            named += [m for m in self.national if m is not None]
        found = {(m.dataset, m.name) for m in named}
        # England's count of open practices, where a publication gives it (values.ENGLAND
        # coverage); a measure a dataset lacks is simply absent
        found |= {(m.dataset, "open_practices") for m in named}
        return found

    def target_on(self, day: dt.date) -> Target | None:
        return next((t for t in self.targets if t.applies(day)), None)


class _Fields(Fields):
    fix = "Correct the indicator definition (see pcnkit.assurance.definitions for the fields)."

    def measure(self, key: str, value: object = ...) -> Measure:
        text = str(self.get(key) if value is ... else value)
        dataset, dot, name = text.partition(".")
        if not dot or not dataset or not name:
            raise self.fail(key, f"'{text}' is not dataset.measure (e.g. oc-submissions.clinical)")
        return Measure(dataset, name)

    def date(self, key: str) -> dt.date | None:
        value = self.get(key, None)
        if value is None:
            return None
        try:
            return parse_iso(str(value))
        except ValueError as exc:
            raise self.fail(key, f"'{value}' is not a date (YYYY-MM-DD)") from exc

    def number(self, key: str, default=...) -> Decimal | None:
        value = self.get(key, default)
        if value is None:
            return None
        try:
            return Decimal(str(value))
        except ArithmeticError as exc:
            raise self.fail(key, f"'{value}' is not a number") from exc


def _condition(f: _Fields, key: str) -> Condition | None:
    raw = f.get(key, None)
    if raw is None:
        return None
    w = _Fields(f.file, raw, f"{f.where}.{key}")
    labels = w.get("labels", ())
    if not isinstance(labels, list | tuple):
        raise w.fail("labels", "is a list, e.g. [Good, Outstanding]")
    return Condition(w.measure("measure"), tuple(str(x) for x in labels), w.number("above", None))


def _quantity(f: _Fields, key: str) -> Quantity | None:
    raw = f.get(key, None)
    if raw is None:
        return None
    q = _Fields(f.file, raw, f"{f.where}.{key}")
    found = [k for k in QUANTITY_KINDS if k in q.data]
    if len(found) != 1:
        raise q.fail("kind", f"give exactly one of {', '.join(QUANTITY_KINDS)}")
    kind = found[0]
    words = str(q.get("words"))
    lag = int(q.get("lag_months", 0))
    scale = q.number("scale", Decimal(1))
    if kind in ("patients", "growth"):
        if q.get(kind) != "registered":
            raise q.fail(kind, "only 'registered' (the registry's registered lists) is held")
        if kind == "growth" and lag <= 0:
            raise q.fail("lag_months", "growth needs lag_months, e.g. 12")
        measures = (Measure(LIST_DATASET, "registered"),)
    elif kind == "product":
        items = q.get("product")
        if not isinstance(items, list) or len(items) < 2:
            raise q.fail("product", "is a list of two or more dataset.measure")
        measures = tuple(q.measure("product", item) for item in items)
    else:
        measures = (q.measure(kind),)
    where = _condition(q, "where")
    if kind == "count":
        # a count's own condition sits beside it: count: m, labels: [...] / above: n
        labels = q.get("labels", ())
        above = q.number("above", None)
        if labels or above is not None:
            where = Condition(measures[0], tuple(str(x) for x in labels), above)
    within = int(q.get("within_months", 12))
    return Quantity(kind, words, measures, where, lag, scale, within)


def _spc(f: _Fields) -> SpcSettings:
    raw = f.get("spc", None)
    if raw is None:
        return SpcSettings()
    s = _Fields(f.file, raw, f"{f.where}.spc")
    baseline = s.get("baseline", None)
    if baseline is not None and (not isinstance(baseline, int) or baseline < 2):
        raise s.fail("baseline", f"'{baseline}' is not a number of points (2 or more)")
    dates = s.get("rebase", ()) or ()
    if not isinstance(dates, list | tuple):
        raise s.fail("rebase", "is a list of dates, e.g. [2024-06-01]")
    rebase = []
    for value in dates:
        try:
            rebase.append(parse_iso(str(value)))
        except ValueError as exc:
            raise s.fail("rebase", f"'{value}' is not a date (YYYY-MM-DD)") from exc
    screen = s.get("screen", True)
    if not isinstance(screen, bool):
        raise s.fail("screen", "is true or false")
    return SpcSettings(baseline, tuple(rebase), screen)


def load_file(path: Path) -> Indicator:
    """One indicator from its YAML file (errors name the file and the key)."""
    name = str(path)
    f = _Fields(name, read_yaml(path), "indicator")
    reviewed = f.get("reviewed", None)
    if reviewed is not None:
        r = _Fields(name, reviewed, "indicator.reviewed")
        reviewed = Review(r.date("date"), str(r.get("by")))
    targets = []
    for i, raw in enumerate(f.get("targets", ()) or ()):
        t = _Fields(name, raw, f"indicator.targets[{i}]")
        targets.append(
            Target(t.number("value"), str(t.get("source")), t.date("from"), t.date("to"))
        )
    national = None
    if f.get("national", None) is not None:
        n = _Fields(name, f.get("national"), "indicator.national")
        den = n.measure("denominator") if n.get("denominator", None) else None
        national = (n.measure("numerator"), den)
    levels = tuple(str(x) for x in f.get("levels"))
    for level in levels:
        if level not in LEVELS:
            raise f.fail("levels", f"'{level}' is not one of {', '.join(LEVELS)}")
    watch = f.get("watch", {}) or {}
    indicator = Indicator(
        id=str(f.get("id")),
        version=int(f.get("version")),
        title=str(f.get("title")),
        short_title=str(f.get("short_title")),
        description=str(f.get("description")),
        topic=f.choice("topic", TOPICS),
        unit=f.choice("unit", UNITS),
        polarity=f.choice("polarity", POLARITIES),
        levels=levels,
        periods=f.measure("periods"),
        numerator=_quantity(f, "numerator"),
        denominator=_quantity(f, "denominator"),
        national=national,
        targets=tuple(targets),
        sources=tuple(str(s) for s in f.get("sources")),
        disclosure=str(f.get("disclosure")),
        limits=str(f.get("limits")),
        authored_by=str(f.get("authored_by")),
        reviewed=reviewed,
        next_review=f.date("next_review"),
        watch={str(k): str(v) for k, v in watch.items()},
        starts=f.date("starts"),
        starts_why=f.get("starts_why", None),
        spc=_spc(f),
    )
    if indicator.id != path.stem:
        raise f.fail("id", f"'{indicator.id}' is not the file's name ({path.stem})")
    if indicator.unit != "count" and indicator.denominator is None:
        raise f.fail("denominator", f"is missing (a {indicator.unit} needs one)")
    return indicator


def definitions_folder() -> Path:
    return Path(str(resources.files("pcnkit.assurance") / "indicators"))


@cache
def load_all() -> tuple[Indicator, ...]:
    """Every shipped indicator, by topic then file name."""
    found = [load_file(p) for p in sorted(definitions_folder().glob("*.yaml"))]
    return tuple(sorted(found, key=lambda i: (TOPICS.index(i.topic), i.id)))


def get(indicator_id: str) -> Indicator:
    for indicator in load_all():
        if indicator.id == indicator_id:
            return indicator
    known = ", ".join(i.id for i in load_all())
    raise NotFoundError(f"No indicator is called '{indicator_id}'. Known indicators: {known}.")


def check_known_measures(indicator: Indicator, measures: dict[str, dict[str, str]]) -> None:
    """Refuse a definition naming a measure no importer produces (`measures`: dataset ->
    measure -> words), so a typo is caught when the package is tested, not on a page."""
    named = [indicator.periods, *indicator.numerator.measures]
    if indicator.denominator:
        named += indicator.denominator.measures
    for q in (indicator.numerator, indicator.denominator):
        if q and q.where:
            named.append(q.where.measure)
    if indicator.national:
        named += [m for m in indicator.national if m]
    for m in named:
        if m.dataset == LIST_DATASET:
            continue
        if m.name not in measures.get(m.dataset, {}):
            raise InputError(
                f"indicator {indicator.id}",
                f"names {m}, which no importer produces",
                "Use a measure listed by `pcnkit kpi datasets`.",
            )
