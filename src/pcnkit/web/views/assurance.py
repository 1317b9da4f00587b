"""Assurance pages: an organisation's indicator tiles (grouped by topic, what needs attention
first) and one indicator's page (SPC chart, funnel plot, members, peers, the definition and
where each figure came from), with their downloads.

Every figure comes from `pcnkit.assurance.summary`; this module only words and arranges it. The
`Assurance` object (observations and membership read once, each indicator's values computed on
first use) is kept per workspace and data version on the application, so a page never reloads
observations; the page data is then memoised per user scope and date like every other page.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException

from pcnkit import charts, spreadsheet
from pcnkit.assurance import compare, definitions, spc, summary
from pcnkit.assurance.definitions import Indicator
from pcnkit.assurance.observations import ENGLAND
from pcnkit.assurance.values import Assurance
from pcnkit.errors import NotFoundError
from pcnkit.registry import kinds
from pcnkit.registry.checks import long_date
from pcnkit.web.context import Ctx, registry_state
from pcnkit.web.views.orgs import org_ref
from pcnkit.web.views.page import Page

# --- the shared Assurance object ---------------------------------------------------------------


@dataclass
class SharedAssurance(Assurance):
    """`Assurance` for concurrent requests: an indicator's values are computed by one thread
    while others asking for the same wait (reads of values already computed take no lock)."""

    def __post_init__(self) -> None:
        self._lock = threading.RLock()

    def values(self, indicator: Indicator):
        found = self._values.get(indicator.id)
        if found is not None:
            return found
        with self._lock:
            return super().values(indicator)


log = logging.getLogger(__name__)
_LOADING = threading.Lock()


def warm(state, ws) -> threading.Thread:
    """Read the workspace's assurance figures and compute every indicator in the background as
    a server worker starts, so the first users are not kept waiting (on all of England the read
    and the values take tens of seconds; requests arriving meanwhile wait for this one load)."""

    def run() -> None:
        try:
            with ws.sessions() as session:
                key = (str(ws.path), registry_state(session))
                with _LOADING:
                    held = getattr(state, "assurance", None)
                    if held is not None and held[0] == key:
                        return
                    loaded = SharedAssurance.load(session, snapshot=ws.layout.assurance_snapshot)
                    state.assurance = (key, loaded)
                for indicator in definitions.load_all():
                    loaded.values(indicator)
        except Exception:  # a failed warm-up leaves the first request to load (and report)
            log.exception("assurance warm-up failed; the first assurance page will load it")

    thread = threading.Thread(target=run, name="assurance-warm-up", daemon=True)
    thread.start()
    return thread


def assurance_of(c: Ctx) -> Assurance:
    """The workspace's assurance figures, loaded once per data version (the registry state of
    `Ctx.stamp` changes whenever a file, assurance files included, is loaded)."""
    state = c.request.app.state
    key = (str(c.app.ws.path), c.stamp[0])
    held = getattr(state, "assurance", None)
    if held is not None and held[0] == key:
        return held[1]
    with _LOADING:
        held = getattr(state, "assurance", None)
        if held is not None and held[0] == key:
            return held[1]
        loaded = SharedAssurance.load(c.db, snapshot=c.app.ws.layout.assurance_snapshot)
        state.assurance = (key, loaded)
        return loaded


# --- words ---------------------------------------------------------------------------------------

POLARITY_WORDS = {
    "higher": "Higher is better",
    "lower": "Lower is better",
    "neither": "Neither higher nor lower is better",
}
# Each icon's small symbol (a letter in a coloured tag) beside its words, as Making Data Count
# draws them: blue improvement, orange concern, purple change where neither is better.
VARIATION_SYMBOLS = {
    "common_cause": ("~", "grey"),
    "improvement_high": ("H", "blue"),
    "improvement_low": ("L", "blue"),
    "concern_high": ("H", "orange"),
    "concern_low": ("L", "orange"),
    "neither_high": ("H", "purple"),
    "neither_low": ("L", "purple"),
}
ASSURANCE_SYMBOLS = {
    "consistently_pass": ("P", "blue"),
    "consistently_fail": ("F", "orange"),
    "hit_and_miss": ("?", "grey"),
}
ASSESSMENT_WORDS = {
    "improvement": "improvement",
    "concern": "concern",
    "neither": "a change (neither direction is better)",
}
ORDINAL = {1: "st", 2: "nd", 3: "rd"}


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else ORDINAL.get(n % 10, "th")
    return f"{n}{suffix}"


def value_text(indicator: Indicator, value: float | None) -> str | None:
    """A value as a committee reads it: '71.0%', '12.3 per 1,000 patients', '1,234'."""
    if value is None:
        return None
    if indicator.unit == "percent":
        return f"{value:,.1f}%"
    if indicator.unit == "count":
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return f"{value:,.1f} {indicator.unit_words}"


def period_text(f: summary.Figure) -> str:
    """The period as the CLI and packs write it (`summary.period_words`)."""
    return summary.period_words(f)


def _number(v: float | None) -> float | int | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else v


def _icon(icon: spc.Icon | None, symbols: dict) -> dict | None:
    if icon is None:
        return None
    symbol, colour = symbols.get(icon.code, ("", "grey"))
    return {
        "code": icon.code,
        "label": icon.label,
        "description": icon.description,
        "symbol": symbol,
        "colour": colour,
    }


def icon_key() -> dict[str, list[dict]]:
    """Every icon the tiles may show, with its symbol and what it means (the page's key)."""
    return {
        "variation": [_icon(i, VARIATION_SYMBOLS) for i in spc.VARIATION_ICONS.values()],
        "assurance": [_icon(i, ASSURANCE_SYMBOLS) for i in spc.ASSURANCE_ICONS.values()],
        "comparisons": [
            {"code": k, "label": v.replace("the benchmark", "England")}
            for k, v in compare.COMPARISONS.items()
        ],
    }


def _comparison(c: compare.Comparison | None, against: str) -> dict | None:
    if c is None:
        return None
    label = c.label.replace("the benchmark", against)
    return {
        "result": c.result,
        "label": label if c.result != "not_compared" else f"Not compared with {against}",
        "lower": c.lower,
        "upper": c.upper,
        "reason": c.reason,
    }


def _kind_plural(kind: str, as_of: dt.date) -> str:
    label = kinds.KINDS[kind].label_at(as_of) if kind in kinds.KINDS else kind
    return label + "s"


def _coverage(f: summary.Figure | None) -> dict | None:
    """How many member practices' figures the value counts, out of those held, in the
    library's words (`summary.coverage_words`)."""
    if f is None or f.members is None or f.basis != "sum":
        return None
    return {"units": f.units or 0, "members": f.members, "text": summary.coverage_words(f)}


def _figure(indicator: Indicator, f: summary.Figure | None) -> dict | None:
    if f is None:
        return None
    return {
        "org": f.org,
        "start": f.start,
        "end": f.end,
        "period": period_text(f),
        "value": f.value,
        "value_text": value_text(indicator, f.value),
        "numerator": _number(f.numerator),
        "denominator": _number(f.denominator),
        "units": f.units,
        "members": f.members,
        "basis": f.basis,
        "reason": f.reason,
        "provenance": [p.cite() for p in f.provenance],
    }


def _trend_words(indicator: Indicator, points: list[summary.Figure]) -> str:
    known = [p for p in points if p.value is not None]
    if len(known) < 2:
        return "Not enough points for a trend."
    first, last = known[0], known[-1]
    low = min(known, key=lambda p: p.value)
    high = max(known, key=lambda p: p.value)
    return (
        f"Trend over {len(known)} periods: from {value_text(indicator, first.value)} "
        f"{summary.period_phrase(first)} to {value_text(indicator, last.value)} "
        f"{summary.period_phrase(last)}; lowest {value_text(indicator, low.value)} "
        f"({period_text(low)}), highest {value_text(indicator, high.value)} "
        f"({period_text(high)})."
    )


def _tile(c: Ctx, t: summary.Tile, org_code: str) -> dict[str, Any]:
    """One tile's data: every figure from the library's `Tile`, with its words."""
    i, f, h = t.indicator, t.figure, c.hierarchy
    value = f.value if f is not None else None
    reason = t.reason or (f.reason if f is not None and f.value is None else None)
    peer = None
    if t.peer_parent:
        parent = h.by_code.get(t.peer_parent)
        parent_name = h.name(parent) if parent else t.peer_parent
        kind = h.by_code[org_code].kind
        # peers are as the organisation was placed when the figure was made, which the
        # period says (a practice can be in one PCN in 2024 and another in 2026)
        when = f" ({summary.period_words(t.figure)})" if t.figure else ""
        where = f"{_kind_plural(kind, c.as_of)} in {parent_name}{when}"
        rank = t.peer_rank.rank if t.peer_rank else None
        peer = {
            "parent": t.peer_parent,
            "parent_name": parent_name,
            "rank": rank,
            "quartile": t.peer_rank.quartile if t.peer_rank else None,
            "count": t.peer_count,
            "text": f"{ordinal(rank)} of {t.peer_count} {where}"
            if rank
            else f"Not ranked among {where}",
        }
    target = None
    if t.target is not None:
        target = {
            "value": float(t.target.value),
            "value_text": value_text(i, float(t.target.value)),
            "source": t.target.source,
            "status": t.target_status,
            "status_label": compare.TARGETS.get(t.target_status or "", None),
        }
    points = t.series
    spark = [p.value for p in points]
    return {
        "indicator": {
            "id": i.id,
            "title": i.title,
            "short_title": i.short_title,
            "topic": i.topic,
            "unit": i.unit,
            "unit_words": i.unit_words,
            "polarity": i.polarity,
            "polarity_words": POLARITY_WORDS.get(i.polarity, i.polarity),
        },
        "latest": _figure(i, f) if value is not None else None,
        "value": value,
        "value_text": value_text(i, value),
        "period": period_text(f) if f is not None else None,
        "period_phrase": summary.period_phrase(f) if f is not None else None,
        "reason": None if value is not None else (reason or "no value for this period"),
        "trend": _trend_words(i, points),
        "svg": charts.sparkline(f"spark-{i.id}", f"Trend of {i.short_title}", spark),
        "variation": _icon(t.chart.variation if t.chart else None, VARIATION_SYMBOLS),
        "assurance": _icon(t.chart.assurance if t.chart else None, ASSURANCE_SYMBOLS),
        "target": target,
        "england": _figure(i, t.england),
        "versus_england": _comparison(t.versus_england, "England"),
        "peer": peer,
        "coverage": _coverage(f),
        "attention": list(t.attention),
        "url": c.url(f"/assurance/{org_code}/{i.id}"),
    }


# --- the organisation's page -------------------------------------------------------------------


@dataclass(frozen=True)
class AssurancePage(Page):
    """An organisation's assurance tiles as at a date, grouped by topic, and the tiles that
    need attention first."""

    org: dict[str, Any]  # `org_ref`
    as_of: dt.date
    attention: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    with_value: int
    key: dict[str, list[dict[str, Any]]]
    # the newest figures held, when they are after the page's date: {date, url}
    newer: dict[str, Any] | None = None


def _tiles(c: Ctx, code: str) -> list[summary.Tile]:
    return c.memo(
        ("assurance-tiles", code),
        lambda: summary.tiles(assurance_of(c), c.hierarchy, code, c.as_of),
        per_user=False,
    )


def _newer(c: Ctx, code: str) -> dict[str, Any] | None:
    """The end of the newest period any publication held describes, when it is after the
    page's date (the demo opens in January 2020; its publications run to February 2026)."""
    day = assurance_of(c).newest()
    if day is None or day <= c.as_of:
        return None
    query = urlencode({"on": day.isoformat()})
    return {"date": day, "url": f"/assurance/{code}?{query}"}


def assurance_page(c: Ctx, code: str) -> AssurancePage:
    """The page's data, memoised per user scope, date and data version (as the organisation
    page is): the scope check runs when it is made, and a refusal is never kept."""
    return c.memo(("assurance", code.strip().upper()), lambda: _assurance_page(c, code))


def _assurance_page(c: Ctx, code: str) -> AssurancePage:
    code = c.org(code).code  # scope first: 403 for an organisation outside the user's
    found = _tiles(c, code)
    tiles = {id(t): _tile(c, t, code) for t in found}
    topics = []
    for topic in definitions.TOPICS:
        # those with a value first (in definition order), then those saying why they have none
        in_topic = sorted(
            (tiles[id(t)] for t in found if t.indicator.topic == topic),
            key=lambda t: t["value"] is None,
        )
        if in_topic:
            topics.append({"topic": topic, "tiles": in_topic})
    attention = [
        {
            "id": t.indicator.id,
            "title": t.indicator.title,
            "value_text": tiles[id(t)]["value_text"],
            "period": tiles[id(t)]["period"],
            "reasons": list(t.attention),
            "url": tiles[id(t)]["url"],
        }
        for t in summary.needs_attention(found)
    ]
    return AssurancePage(
        org=org_ref(c, c.hierarchy.by_code[code]),
        as_of=c.as_of,
        attention=attention,
        topics=topics,
        with_value=sum(1 for t in tiles.values() if t["value"] is not None),
        key=icon_key(),
        newer=_newer(c, code),
    )


def home_attention(c: Ctx) -> dict[str, Any] | None:
    """Every user's home page leads with what needs attention in their organisation (at most
    5): the commissioner's area, the PCN, the practice."""
    if c.user.scope_code not in c.hierarchy.by_code:
        return None
    page = assurance_page(c, c.user.scope_code)
    return {
        "with_value": page.with_value,
        "items": page.attention[:5],
        "more": max(0, len(page.attention) - 5),
        "url": c.url(f"/assurance/{page.org['code']}"),
    }


# --- one indicator -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorPage(Page):
    """One indicator for one organisation: its tile, SPC chart and every point, the members
    that pull it down, peers and a funnel plot, the definition and where the figures came
    from."""

    org: dict[str, Any]
    as_of: dt.date
    tile: dict[str, Any]
    definition: dict[str, Any]
    chart: dict[str, Any]
    series: list[dict[str, Any]]
    members: list[dict[str, Any]]
    # an area's practices, worst pull first (its members are its PCNs)
    practices: list[dict[str, Any]]
    peers: list[dict[str, Any]]
    peers_hidden: int
    funnel: dict[str, Any] | None
    provenance: list[str]
    downloads: dict[str, str]


def definition_of(i: Indicator) -> dict[str, Any]:
    reviewed = (
        f"Reviewed {long_date(i.reviewed.date)} by {i.reviewed.by}"
        if i.reviewed
        else "NO INDEPENDENT REVIEW RECORDED"
    )
    return {
        "id": i.id,
        "version": i.version,
        "title": i.title,
        "description": i.description,
        "topic": i.topic,
        "unit_words": i.unit_words or "a count",
        "polarity_words": POLARITY_WORDS.get(i.polarity, i.polarity),
        "numerator": i.numerator.words,
        "denominator": i.denominator.words if i.denominator else None,
        "limits": i.limits,
        "disclosure": i.disclosure,
        "sources": list(i.sources),
        "targets": [
            {
                "value": float(t.value),
                "value_text": value_text(i, float(t.value)),
                "source": t.source,
                "start": t.start,
                "end": t.end,
            }
            for t in i.targets
        ],
        "authored_by": i.authored_by,
        "reviewed": reviewed,
        "independently_reviewed": i.reviewed is not None,
        "next_review": i.next_review,
    }


def _signal_words(p: spc.Point | None) -> str:
    if p is None:
        return "not charted"
    if p.value is None:
        return "no value: not a point on the chart"
    if p.signal is None:
        return "none"
    assessed = ASSESSMENT_WORDS.get(p.assessment or "", "")
    return f"{spc.RULES[p.signal]}" + (f" ({assessed})" if assessed else "")


def _series_rows(i: Indicator, t: summary.Tile) -> list[dict[str, Any]]:
    """Every period of the series, with the chart's lines and the signal in words."""
    rows = []
    for f, p in summary.charted(t):
        rows.append(
            {
                "period": period_text(f),
                "start": f.start,
                "end": f.end,
                "value": f.value,
                "value_text": value_text(i, f.value) or f"no value: {f.reason or 'not known'}",
                "numerator": _number(f.numerator),
                "denominator": _number(f.denominator),
                "coverage": (_coverage(f) or {}).get("text"),
                "centre": p.centre if p else None,
                "lower": p.lower if p else None,
                "upper": p.upper if p else None,
                "signal": _signal_words(p),
                "assessment": p.assessment if p else None,
            }
        )
    return rows


def _chart(c: Ctx, i: Indicator, t: summary.Tile, org_name: str) -> dict[str, Any]:
    if t.chart is None:
        return {
            "svg": "",
            "notes": [],
            "trial": False,
            "available": False,
            "why": "An SPC chart needs at least two periods with a value.",
        }
    ch = t.chart
    points = summary.chart_points(ch)
    trial = any(s.trial for s in ch.segments)
    description = summary.chart_description(ch) + " The table below gives every point."
    return {
        "svg": charts.spc_chart(
            f"spc-{i.id}",
            f"{i.title}: {org_name}, statistical process control chart",
            description,
            points,
            ch.target,
        ),
        "notes": list(ch.notes),
        "trial": trial,
        "trial_note": (
            f"Trial limits: the baseline has fewer than {spc.MIN_BASELINE} points, so the "
            "limits will move as more months arrive; read the signals with care."
            if trial
            else None
        ),
        "available": True,
        "why": None,
        "mean": ch.segments[-1].mean,
        "target": ch.target,
    }


def _member_row(c: Ctx, i: Indicator, m: summary.MemberRow, against: str) -> dict[str, Any]:
    f = m.figure
    return {
        "code": f.org,
        "name": m.name,
        "kind": m.kind,
        "can_open": f.org in c.reach,
        "value": f.value,
        "value_text": value_text(i, f.value) or f"no value: {f.reason or 'not known'}",
        "numerator": _number(f.numerator),
        "denominator": _number(f.denominator),
        "versus": (_comparison(m.versus_parent, against) or {}).get("label") or "Not compared",
        "pull": m.pull,
        "pull_text": (
            "–"
            if m.pull is None
            else ("pulls it down" if _pulls_down(i, m.pull) else "holds it up")
            if m.pull
            else "no effect"
        ),
    }


def _pulls_down(i: Indicator, pull: float) -> bool:
    """Whether the member moves the value the wrong way (down where higher is better)."""
    return pull > 0 if i.polarity == "lower" else pull < 0


def _detail(c: Ctx, code: str, i: Indicator) -> summary.Detail:
    """The library's answer for one indicator and organisation (the same for every user:
    what a user may see of it is chosen by the page and the downloads)."""
    return c.memo(
        ("assurance-detail", code, i.id),
        lambda: summary.detail(assurance_of(c), c.hierarchy, i, code, c.as_of),
        per_user=False,
    )


# Longer than any indicator's id: a longer one is refused without being repeated.
MAX_ID = 80


def indicator_page(c: Ctx, code: str, indicator_id: str) -> IndicatorPage:
    if len(indicator_id) > MAX_ID:
        raise NotFoundError("No indicator has that name: choose one from the assurance page.")
    indicator = definitions.get(indicator_id)  # 404 for an unknown indicator
    return c.memo(
        ("assurance-indicator", code.strip().upper(), indicator.id),
        lambda: _indicator_page(c, code, indicator),
    )


def _indicator_page(c: Ctx, code: str, i: Indicator) -> IndicatorPage:
    code = c.org(code).code  # scope first (inside the memo, as `assurance_page`)
    h = c.hierarchy
    d = _detail(c, code, i)
    t = d.tile
    org = h.by_code[code]
    name = h.name(org)
    members = [_member_row(c, i, m, name) for m in d.members if m.figure.org in c.reach]
    practices = [_member_row(c, i, m, name) for m in d.practices if m.figure.org in c.reach]
    # peers the user may not open are counted, not shown: no figure of another scope leaves
    peers = [_member_row(c, i, m, "England") for m in d.peers if m.figure.org in c.reach]
    hidden = sum(1 for m in d.peers if m.figure.org not in c.reach)
    funnel = None
    if d.funnel and t.england and t.england.value is not None:
        dots = [
            charts.FunnelDot(p["name"], float(p["denominator"]), p["value"], p["code"] == code)
            for p in peers
            if p["value"] is not None and p["denominator"]
        ]
        limits = [
            (f.denominator, f.lower_95, f.upper_95, f.lower_998, f.upper_998) for f in d.funnel
        ]
        funnel = {
            "svg": charts.funnel_plot(
                f"funnel-{i.id}",
                f"{i.title}: {name} and its peers against England",
                f"Each dot is an organisation's value against its denominator "
                f"({(i.denominator.words if i.denominator else 'count').lower()}); the lines are "
                f"England's value ({value_text(i, t.england.value)}) and its 95% and 99.8% "
                "control limits. The peers table gives the same figures.",
                t.england.value,
                limits,
                dots,
                x_label=i.denominator.words if i.denominator else "",
            ),
            "benchmark": t.england.value,
            "benchmark_text": value_text(i, t.england.value),
            "dots": len(dots),
        }
    provenance = []
    for f in (t.figure, t.england):
        if f is not None:
            who = "England" if f.org == ENGLAND else name
            provenance += [f"{who}: {p.cite()}" for p in f.provenance]
    base = f"/assurance/{code}/{i.id}"
    return IndicatorPage(
        org=org_ref(c, org),
        as_of=c.as_of,
        tile=_tile(c, t, code),
        definition=definition_of(i),
        chart=_chart(c, i, t, name),
        series=_series_rows(i, t),
        members=members,
        practices=practices,
        peers=peers,
        peers_hidden=hidden,
        funnel=funnel,
        provenance=provenance,
        downloads={
            "series": c.url(f"{base}/download.csv", part="series"),
            "members": c.url(f"{base}/download.csv", part="members"),
            "peers": c.url(f"{base}/download.csv", part="peers"),
            "xlsx": c.url(f"{base}/download.xlsx"),
        },
    )


# --- downloads ---------------------------------------------------------------------------------


def download(c: Ctx, code: str, indicator_id: str, part: str | None) -> tuple[bytes, str, str]:
    """One table as CSV, or all three as an Excel workbook with a cover sheet: the library's
    records (`summary.series_records`, `member_records`: the CLI writes the same columns),
    written by `pcnkit.spreadsheet`, which neutralises text that would run as a formula.
    Peers outside the user's organisations are left out, as on the page."""
    page = indicator_page(c, code, indicator_id)
    d = _detail(c, page.org["code"], definitions.get(indicator_id))
    stem = f"assurance-{page.org['code']}-{page.definition['id']}-{page.as_of.isoformat()}"
    members = [m for m in d.members + d.practices if m.figure.org in c.reach]
    peers = [m for m in d.peers if m.figure.org in c.reach]
    sheets = {
        "series": (summary.series_records(d.tile), summary.SERIES_COLUMNS),
        "members": (summary.member_records(members), summary.MEMBER_COLUMNS),
        "peers": (summary.member_records(peers), summary.MEMBER_COLUMNS),
    }
    if part is None:
        out = io.BytesIO()
        defn = page.definition
        cover = [
            ("Indicator", f"{defn['title']} (version {defn['version']})"),
            ("Organisation", f"{page.org['name']} ({page.org['code']})"),
            ("As at", page.as_of),
            ("Description", defn["description"]),
            ("Numerator", defn["numerator"]),
            ("Denominator", defn["denominator"] or "none"),
            ("Limits", defn["limits"]),
            ("Sources", ", ".join(defn["sources"])),
            ("Review", defn["reviewed"]),
            ("Where the figures came from", "; ".join(page.provenance) or "–"),
        ]
        spreadsheet.write_workbook(out, sheets, money=set(), cover=cover)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return out.getvalue(), media, f"{stem}.xlsx"
    if part not in sheets:
        raise HTTPException(404, f"There is no '{part}' table; choose one of: {', '.join(sheets)}.")
    rows, columns = sheets[part]
    return spreadsheet.csv_download(columns, rows), "text/csv; charset=utf-8", f"{stem}-{part}.csv"
