"""The committee packs pcnkit writes, each a template of sections the user chooses from, and
the one entry point every shell calls: `build(workspace, request)`.

A section is a function of a `PackContext` returning a `document.Section`; it reads figures
from the engines (registry, funding, assurance, population) and formats them with
`document.money` and friends, and computes nothing of its own. Bad input (an organisation the
registry does not hold, a date before the data, a year without rules, a section the pack does
not have) raises `PcnkitError` before anything is built, so no file is written.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pcnkit.errors import NotFoundError, PcnkitError
from pcnkit.registry import kinds
from pcnkit.registry.queries import Hierarchy
from pcnkit.reports.document import Document, Section, long_date
from pcnkit.store import Workspace
from pcnkit.store.models import Membership, Organisation

if TYPE_CHECKING:
    from pcnkit.assurance.values import Assurance
    from pcnkit.funding.rules import YearRules


@dataclass(frozen=True)
class PackRequest:
    """What the user asked for. `sections` None means every section of the pack; `year` None
    means the contract year containing `as_of`; `previous_as_of` is the date of the last pack
    (the "what has changed" section compares with it). `statement`, `scenario` and `lists` are
    the funding paper's optional inputs: published figures to set beside the engine's, a
    scenario of rates, and a list-sizes CSV in place of the registry's lists; `inputs_title`
    names the published paper they come from."""

    kind: str
    organisation: str
    as_of: dt.date
    year: str | None = None
    sections: tuple[str, ...] | None = None
    previous_as_of: dt.date | None = None
    generated: dt.datetime | None = None
    statement: Path | None = None
    scenario: Path | None = None
    lists: Path | None = None
    # the published paper's place subtotals (`borough`/`place` and one column per stream)
    totals: Path | None = None
    # the published paper `statement`, `scenario` and `lists` come from, when they are a
    # paper's inputs the workspace holds (`reports.published`): named instead of the files
    inputs_title: str | None = None


@dataclass
class PackContext:
    """What every section reads: the workspace, an open session, the organisation and the
    registry as at the as-of date, the contract year's rules, and (read once, on first use) the
    assurance figures and the population store's folder."""

    ws: Workspace
    session: Session
    request: PackRequest
    hierarchy: Hierarchy
    org: Organisation
    rules: YearRules
    preloaded_assurance: Assurance | None = None
    memo: dict[str, object] = field(default_factory=dict)

    @property
    def as_of(self) -> dt.date:
        return self.request.as_of

    @property
    def year(self) -> str:
        return self.rules.year

    @property
    def code(self) -> str:
        return self.org.code

    @property
    def name(self) -> str:
        return self.hierarchy.name(self.org)

    @cached_property
    def assurance(self) -> Assurance:
        if self.preloaded_assurance is not None:
            return self.preloaded_assurance
        from pcnkit.assurance.values import Assurance

        return Assurance.load(self.session, snapshot=self.ws.layout.assurance_snapshot)

    @property
    def population_folder(self) -> Path:
        return self.ws.layout.population


SectionFn = Callable[[PackContext], Section]


@dataclass(frozen=True)
class SectionType:
    key: str
    title: str
    build: str  # "module:function" under pcnkit.reports.sections, imported when used
    about: str  # one line for `pcnkit report --help` and the web form

    def run(self, ctx: PackContext) -> Section:
        from importlib import import_module

        module, function = self.build.split(":")
        fn: SectionFn = getattr(import_module(f"pcnkit.reports.sections.{module}"), function)
        return fn(ctx)


@dataclass(frozen=True)
class PackType:
    kind: str
    title: str
    about: str
    sections: tuple[SectionType, ...]
    levels: tuple[str, ...]  # the kinds of organisation it is written for

    @property
    def level_words(self) -> str:
        return "a PCN" if self.levels == (kinds.PCN,) else (
            "an area or a PCN" if kinds.PRACTICE not in self.levels
            else "an area, a PCN or a practice"
        )  # fmt: skip

    def section_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.sections)


# the kinds of area a pack can be about (an ICS is an ICB here; a grouping such as BHR)
AREAS = (kinds.NATION, kinds.REGION, kinds.ICB, kinds.SUB_ICB, kinds.GROUPING, kinds.PLACE,
         kinds.FEDERATION)  # fmt: skip

PACKS: dict[str, PackType] = {
    p.kind: p
    for p in (
        PackType(
            "assurance-update",
            "Primary care assurance update",
            "the paper a primary care committee reads each quarter: structure, the assurance "
            "indicators against the aspirations, vulnerable practices, funding, workforce and "
            "population health, and what has changed",
            (
                SectionType("structure", "Structure and configuration", "structure:section",
                            "the PCNs, their lists and the configuration check's findings"),
                SectionType("assurance", "Assurance indicators against the aspirations",
                            "assurance:section",
                            "each indicator against its target, its SPC chart and the members "
                            "pulling it down"),
                SectionType("watchlist", "Vulnerable practices", "watchlist:section",
                            "the practices the watch-list flags, and why"),
                SectionType("funding", "Funding this year", "funding:section",
                            "Network Contract DES entitlement by stream and by place or PCN"),
                SectionType("workforce", "Workforce", "workforce:section",
                            "staff in post per 10,000 patients and ARRS roles"),
                SectionType("population", "Population health", "population:section",
                            "headline counts of the registered population, after "
                            "disclosure control"),
                SectionType("changes", "What has changed since the last pack", "changes:section",
                            "membership, indicators and the watch-list against the previous "
                            "pack's date"),
            ),
            (*AREAS, kinds.PCN, kinds.PRACTICE),
        ),
        PackType(
            "funding-paper",
            "Network Contract DES funding paper",
            "each PCN's Network Contract DES streams with their rates and populations, place "
            "subtotals and totals, what is not confirmed and the payment schedule",
            (
                SectionType("table", "Funding by PCN", "funding_paper:table",
                            "each PCN's streams, with place subtotals and the grand total"),
                SectionType("rates", "Rates and what is not confirmed", "funding_paper:rates",
                            "each stream's rate, basis and whether public sources confirm it"),
                SectionType("schedule", "Schedule of payments", "funding_paper:schedule",
                            "what is paid in each month of the year"),
                SectionType("published", "Against the published figures",
                            "funding_paper:published",
                            "a published paper's figures set beside pcnkit's, each difference "
                            "explained (when the paper's figures are given)"),
            ),
            (*AREAS, kinds.PCN),
        ),
        PackType(
            "pcn-pack",
            "PCN pack",
            "for a clinical director: members, funding and ARRS headroom, population health, "
            "case-finding list sizes and the assurance tiles",
            (
                SectionType("members", "Member practices", "members:section",
                            "the PCN's practices and their lists"),
                SectionType("funding", "Funding and ARRS headroom", "funding:pcn_section",
                            "the PCN's entitlement by stream and its ARRS budget and headroom"),
                SectionType("population", "Population health", "population:section",
                            "headline counts, after disclosure control"),
                SectionType("case_finding", "Case-finding list sizes", "population:case_finding",
                            "how many patients each case-finding list holds (counts only)"),
                SectionType("assurance", "Assurance", "assurance:tiles_section",
                            "each indicator's latest figure, target and trend"),
            ),
            (kinds.PCN,),
        ),
    )
}  # fmt: skip


def pack_type(kind: str) -> PackType:
    try:
        return PACKS[kind]
    except KeyError:
        raise PcnkitError(f"no pack called '{kind}'; choose one of: {', '.join(PACKS)}") from None


def chosen_sections(pack: PackType, sections: tuple[str, ...] | None) -> list[SectionType]:
    """The sections asked for, in the pack's order; an unknown name is refused."""
    wanted = [s.strip().lower().replace("-", "_") for s in sections or () if s.strip()]
    if not wanted:  # none chosen (or only blanks): the whole pack
        return list(pack.sections)
    unknown = [s for s in wanted if s not in pack.section_keys()]
    if unknown:
        shown = ", ".join(repr(u[:40]) for u in unknown[:3]) + (
            f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        )
        raise PcnkitError(
            f"the {pack.title} has no section {shown}; "
            f"choose from: {', '.join(pack.section_keys())}"
        )
    return [s for s in pack.sections if s.key in wanted]


def _rules(year: str | None, as_of: dt.date) -> YearRules:
    from pcnkit.funding.rules import rules_for, year_of

    return rules_for(year or year_of(as_of))


def _first_membership(session: Session) -> dt.date | None:
    return session.scalar(select(func.min(Membership.start)))


def context(
    ws: Workspace, session: Session, request: PackRequest, assurance: Assurance | None = None
) -> PackContext:
    """Check the request against the workspace (raising `PcnkitError` with what to do) and
    return the context the sections read."""
    pack = pack_type(request.kind)
    chosen_sections(pack, request.sections)
    first = _first_membership(session)
    if first is None:
        raise PcnkitError(
            "the workspace holds no PCN membership; load the registry first "
            "(`pcnkit registry load`)"
        )
    if request.as_of < first:
        raise PcnkitError(
            f"{request.as_of} is before the registry's data (its first membership starts on "
            f"{first}); choose a later --as-of"
        )
    if request.previous_as_of is not None and request.previous_as_of < first:
        raise PcnkitError(
            f"the previous pack's date ({request.previous_as_of}) is before the registry's data "
            f"(its first membership starts on {first}); choose a later date"
        )
    if request.previous_as_of is not None and request.previous_as_of >= request.as_of:
        raise PcnkitError(
            f"the previous pack's date ({request.previous_as_of}) must be before this pack's "
            f"({request.as_of})"
        )
    rules = _rules(request.year, request.as_of)
    h = Hierarchy.at(session, request.as_of)
    code = request.organisation.strip().upper()
    try:
        org = h.get(code)
    except NotFoundError:
        raise NotFoundError(
            f"no organisation '{request.organisation}' in the registry on {request.as_of}; "
            "give a practice, PCN, place or ICS code (`pcnkit registry show CODE`)"
        ) from None
    if org.kind not in pack.levels:
        raise PcnkitError(
            f"a {pack.title} is written for {pack.level_words}, and {org.code} is a "
            f"{_kind_words(org.kind, request.as_of)}"
        )
    return PackContext(ws, session, request, h, org, rules, assurance)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (the month's last day where it is shorter)."""
    import calendar

    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _kind_words(kind: str, as_of: dt.date) -> str:
    found = kinds.KINDS.get(kind)
    return found.label_at(as_of) if found else kind


def generated_time() -> dt.datetime:
    """When a pack is made: now, or SOURCE_DATE_EPOCH (the reproducible-builds convention) when
    set, so two runs can be compared byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).replace(tzinfo=None)
    return dt.datetime.now().replace(microsecond=0)


def build(
    ws: Workspace,
    request: PackRequest,
    assurance: Assurance | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    session: Session | None = None,
) -> Document:
    """The pack `request` asks for, built from `ws`'s figures (read through `session` when
    given: the web's request session; else a transaction of its own); `progress(title, done,
    of)` is told as each section starts (the CLI's progress bar)."""
    if session is None:
        with ws.transaction() as own:
            return _build(ws, request, assurance, progress, own)
    return _build(ws, request, assurance, progress, session)


def _build(ws, request, assurance, progress, session) -> Document:
    pack = pack_type(request.kind)
    assumed = ""
    wants_changes = any(s.key == "changes" for s in chosen_sections(pack, request.sections))
    if wants_changes and request.previous_as_of is None:
        # a committee meets quarterly: without the last pack's date, compare with three
        # months earlier, and say so on the cover
        request = replace(request, previous_as_of=months_before(request.as_of, 3))
        assumed = " (assumed: three months earlier; give the last pack's date to change it)"
    ctx = context(ws, session, request, assurance)
    doc = Document(
        kind=pack.kind,
        title=pack.title,
        organisation=f"{ctx.name} ({ctx.code})",
        as_of=request.as_of,
        generated=request.generated or generated_time(),
    )
    doc.inputs.append(("Contract year", ctx.year))
    if request.inputs_title:
        doc.inputs.append(
            (
                "Lists and rates",
                f"as in {request.inputs_title}, with its figures set beside pcnkit's",
            )
        )
        doc.variant = "as-published"
    elif request.lists or request.scenario or request.statement:
        given = [w for w, f in (("lists", request.lists), ("rates (a scenario)", request.scenario),
                                ("published figures", request.statement)) if f]  # fmt: skip
        doc.inputs.append(("Supplied by the user", ", ".join(given)))
        doc.variant = "user-inputs"
    if request.previous_as_of:
        doc.inputs.append(("Previous pack", long_date(request.previous_as_of) + assumed))
    chosen = chosen_sections(pack, request.sections)
    for i, s in enumerate(chosen):
        if progress:
            progress(s.title, i, len(chosen))
        doc.sections.append(s.run(ctx))
    if progress:
        progress("done", len(chosen), len(chosen))
    doc.unconfirmed = list(dict.fromkeys(ctx.memo.get("unconfirmed", [])))  # type: ignore[arg-type]
    doc.synthetic = bool(ctx.memo.get("synthetic"))
    doc.illustrative = list(dict.fromkeys(ctx.memo.get("illustrative", [])))  # type: ignore[arg-type]
    names = ", ".join(s.title for s in doc.sections)
    doc.inputs.append(("Sections", names))
    return doc


def note_unconfirmed(ctx: PackContext, *words: str) -> None:
    """Record figures that are not confirmed, for the cover's list."""
    found = ctx.memo.setdefault("unconfirmed", [])
    assert isinstance(found, list)
    found.extend(words)


def note_illustrative(ctx: PackContext, words: str) -> None:
    """Figures in the pack are illustrative, not real (a planning roster): the cover says so."""
    found = ctx.memo.setdefault("illustrative", [])
    assert isinstance(found, list)
    found.append(words)


def note_synthetic(ctx: PackContext) -> None:
    """The pack shows figures from a SYNTHETIC population: the cover and every page say so."""
    ctx.memo["synthetic"] = True


__all__ = [
    "PACKS",
    "PackContext",
    "PackRequest",
    "PackType",
    "SectionType",
    "build",
    "chosen_sections",
    "context",
    "note_illustrative",
    "note_synthetic",
    "note_unconfirmed",
    "pack_type",
]
