"""Committee packs on the web: the page offering each pack that fits the organisation and the
user, and the download that builds one (`pcnkit.reports`) as PDF, Word or HTML.

A pack holds aggregates only (population figures after disclosure control), so anyone who may
open the organisation may download its pack; the funding paper and the PCN pack are for
commissioners and PCN users, as the funding pages' area views are. Building a PDF takes
seconds of CPU, so at most `BUILDS` packs are built at once per server process; a request that
cannot start one within `WAIT` seconds is answered 503 with Retry-After (`limits.Busy`) at once,
rather than holding a database connection other users' pages need. A download starts only from
pcnkit's own pages or the address bar, never from a link on another site.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from pcnkit.access import users
from pcnkit.access.scope import Forbidden
from pcnkit.dates import parse_iso
from pcnkit.errors import PcnkitError
from pcnkit.funding.rules import known_years, year_of
from pcnkit.reports import published
from pcnkit.reports.output import MEDIA, filename, render
from pcnkit.reports.packs import PACKS, PackRequest, PackType, build
from pcnkit.web.context import Ctx, origin_expected
from pcnkit.web.limits import Busy
from pcnkit.web.security import from_this_site
from pcnkit.web.views.assurance import assurance_of
from pcnkit.web.views.orgs import org_ref
from pcnkit.web.views.page import Page

BUILDS = 2  # packs built at once per server process (each takes a CPU for seconds)
# seconds a download waits for a free build before it is answered 503 with Retry-After: short,
# because it holds a database connection meanwhile, and other users' pages need them
WAIT = 2.0
_building = threading.BoundedSemaphore(BUILDS)

# who may download each pack (anyone who may open the organisation may have its update)
WHO = {
    "assurance-update": (users.COMMISSIONER, users.PCN, users.PRACTICE),
    "funding-paper": (users.COMMISSIONER, users.PCN),
    "pcn-pack": (users.COMMISSIONER, users.PCN),
}
FORMAT_NAMES = {"pdf": "PDF", "docx": "Word", "html": "web page (HTML)"}


@dataclass(frozen=True)
class PacksPage(Page):
    """The committee packs an organisation has, for this user."""

    org: dict[str, Any]  # `org_ref`
    as_of: dt.date
    packs: list[dict[str, Any]]  # each: kind, title, about, sections, years, year, inputs, ...
    formats: dict[str, str]


def _offered(c: Ctx, org) -> list[PackType]:
    """The packs for this organisation and user, the one written for its level first (a
    PCN's pack before the general update)."""
    found = [
        p for p in PACKS.values() if org.kind in p.levels and c.user.role in WHO.get(p.kind, ())
    ]
    return sorted(found, key=lambda p: p.levels != (org.kind,))


def packs_page(c: Ctx, code: str) -> PacksPage:
    org = c.org(code)
    year = year_of(c.as_of)
    years = known_years()
    offered = []
    for p in _offered(c, org):
        offered.append(
            {
                "kind": p.kind,
                "title": p.title,
                "about": p.about,
                "sections": [
                    {"key": s.key, "title": s.title, "about": s.about} for s in p.sections
                ],
                "years": years,
                "year": year if year in years else years[-1],
                "previous": "changes" in p.section_keys(),
                "inputs": [
                    {"name": i.name, "title": i.title, "year": i.year}
                    for i in published.available(c.app.ws)
                ]
                if p.kind == "funding-paper"
                else [],
                "download": c.url(f"/packs/{org.code}/download"),
            }
        )
    return PacksPage(org=org_ref(c, org), as_of=c.as_of, packs=offered, formats=FORMAT_NAMES)


def _date(value: str | None, what: str) -> dt.date | None:
    if not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise PcnkitError(f"{what}: '{value[:20]}' is not a date; give it as YYYY-MM-DD") from None


def download(
    c: Ctx,
    code: str,
    kind: str,
    fmt: str,
    year: str | None,
    previous: str | None,
    sections: list[str],
    inputs: str | None,
) -> tuple[bytes, str, str]:
    """Build the pack and render it; (content, media type, file name)."""
    if not from_this_site(c.request, origin_expected(c.request)):
        raise Forbidden(
            "A committee pack is made only from pcnkit's own pages, not from a link on another "
            "website. Open the organisation's packs page and download it there."
        )
    org = c.org(code)
    if c.date_error:
        # a page shows the default date with the problem above it; a file cannot, so the
        # download is refused rather than made for another date than the one asked for
        raise PcnkitError(f"As at: {c.date_error}")
    pack = PACKS.get(kind)
    if pack is None:
        raise PcnkitError(f"There is no pack called '{kind[:40]}'. Choose one on the packs page.")
    if c.user.role not in WHO.get(kind, ()):
        raise Forbidden(f"The {pack.title} is for commissioners and PCN users.")
    if fmt not in MEDIA:
        raise PcnkitError(f"Choose PDF, Word or HTML, not '{fmt[:20]}'.")
    chosen = published.find(c.app.ws, inputs) if inputs and kind == "funding-paper" else None
    if chosen is not None:
        year = published.year_for(chosen, year or None)
    request = PackRequest(
        kind=kind,
        organisation=org.code,
        as_of=c.as_of,
        year=year or None,
        sections=tuple(sections) or None,
        previous_as_of=_date(previous, "Previous pack"),
        statement=chosen.statement if chosen else None,
        scenario=chosen.scenario if chosen else None,
        lists=chosen.lists if chosen else None,
        totals=chosen.totals if chosen else None,
        inputs_title=chosen.title if chosen else None,
    )
    if not _building.acquire(timeout=WAIT):
        raise Busy()
    try:
        assurance = assurance_of(c) if kind != "funding-paper" else None
        doc = build(c.app.ws, request, assurance=assurance, session=c.db)
        content = render(doc, fmt)
    finally:
        _building.release()
    return content, MEDIA[fmt], filename(doc, fmt)
