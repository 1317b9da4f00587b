"""What every request works with: the signed-in user, the as-of date, a database session and the
registry hierarchy at that date. Routes receive one `Ctx` and pass it to the views."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import Depends, HTTPException, Request
from jinja2 import Environment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pcnkit.access import audit, scope
from pcnkit.access.users import UserView, session_user
from pcnkit.dates import parse_iso
from pcnkit.registry.checks import long_date
from pcnkit.registry.coverage import DataDates, data_dates
from pcnkit.registry.queries import Hierarchy
from pcnkit.store import Workspace
from pcnkit.store.models import (
    ListSize,
    Membership,
    Organisation,
    OrganisationName,
    PaymentLine,
    PcnRole,
    PracticeMerger,
    SourceFile,
)
from pcnkit.web.limits import Slots
from pcnkit.web.security import (
    COOKIE,
    SessionData,
    Sessions,
    from_this_site,
    request_origin,
    same_origin,
)


@dataclass
class WebApp:
    """Application-wide state, made once by `create_app`."""

    ws: Workspace
    population: Path
    default_as_of: dt.date
    sessions: Sessions
    templates: Environment
    slots: Slots
    https: bool = False
    origin: str | None = None  # the configured public origin (PCNKIT_EXTERNAL_URL), if any
    clock: object = field(default=None)  # tests may fix "now"
    memo: Memo = field(default_factory=lambda: Memo(512))
    # Whole patient-level lists for paging (in memory only; each view is still audited).
    list_tables: Memo = field(default_factory=lambda: Memo(16))

    def now(self) -> dt.datetime:
        return self.clock() if callable(self.clock) else dt.datetime.now()


class Memo:
    """A small thread-safe LRU of page data. Keys carry the data's version (see `Ctx.stamp`),
    so a registry load or a payment run makes old entries unreachable rather than wrong. When
    several requests miss the same key at once, one computes it and the others wait for it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, object] = OrderedDict()
        self._building: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, make: Callable[[], object]) -> object:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            try:
                value = make()
                with self._lock:
                    self._items[key] = value
                    while len(self._items) > self.size:
                        self._items.popitem(last=False)
            finally:
                with self._lock:
                    self._building.pop(key, None)
        return value


class NotSignedIn(Exception):
    """No valid session: pages redirect to the sign-in page, the API answers 401."""


def web(request: Request) -> WebApp:
    return request.app.state.web


def session_of(request: Request) -> SessionData | None:
    return web(request).sessions.load(request.cookies.get(COOKIE))


def origin_expected(request: Request) -> str | None:
    """The origin pages of this app are served from, as the browser sees it."""
    return request_origin(request, web(request).origin)


def secure_cookies(request: Request) -> bool:
    """Secure cookies when the app is configured as HTTPS or the request arrived over HTTPS
    (directly, or through a proxy uvicorn is told to trust with --forwarded-allow-ips)."""
    return web(request).https or request.url.scheme == "https"


def is_api(request: Request) -> bool:
    """A request to the JSON API (answers errors with a status, never a page)."""
    return request.url.path.startswith("/api")


@dataclass(frozen=True)
class AsOf:
    """The date a request is answered as at, and, when the date asked for could not be used,
    why (shown on the page) and the date as the user wrote it."""

    day: dt.date
    problem: str | None = None
    asked: str | None = None


def as_of_of(request: Request, data_dates: Callable[[], DataDates]) -> AsOf:
    """The one place a request's as-of date is decided; every query then takes `Ctx.as_of`.

    The `on` parameter; for a page (never the API) without one, the date of the page the user
    came from on this site (the header's search box is a form pcnkit cannot add the date to);
    else the server's default. A date that is not a real date, or before the earliest data
    the registry holds, is refused: the API and downloads answer 400 (a file is never made
    for another date than the one asked), a page shows the default date and says why.
    `data_dates` is asked only when a date has been read."""
    given = request.query_params.get("on")
    text = given or (None if is_api(request) else _referring_date(request))
    # a file is named and filled for its date: a download never falls back to another date
    strict = is_api(request) or request.url.path.rsplit("/", 1)[-1].startswith("download.")
    default = web(request).default_as_of
    day = default
    if text:
        try:
            day = parse_iso(text)
        except ValueError as exc:
            # an unreadable date on the page before is not this page's: the default is used
            if given and strict:
                raise HTTPException(
                    400,
                    f"on: '{given[:40]}' is not a real date; write it as YYYY-MM-DD, "
                    "e.g. 2020-01-01.",
                ) from exc
            if given:
                problem = "Enter the date as a real date, for example 2020-01-01"
                return AsOf(default, problem, given)
    dates = data_dates()
    if dates.before(day):
        earliest = long_date(dates.earliest)
        problem = f"pcnkit holds no data before {earliest}: enter a date from {earliest}"
        if strict:
            raise HTTPException(400, f"on: {problem}.")
        return AsOf(default, problem, given)
    return AsOf(day)


def _referring_date(request: Request) -> str | None:
    referer = request.headers.get("referer", "")
    if not same_origin(referer, origin_expected(request)):
        return None
    return parse_qs(urlsplit(referer).query).get("on", [None])[0]


@dataclass
class Ctx:
    request: Request
    db: Session
    user: UserView
    as_of: dt.date
    app: WebApp
    csrf: str
    date_error: str | None = None  # why the date asked for was not used (shown on the page)
    asked: str | None = None  # that date as the user wrote it

    @cached_property
    def data_dates(self) -> DataDates:
        """The span of dates the registry holds data for (the date picker's min and max)."""
        return self.memo(("data-dates",), lambda: data_dates(self.db), False, False)

    @property
    def after_data(self) -> bool:
        """The page is for a date after the latest data: it shows the last known position."""
        return self.data_dates.after(self.as_of)

    @cached_property
    def hierarchy(self) -> Hierarchy:
        return Hierarchy.at(self.db, self.as_of)

    @cached_property
    def reach(self) -> set[str]:
        return scope.reach(self.hierarchy, self.user)

    def org(self, code: str) -> Organisation:
        """An organisation the user may open (403 otherwise)."""
        return scope.require_org(self.hierarchy, self.user, code)

    def patients_org(self, code: str, at: Hierarchy | None = None) -> Organisation:
        """A PCN or practice whose patient-level lists the user may see (403 otherwise),
        decided on the registry `at` the date of the patient data (default: the page's date).

        Only for a request from pcnkit's own pages or the user's address bar: a link or form
        on another site must not make the user's browser open a list (and write an audit
        event in their name). A refusal for scope is itself written to the audit log."""
        if not from_this_site(self.request, origin_expected(self.request)):
            raise scope.Forbidden(
                "Patient-level lists open only from pcnkit's own pages, not from a link on "
                "another website. Open the list from the organisation's population page."
            )
        at = at or self.hierarchy
        try:
            return scope.require_patients(at, self.user, code)
        except scope.Forbidden as exc:
            self._audit_refusal(code, str(exc), at.as_of)
            raise

    def _audit_refusal(self, code: str, reason: str, decided: dt.date) -> None:
        """In its own transaction: the request's own is rolled back by the 403."""
        list_id = self.request.path_params.get("list_id", "")
        with self.app.ws.transaction() as session:
            audit.record(
                session,
                self.user.username,
                audit.LIST_REFUSED,
                f"list {list_id} for {code}"[:200],
                self.app.now(),
                f"{reason.rstrip('.')}; scope decided as at {decided.isoformat()} "
                f"(date chosen {self.as_of.isoformat()})",
            )

    def may_see_patients(self, org: Organisation) -> bool:
        return scope.may_see_patients(self.hierarchy, self.user, org)

    @cached_property
    def stamp(self) -> tuple:
        """The version of everything pages are computed from: the registry and ledger tables'
        newest ids and counts, and the population's files."""
        return (
            registry_state(self.db),
            files_state(self.app.population),
            files_state(self.app.ws.layout.funding),
        )

    def memo(
        self, key: tuple, make: Callable[[], object], per_user: bool = True, dated: bool = True
    ) -> object:
        """Page data computed once per data version (and per user scope and date, unless the
        data depends on neither), then reused. Shared: never change what it returns. Never
        for audited patient-level views."""
        full = (*key, str(self.app.ws.path), self.stamp)
        if dated:
            full += (self.as_of,)
        if per_user:
            full += (self.user.role, self.user.scope_code)
        return self.app.memo.get(full, make)

    def url(self, path: str, **params: object) -> str:
        """A link within the app that keeps the as-of date."""
        query = {"on": self.as_of.isoformat()}
        query.update({k: v for k, v in params.items() if v is not None})
        return f"{path}?{urlencode(query)}"


# Tables the pages read; each one's highest id changes when rows are added, and the smaller
# ones' row counts also when rows are removed (memberships are rebuilt on every load).
VERSIONED = (SourceFile, Organisation, OrganisationName, Membership, ListSize, PcnRole, PaymentLine)
COUNTED = (SourceFile, Membership, PcnRole, PracticeMerger)


# Built once: the statement runs on every request.
_STATE = select(
    *[select(func.max(m.id)).scalar_subquery() for m in VERSIONED],
    *[select(func.count(m.id)).scalar_subquery() for m in COUNTED],
)


def registry_state(db: Session) -> tuple:
    """A cheap fingerprint of the registry and the ledger (index look-ups and small counts)."""
    return tuple(db.execute(_STATE).one())


def files_state(folder: Path, depth: int = 3) -> tuple:
    """Name, size and modification time of the files of a workspace folder (the population
    and its stratification results, the funding rosters), three levels deep: shallower files
    first, each level in path order. Read on every request (it is part of `Ctx.stamp`), so it
    walks the folder with `os.scandir`, one listing per directory, rather than globbing."""
    out: list[tuple[str, int, int]] = []
    level: list[tuple[tuple[str, ...], str]] = [((), str(folder))]
    for _ in range(depth):
        files, below = [], []
        for parts, path in level:
            with contextlib.suppress(OSError), os.scandir(path) as entries:
                for entry in entries:
                    with contextlib.suppress(OSError):
                        if entry.is_dir():
                            below.append(((*parts, entry.name), entry.path))
                        else:
                            st = entry.stat()
                            files.append(((*parts, entry.name), st.st_size, st.st_mtime_ns))
        files.sort()
        out += [("/".join(name), size, mtime) for name, size, mtime in files]
        level = sorted(below)
    return tuple(out)


async def db_slot(request: Request) -> AsyncIterator[None]:
    """FastAPI dependency: one of the app's database slots for the whole request (pcnkit.web.
    limits), awaited on the event loop; released after the request's session has closed."""
    slots = web(request).slots
    await slots.acquire()
    try:
        yield
    finally:
        slots.release()


def ctx(request: Request, _slot: None = Depends(db_slot)) -> Iterator[Ctx]:
    """FastAPI dependency: the signed-in request context (commits what the request wrote, e.g.
    audit events, only when the request succeeds)."""
    app = web(request)
    data = session_of(request)
    if data is None or data.user_id is None:
        raise NotSignedIn()
    with app.ws.sessions() as db, db.begin():
        user = session_user(db, data.user_id, data.key)
        if user is None:
            raise NotSignedIn()
        c = Ctx(request, db, user, app.default_as_of, app, data.csrf)
        # the date is settled before anything dated is read (`hierarchy`, `memo`)
        when = as_of_of(request, lambda: c.data_dates)
        c.as_of, c.date_error, c.asked = when.day, when.problem, when.asked
        yield c


def signed_in_context(request: Request) -> Iterator[Ctx]:
    """`ctx` for error pages: yields nothing (rather than raising) when no one is signed in or
    the date is unreadable, so the error page can still be shown."""
    try:
        yield from ctx(request, None)
    except (NotSignedIn, HTTPException):
        return
