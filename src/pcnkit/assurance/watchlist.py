"""The vulnerable-practice watch-list: NHS England's 2015 criteria for the Vulnerable Practices
Programme (seed 002), as far as the files held can assess them, at any date.

Each practice gets a flag for each criterion it meets at `as_of`, judged on the latest figure
whose period ends on or before that date, never a later one; each flag carries its figures,
period, threshold and the file and row they came from, and says in plain words what it found.
A criterion a practice has no figures for is "not assessed", listed on its entry, so a missing
file is never read as a clean bill of health. The thresholds live in `watchlist_rules.yaml`
with their source; a threshold NHS England did not set is shown as pcnkit's.

A relative threshold (the worst 10% of practices) is computed against every practice with the
figure for the same period in the frame; with too few practices for a national comparison the
criterion's absolute threshold is used instead, and the evidence says which was used and why.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from pcnkit.assurance.frame import Frame
from pcnkit.dates import Period
from pcnkit.registry import kinds
from pcnkit.yamlfile import Fields, read_yaml

# Every figure the watch-list reads, as (dataset, measure): the names the importers produce.
# If an importer's names change, change them here only.
QOF_GROUPS = ("af", "chd", "chol", "hf", "hyp", "pad", "stia")
MEASURES: dict[str, tuple[str, str]] = {
    "cqc_rating": ("cqc-ratings", "overall_rating"),
    "cqc_rating_year": ("cqc-ratings", "rating_year"),
    "gp_fte": ("practice-workforce", "gp_fte"),
    "workforce_patients": ("practice-workforce", "patients"),
    "calls_inbound": ("cloud-telephony", "inbound"),
    "calls_missed": ("cloud-telephony", "missed"),
    "registered": ("list-sizes", "registered"),
    **{f"qof_achievement_{g}": ("qof-cvd", f"achievement_pct_{g}") for g in QOF_GROUPS},
    **{f"qof_prevalence_{g}": ("qof-cvd", f"prevalence_pct_{g}") for g in QOF_GROUPS},
    **{f"qof_list_{g}": ("qof-cvd", f"list_size_{g}") for g in QOF_GROUPS},
}
# What a caller loads: Frame.load(session, DATASETS)
DATASETS = frozenset(dataset for dataset, _ in MEASURES.values())
RULES_FILE = "watchlist_rules.yaml"
NOT_NHS_ENGLAND = "pcnkit's threshold, not NHS England's"
OWN_THRESHOLD = "This threshold is pcnkit's, not NHS England's."


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One held figure a flag rests on, with the file row it came from."""

    name: str  # key in MEASURES
    dataset: str
    measure: str
    value: Decimal | None
    label: str | None
    period: Period
    source_id: int | None
    source_row: int | None


@dataclass(frozen=True)
class Flag:
    """A criterion met at the date: what was found (`evidence`, in plain words, with the
    comparison used and the citation), the figures and their period, the threshold, and
    whether that threshold is NHS England's own (`confirmed`)."""

    code: str
    label: str
    evidence: str
    figures: tuple[Figure, ...]
    period: Period
    source_id: int | None
    source_row: int | None
    threshold: str
    confirmed: bool
    severity: int
    # the quantity compared with the threshold (patients per GP FTE, share missed, ...), if any
    value: Decimal | None = None
    # "rating", "relative" (against the practices in the frame) or "absolute" (the fixed figure)
    basis: str = "absolute"


@dataclass(frozen=True)
class WatchEntry:
    """One practice on the watch-list at a date: its flags, most severe first; `score` is the
    number of flags; `clear` the criteria assessed and not met; `not_assessed` says what could
    not be judged and why."""

    practice: str
    flags: list[Flag]
    score: int
    not_assessed: list[str] = field(default_factory=list)
    clear: list[str] = field(default_factory=list)

    @property
    def severities(self) -> tuple[int, ...]:
        return tuple(f.severity for f in self.flags)

    def rank_key(self) -> tuple:
        """More flags first; then the more severe flags (compared most severe first); then code."""
        return (-self.score, self.severities, self.practice)


# --- rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    nhs_england: str | None
    source: str
    confirmed: bool
    why: str
    severity: int
    # parameters, by name, as the criterion reads them (numbers as Decimal)
    params: dict[str, object]
    # a latest figure older than this (months before the date) is too old to judge on
    max_age_months: int | None = None

    def number(self, key: str) -> Decimal | None:
        value = self.params.get(key)
        return value if isinstance(value, Decimal) else None


@dataclass(frozen=True)
class Rules:
    version: int
    minimum_practices: int
    year_tolerance_days: int
    criteria: tuple[Rule, ...]
    sources: dict[str, dict[str, str]]
    not_assessable: tuple[str, ...]

    def rule(self, code: str) -> Rule | None:
        return next((r for r in self.criteria if r.code == code), None)


class _Fields(Fields):
    fix = "Correct the watch-list rules file."

    def number(self, key: str, default=...) -> Decimal | None:
        value = self.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(key, f"'{value}' is not a number")
        try:
            return Decimal(str(value))
        except ArithmeticError as exc:
            raise self.fail(key, f"'{value}' is not a number") from exc

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"'{value}' is not true or false")
        return value


# Each criterion's own parameters: name -> (kind, required). "share" is a fraction 0-1.
PARAMETERS: dict[str, dict[str, tuple[str, bool]]] = {
    "cqc_requires_improvement": {"ratings": ("list", True)},
    "high_patients_per_gp": {"worst_share": ("share", False), "at_least": ("number", True)},
    "falling_gp_fte": {
        "fall_share_at_least": ("share", True),
        "fall_fte_at_least": ("number", True),
    },
    "poor_telephony_access": {
        "worst_share": ("share", False),
        "at_least": ("share", True),
        "minimum_calls": ("number", True),
    },
    "low_qof": {"worst_share": ("share", False), "below": ("number", True)},
    "rapid_list_change": {"change_share_at_least": ("share", True)},
}


def load_rules(path: Path | None = None) -> Rules:
    """The watch-list's criteria and thresholds (the shipped file unless `path` is given);
    errors name the file and the key."""
    if path is None:
        return _shipped_rules()
    return _read_rules(path)


@cache
def _shipped_rules() -> Rules:
    return _read_rules(Path(str(resources.files("pcnkit.assurance") / RULES_FILE)))


def _read_rules(path: Path) -> Rules:
    name = str(path)
    f = _Fields(name, read_yaml(path), "rules")
    sources = {}
    for key, raw in (f.get("sources") or {}).items():
        s = _Fields(name, raw, f"rules.sources.{key}")
        sources[str(key)] = {k: " ".join(str(v).split()) for k, v in s.data.items()}
    raw_criteria = f.get("criteria")
    if not isinstance(raw_criteria, list):
        raise f.fail("criteria", "is a list of criteria")
    criteria = []
    for i, raw in enumerate(raw_criteria):
        c = _Fields(name, raw, f"rules.criteria[{i}]")
        code = str(c.get("code"))
        if code not in PARAMETERS:
            raise c.fail("code", f"'{code}' is not one of {', '.join(PARAMETERS)}")
        if any(r.code == code for r in criteria):
            raise c.fail("code", f"'{code}' is given twice")
        source = str(c.get("source"))
        if source not in sources:
            raise c.fail("source", f"'{source}' is not one of the file's sources")
        params: dict[str, object] = {}
        for key, (kind, required) in PARAMETERS[code].items():
            if kind == "list":
                value = c.get(key) if required else c.get(key, [])
                if not isinstance(value, list) or not value:
                    raise c.fail(key, "is a list, e.g. [Inadequate, Requires improvement]")
                params[key] = tuple(str(x) for x in value)
                continue
            number = c.number(key, ... if required else None)
            if number is not None and (number < 0 or (kind == "share" and number > 1)):
                raise c.fail(
                    key,
                    f"'{number}' is not a "
                    + ("fraction 0-1" if kind == "share" else "positive number"),
                )
            params[key] = number
        severity = c.get("severity")
        if code == "cqc_requires_improvement":
            if not isinstance(severity, dict):
                raise c.fail("severity", "is a mapping of rating to severity, e.g. {Inadequate: 1}")
            ranks = {str(k): int(v) for k, v in severity.items()}
            missing = set(params["ratings"]) - set(ranks)  # type: ignore[arg-type]
            if missing:
                raise c.fail("severity", f"gives no severity for {', '.join(sorted(missing))}")
            params["severity_by_rating"] = ranks
            severity = min(ranks.values())
        elif not isinstance(severity, int) or isinstance(severity, bool):
            raise c.fail("severity", f"'{severity}' is not a whole number (1 is most severe)")
        nhs = c.get("nhs_england", None)
        max_age = c.number("max_age_months", None)
        if max_age is not None and (max_age <= 0 or max_age != int(max_age)):
            raise c.fail("max_age_months", f"'{max_age}' is not a whole number of months")
        criteria.append(
            Rule(
                code=code,
                label=str(c.get("label")),
                nhs_england=" ".join(str(nhs).split()) if nhs else None,
                source=source,
                confirmed=c.flag("confirmed"),
                why=" ".join(str(c.get("why")).split()),
                severity=int(severity),
                params=params,
                max_age_months=None if max_age is None else int(max_age),
            )
        )
    minimum = f.number("minimum_practices_for_relative")
    tolerance = f.number("year_tolerance_days")
    return Rules(
        version=int(f.get("version")),
        minimum_practices=int(minimum),
        year_tolerance_days=int(tolerance),
        criteria=tuple(criteria),
        sources=sources,
        not_assessable=tuple(str(x) for x in f.get("not_assessable", ()) or ()),
    )


# --- the watch-list --------------------------------------------------------------------------


def watchlist(
    frame: Frame,
    practices: Iterable[str] | None,
    as_of: dt.date,
    rules: Rules | None = None,
) -> list[WatchEntry]:
    """Every practice asked for (every practice in the frame when None), with the flags it has
    at `as_of`, ranked: most flags first, then the most severe flags (the rules' severity
    order: CQC Inadequate first), then practice code. Practices with no flag are included, last,
    with what was and was not assessed."""
    rules = rules or load_rules()
    day = pd.Timestamp(as_of)
    if practices is None:
        d = frame.data
        wanted = sorted(set(d.loc[d["org_kind"] == kinds.PRACTICE, "org_code"]))
    else:
        wanted = list(dict.fromkeys(practices))
    context = _Context(frame, day, rules)
    results: dict[str, list[Flag]] = {p: [] for p in wanted}
    unassessed: dict[str, list[str]] = {p: [] for p in wanted}
    clear: dict[str, list[str]] = {p: [] for p in wanted}
    for rule in rules.criteria:
        outcomes = CRITERIA[rule.code](context, rule, wanted)
        for practice in wanted:
            outcome = outcomes.get(practice)
            if isinstance(outcome, Flag):
                results[practice].append(outcome)
            elif isinstance(outcome, str):
                unassessed[practice].append(f"not assessed: {rule.label} ({outcome})")
            else:
                clear[practice].append(rule.label)
    entries = []
    for practice in wanted:
        flags = sorted(results[practice], key=lambda f: (f.severity, f.code))
        entries.append(
            WatchEntry(practice, flags, len(flags), unassessed[practice], clear[practice])
        )
    return sorted(entries, key=WatchEntry.rank_key)


TABLE_COLUMNS = [
    "rank",
    "practice",
    "flags",
    "status",
    "code",
    "label",
    "severity",
    "period_start",
    "period_end",
    "value",
    "threshold",
    "confirmed",
    "basis",
    "evidence",
    "source_id",
    "source_row",
]


def table(entries: list[WatchEntry]) -> pd.DataFrame:
    """The watch-list as one table for downloads: a row per flag ("flag"), per criterion not
    assessed ("not assessed", the reason in `evidence`), and one for a practice with neither
    ("no flag"), in the list's order."""
    rows = []
    for rank, e in enumerate(entries, start=1):
        base = {"rank": rank, "practice": e.practice, "flags": e.score}
        for f in e.flags:
            rows.append(
                base
                | {
                    "status": "flag",
                    "code": f.code,
                    "label": f.label,
                    "severity": f.severity,
                    "period_start": f.period.start,
                    "period_end": f.period.end,
                    "value": f.value,
                    "threshold": f.threshold,
                    "confirmed": f.confirmed,
                    "basis": f.basis,
                    "evidence": f.evidence,
                    "source_id": f.source_id,
                    "source_row": f.source_row,
                }
            )
        for reason in e.not_assessed:
            rows.append(base | {"status": "not assessed", "evidence": reason})
        if not e.flags and not e.not_assessed:
            rows.append(base | {"status": "no flag", "evidence": "; ".join(e.clear)})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def cite(frame: Frame, source_id: int | None, row: int | None) -> str:
    """ "<publication title>, row <n>" for a figure, as a page cites it (by the publication's
    public title: a file's name on this machine means nothing to a reader)."""
    source = frame.sources.get(int(source_id)) if source_id is not None else None
    where = source.title if source else f"source {source_id}"
    return f"{where}, row {row}" if row is not None else where


def _citations(frame: Frame, figures: Iterable[Figure]) -> str:
    """Each source once, with the rows the figures came from ("..., rows 8393 and 8394")."""
    rows: dict[int | None, set[int]] = {}
    for f in figures:
        rows.setdefault(f.source_id, set())
        if f.source_row is not None:
            rows[f.source_id].add(f.source_row)
    parts = []
    for source_id, found in rows.items():
        where = cite(frame, source_id, None)
        numbers = [f"{r}" for r in sorted(found)]
        if len(numbers) == 1:
            where += f", row {numbers[0]}"
        elif numbers:
            where += f", rows {', '.join(numbers[:-1])} and {numbers[-1]}"
        parts.append(where)
    return "; ".join(parts)


# --- criteria --------------------------------------------------------------------------------


class _Context:
    """The frame's figures for one date: each measure's practice rows, read once."""

    def __init__(self, frame: Frame, as_of: pd.Timestamp, rules: Rules) -> None:
        self.frame, self.as_of, self.rules = frame, as_of, rules
        data = frame.data
        self._positions = (
            data.groupby(["dataset", "measure"], sort=False).indices if not data.empty else {}
        )
        self._series: dict[str, pd.DataFrame] = {}

    def series(self, name: str) -> pd.DataFrame:
        """Every practice figure of one measure (all periods)."""
        if name not in self._series:
            data = self.frame.data
            d = data.iloc[self._positions.get(MEASURES[name], [])]
            d = d[d["org_kind"] == kinds.PRACTICE].copy()
            d["start"] = pd.to_datetime(d["start"])
            d["end"] = pd.to_datetime(d["end"])
            self._series[name] = d
        return self._series[name]

    def current(self, rule: Rule, table: pd.DataFrame, data: str) -> tuple[dict, dict[str, str]]:
        """Each practice's latest row of `table` ending on or before the date, as a record, and
        for practices without one that is recent enough for the rule, why not."""
        last = _last_rows(table[table["end"] <= self.as_of])
        why = {}
        if rule.max_age_months is not None and not last.empty:
            cutoff = self.as_of - pd.DateOffset(months=rule.max_age_months)
            old = last[last["end"] < cutoff]
            for practice, start, end in zip(old.index, old["start"], old["end"], strict=True):
                why[practice] = (
                    f"the latest {data} held is for {_period_words(start, end)}, more than "
                    f"{rule.max_age_months} months before {self.day_words}"
                )
            last = last[last["end"] >= cutoff]
        return last.to_dict("index"), why

    def missing(self, data: str) -> str:
        return f"no {data} held up to {self.day_words}"

    @property
    def day_words(self) -> str:
        return _day(self.as_of.date())


def _last_rows(d: pd.DataFrame) -> pd.DataFrame:
    """Each practice's latest row (by end, then start), indexed by practice."""
    if d.empty:
        return d.set_index("org_code")
    return d.sort_values(["end", "start"]).groupby("org_code").tail(1).set_index("org_code")


def _figure(name: str, row: dict, suffix: str = "") -> Figure:
    """A held figure from a record; `suffix` picks the columns of a merged-in measure."""
    dataset, measure = MEASURES[name]
    label = row.get("label" + suffix)
    source_id = row.get("source_id" + suffix)
    source_row = row.get("source_row" + suffix)
    return Figure(
        name=name,
        dataset=dataset,
        measure=measure,
        value=_decimal(row.get("value" + suffix)),
        label=None if _missing(label) else str(label),
        period=Period(row["start"].date(), row["end"].date()),
        source_id=None if _missing(source_id) else int(source_id),
        source_row=None if _missing(source_row) else int(source_row),
    )


Outcomes = dict[str, "Flag | str | None"]


def _cqc(ctx: _Context, rule: Rule, practices: list[str]) -> Outcomes:
    data = "CQC rating"
    latest, stale = ctx.current(rule, ctx.series("cqc_rating"), data)
    years = ctx.series("cqc_rating_year")
    year_of = {
        (o, s, e): v
        for o, s, e, v in zip(
            years["org_code"], years["start"], years["end"], years.to_dict("records"), strict=True
        )
    }
    wanted = set(rule.params["ratings"])  # type: ignore[arg-type]
    ranks: dict[str, int] = rule.params["severity_by_rating"]  # type: ignore[assignment]
    out: Outcomes = {}
    for practice in practices:
        row = latest.get(practice)
        if row is None:
            out[practice] = stale.get(practice) or ctx.missing(data)
            continue
        rating = None if _missing(row["label"]) else str(row["label"])
        if rating not in wanted:
            out[practice] = None
            continue
        figures = [_figure("cqc_rating", row)]
        year = year_of.get((practice, row["start"], row["end"]))
        when = f"latest rating in force on {_day(row['end'].date())}"
        if year is not None:
            figures.append(_figure("cqc_rating_year", year))
            if figures[-1].value is not None:
                when = f"latest rating, {int(figures[-1].value)}"
        out[practice] = Flag(
            code=rule.code,
            label=rule.label,
            evidence=(
                f"Rated {rating} by the CQC ({when}). Source: {_citations(ctx.frame, figures[:1])}."
            ),
            figures=tuple(figures),
            period=figures[0].period,
            source_id=figures[0].source_id,
            source_row=figures[0].source_row,
            threshold=_threshold(rule, "rated " + " or ".join(sorted(wanted, key=ranks.get))),
            confirmed=rule.confirmed,
            severity=ranks[rating],
            basis="rating",
        )
    return out


def _patients_per_gp(ctx: _Context, rule: Rule, practices: list[str]) -> Outcomes:
    data = "GP FTE and patients from the workforce census"
    keys = ["org_code", "start", "end"]
    both = ctx.series("gp_fte").merge(
        ctx.series("workforce_patients"), on=keys, suffixes=("", "_patients")
    )
    both = both[both["value"].notna() & both["value_patients"].notna()].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        both["ratio"] = np.where(both["value"] > 0, both["value_patients"] / both["value"], np.inf)
    # patients and no GP FTE at all is the worst case; no patients and no GPs is no practice
    both = both[~((both["value"] <= 0) & (both["value_patients"] <= 0))]
    latest, stale = ctx.current(rule, both, data)
    judge = _Judge(ctx, rule, both, worse="higher", absolute=rule.number("at_least"))
    fixed = f"at or above {rule.number('at_least'):,} patients per GP FTE"
    out: Outcomes = {}
    for practice in practices:
        row = latest.get(practice)
        if row is None:
            out[practice] = stale.get(practice) or ctx.missing(data)
            continue
        verdict = judge(row["end"], row["ratio"])
        if not verdict.flagged:
            out[practice] = None
            continue
        when = _period_words(row["start"], row["end"])
        figures = (_figure("gp_fte", row), _figure("workforce_patients", row, "_patients"))
        if math.isinf(row["ratio"]):
            found = (
                f"No GP FTE (excluding locums and trainees) recorded for "
                f"{row['value_patients']:,.0f} patients in the workforce census of {when}."
            )
            value = None
        else:
            found = (
                f"{row['ratio']:,.0f} patients per GP FTE in the workforce census of {when} "
                f"({row['value_patients']:,.0f} patients, {_fte(row['value'])} GP FTE excluding "
                "locums and trainees)."
            )
            value = _decimal(round(row["ratio"], 1))
        out[practice] = _flag(
            ctx, rule, found, verdict, figures, value, fixed, "had more patients per GP FTE"
        )
    return out


def _falling_gp(ctx: _Context, rule: Rule, practices: list[str]) -> Outcomes:
    data = "GP FTE from the workforce census"
    gp = ctx.series("gp_fte")
    gp = gp[gp["value"].notna()]
    latest, stale = ctx.current(rule, gp, data)
    earlier = _year_before(ctx, gp, latest)
    share = rule.number("fall_share_at_least")
    floor = rule.number("fall_fte_at_least")
    limit = f"a fall of at least {share:.0%} and at least {floor} FTE in a year"
    out: Outcomes = {}
    for practice in practices:
        row = latest.get(practice)
        if row is None:
            out[practice] = stale.get(practice) or ctx.missing(data)
            continue
        before = earlier.get(practice)
        if before is None:
            out[practice] = (
                "no GP FTE held for the census a year before "
                f"{_period_words(row['start'], row['end'])}"
            )
            continue
        # exact decimals: a fall of exactly the threshold (4.0 to 3.2 FTE, 20%) is a fall of 20%
        then, now = _decimal(before["value"]), _decimal(row["value"])
        fall = then - now
        if then <= 0 or fall < floor or fall / then < share:
            out[practice] = None
            continue
        figures = (_figure("gp_fte", before), _figure("gp_fte", row))
        found = (
            f"GP FTE (excluding locums and trainees) fell from {_fte(then)} "
            f"{_when(before['start'], before['end'])} to {_fte(now)} "
            f"{_when(row['start'], row['end'])}: down {fall / then:.0%} ({_fte(fall)} FTE)."
        )
        out[practice] = _fixed_flag(ctx, rule, found, limit, figures, round(fall / then, 4))
    return out


def _telephony(ctx: _Context, rule: Rule, practices: list[str]) -> Outcomes:
    data = "cloud telephony call figures"
    keys = ["org_code", "start", "end"]
    both = ctx.series("calls_missed").merge(
        ctx.series("calls_inbound"), on=keys, suffixes=("", "_inbound")
    )
    both = both[both["value"].notna() & both["value_inbound"].notna()].copy()
    minimum = max(float(rule.number("minimum_calls") or 0), 1.0)
    enough = both[both["value_inbound"] >= minimum].copy()
    enough["share"] = enough["value"] / enough["value_inbound"]
    latest, stale = ctx.current(rule, both, data)
    judge = _Judge(
        ctx, rule, enough, worse="higher", absolute=rule.number("at_least"), column="share"
    )
    fixed = f"at or above {rule.number('at_least'):.0%} of inbound calls missed"
    out: Outcomes = {}
    for practice in practices:
        row = latest.get(practice)
        if row is None:
            out[practice] = stale.get(practice) or ctx.missing(data)
            continue
        when = _period_words(row["start"], row["end"])
        if row["value_inbound"] < minimum:
            out[practice] = (
                f"{row['value_inbound']:,.0f} inbound calls in {when}, fewer than the "
                f"{minimum:,.0f} the criterion needs"
            )
            continue
        share = row["value"] / row["value_inbound"]
        verdict = judge(row["end"], share)
        if not verdict.flagged:
            out[practice] = None
            continue
        figures = (_figure("calls_missed", row), _figure("calls_inbound", row, "_inbound"))
        found = (
            f"{share:.1%} of inbound calls missed in {when} ({row['value']:,.0f} of "
            f"{row['value_inbound']:,.0f}; cloud based telephony)."
        )
        out[practice] = _flag(
            ctx,
            rule,
            found,
            verdict,
            figures,
            _decimal(round(share, 4)),
            fixed,
            "missed a larger share of calls",
        )
    return out


def _qof(ctx: _Context, rule: Rule, practices: list[str]) -> Outcomes:
    data = "QOF cardiovascular achievement"
    keys = ["org_code", "start", "end"]
    parts = []
    for g in QOF_GROUPS:
        a = ctx.series(f"qof_achievement_{g}")
        p = ctx.series(f"qof_prevalence_{g}")[[*keys, "value"]]
        n = ctx.series(f"qof_list_{g}")[[*keys, "value"]].rename(columns={"value": "value_list"})
        m = a.merge(p, on=keys, suffixes=("", "_prev")).merge(n, on=keys)
        m = m[m["value"].notna() & m["value_prev"].notna() & m["value_list"].notna()].copy()
        m["weight"] = m["value_prev"] * m["value_list"] / 100
        m["group"] = g
        parts.append(m[m["weight"] > 0])
    rows = pd.concat(parts, ignore_index=True)
    rows["product"] = rows["value"] * rows["weight"]
    weighted = rows.groupby(keys, as_index=False)[["product", "weight"]].sum()
    weighted["score"] = weighted["product"] / weighted["weight"]
    latest, stale = ctx.current(rule, weighted, data)
    judge = _Judge(
        ctx, rule, weighted, worse="lower", absolute=rule.number("below"), column="score"
    )
    groups_of = rows.groupby(keys).indices if not rows.empty else {}
    fixed = f"below {rule.number('below')}% achievement"
    out: Outcomes = {}
    for practice in practices:
        row = latest.get(practice)
        if row is None:
            out[practice] = stale.get(practice) or ctx.missing(data)
            continue
        verdict = judge(row["end"], row["score"])
        if not verdict.flagged:
            out[practice] = None
            continue
        mine = rows.iloc[groups_of[(practice, row["start"], row["end"])]].to_dict("records")
        figures = tuple(_figure(f"qof_achievement_{r['group']}", r) for r in mine)
        groups = ", ".join(r["group"].upper() for r in mine)
        found = (
            f"QOF cardiovascular achievement {row['score']:.1f}% in "
            f"{_period_words(row['start'], row['end'])} (the groups held, {groups}, weighted by "
            "estimated register)."
        )
        out[practice] = _flag(
            ctx,
            rule,
            found,
            verdict,
            figures,
            _decimal(round(row["score"], 2)),
            fixed,
            "achieved less",
        )
    return out


def _list_change(ctx: _Context, rule: Rule, practices: list[str]) -> Outcomes:
    data = "registered list"
    lists = ctx.series("registered")
    lists = lists[lists["value"].notna()]
    latest, stale = ctx.current(rule, lists, data)
    earlier = _year_before(ctx, lists, latest)
    share = rule.number("change_share_at_least")
    limit = f"a change of at least {share:.0%} either way in a year"
    out: Outcomes = {}
    for practice in practices:
        row = latest.get(practice)
        if row is None:
            out[practice] = stale.get(practice) or ctx.missing(data)
            continue
        before = earlier.get(practice)
        if before is None:
            out[practice] = f"no registered list held for a year before {_day(row['end'].date())}"
            continue
        then, now = _decimal(before["value"]), _decimal(row["value"])
        if then <= 0 or abs(now - then) / then < share:
            out[practice] = None
            continue
        change = (now - then) / then
        figures = (_figure("registered", before), _figure("registered", row))
        found = (
            f"Registered list {'grew' if change > 0 else 'fell'} {abs(change):.1%} in a year: "
            f"{then:,.0f} on {_day(before['end'].date())}, {now:,.0f} on "
            f"{_day(row['end'].date())}."
        )
        out[practice] = _fixed_flag(ctx, rule, found, limit, figures, round(change, 4))
    return out


CRITERIA: dict[str, Callable[[_Context, Rule, list[str]], dict]] = {
    "cqc_requires_improvement": _cqc,
    "high_patients_per_gp": _patients_per_gp,
    "falling_gp_fte": _falling_gp,
    "poor_telephony_access": _telephony,
    "low_qof": _qof,
    "rapid_list_change": _list_change,
}


# --- thresholds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    flagged: bool
    basis: str  # relative | absolute
    practices: int  # practices compared at the period
    worse: int  # of which strictly worse than this one (relative basis)
    share: Fraction | None


class _Judge:
    """Decides a figure against the rule at its period: the worst `worst_share` of the
    practices with the figure for that period when there are enough of them for a national
    comparison, else the absolute threshold. Practices tied on a figure are judged alike: a
    practice is in the worst share when fewer than that share of practices are strictly worse."""

    def __init__(self, ctx, rule, table, worse, absolute, column="ratio"):
        self.rule, self.worse, self.absolute = rule, worse, absolute
        self.minimum = ctx.rules.minimum_practices
        share = rule.number("worst_share")
        self.share = Fraction(str(share)) if share is not None else None
        self.by_period = (
            {
                end: np.sort(group[column].to_numpy(dtype=float))
                for end, group in table.groupby("end")
            }
            if not table.empty
            else {}
        )

    def __call__(self, end: pd.Timestamp, value: float) -> _Verdict:
        population = self.by_period.get(end, np.array([]))
        n = len(population)
        if self.share is not None and n >= self.minimum:
            if self.worse == "higher":
                worse = n - int(np.searchsorted(population, value, side="right"))
            else:
                worse = int(np.searchsorted(population, value, side="left"))
            return _Verdict(worse < self.share * n, "relative", n, worse, self.share)
        limit = float(self.absolute)
        flagged = value >= limit if self.worse == "higher" else value < limit
        return _Verdict(flagged, "absolute", n, 0, self.share)


def _flag(ctx, rule, found, verdict, figures, value, fixed, worse_words) -> Flag:
    """A flag judged by `_Judge`: says which comparison was used, and why."""
    when = _period_words(pd.Timestamp(figures[0].period.start), pd.Timestamp(figures[0].period.end))
    if verdict.basis == "relative":
        share = f"{float(verdict.share):.0%}"
        basis = (
            f"In the worst {share} of the {verdict.practices:,} practices with figures for "
            f"{when} in this workspace, compared nationally ({verdict.worse:,} {worse_words})."
        )
        threshold = f"worst {share} of practices at the same period"
    else:
        why = (
            f"there are figures for only {verdict.practices:,} practices for {when}, fewer than "
            f"the {ctx.rules.minimum_practices:,} a national comparison needs"
            if rule.number("worst_share") is not None
            else "the criterion has no relative threshold"
        )
        basis = f"The figure is {fixed}, the fixed threshold, used because {why}."
        threshold = fixed
    if not rule.confirmed:
        basis += f" {OWN_THRESHOLD}"
    citations = _citations(ctx.frame, figures)
    return Flag(
        code=rule.code,
        label=rule.label,
        evidence=f"{found} {basis} Source: {citations}.",
        figures=tuple(figures),
        period=figures[0].period,
        source_id=figures[0].source_id,
        source_row=figures[0].source_row,
        threshold=_threshold(rule, threshold),
        confirmed=rule.confirmed,
        severity=rule.severity,
        value=value,
        basis=verdict.basis,
    )


def _fixed_flag(ctx, rule, found, limit, figures, value) -> Flag:
    latest = figures[-1]
    citations = _citations(ctx.frame, figures)
    return Flag(
        code=rule.code,
        label=rule.label,
        evidence=(
            f"{found} The threshold is {limit}."
            + ("" if rule.confirmed else f" {OWN_THRESHOLD}")
            + f" Source: {citations}."
        ),
        figures=tuple(figures),
        period=Period(figures[0].period.start, latest.period.end),
        source_id=latest.source_id,
        source_row=latest.source_row,
        threshold=_threshold(rule, limit),
        confirmed=rule.confirmed,
        severity=rule.severity,
        value=value,
        basis="absolute",
    )


def _threshold(rule: Rule, words: str) -> str:
    return words if rule.confirmed else f"{words} ({NOT_NHS_ENGLAND})"


def _year_before(ctx: _Context, rows: pd.DataFrame, latest: dict[str, dict]) -> dict[str, dict]:
    """Each practice's figure nearest 12 months before its latest one (`latest`), within the
    rules' tolerance, as a record; absent when there is none."""
    if not latest or rows.empty:
        return {}
    target = pd.Series({p: r["end"] for p, r in latest.items()}, name="target")
    target = target - pd.DateOffset(years=1)
    pairs = rows.merge(target.rename("target"), left_on="org_code", right_index=True)
    pairs["gap"] = (pairs["end"] - pairs["target"]).abs()
    pairs = pairs[pairs["gap"] <= pd.Timedelta(days=ctx.rules.year_tolerance_days)]
    pairs = pairs.sort_values(["gap", "end"], kind="stable")
    return pairs.groupby("org_code").head(1).set_index("org_code").to_dict("index")


# --- words -----------------------------------------------------------------------------------


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _period_words(start: pd.Timestamp, end: pd.Timestamp) -> str:
    s, e = start.date(), end.date()
    if s == e:
        return _day(s)
    if (
        s.day == 1
        and (e + dt.timedelta(days=1)).day == 1
        and (s.year, s.month) == (e.year, e.month)
    ):
        return f"{s:%B %Y}"
    if (s.month, s.day, e.month, e.day) == (4, 1, 3, 31) and e.year == s.year + 1:
        return f"{s.year}/{e.year % 100:02d}"
    return f"{_day(s)} to {_day(e)}"


def _when(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """ "on 30 September 2024" for a day, "in February 2026" / "in 2023/24" for a span."""
    words = _period_words(start, end)
    return f"on {words}" if start == end else f"in {words}"


def _fte(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _decimal(value: object) -> Decimal | None:
    if _missing(value):
        return None
    if isinstance(value, float) and math.isinf(value):
        return None
    return Decimal(repr(float(value))) if not isinstance(value, Decimal) else value
