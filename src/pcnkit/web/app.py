"""The FastAPI application: pages and the JSON API over one workspace.

`create_app` wires the pieces; every rule lives in the library (registry, funding, population,
access) and the routes only call it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from pcnkit.access.scope import Forbidden
from pcnkit.errors import BadValue, NotFoundError, PcnkitError
from pcnkit.store import Workspace
from pcnkit.store.db import POOL_SIZE
from pcnkit.web import render as rendering
from pcnkit.web.context import NotSignedIn, WebApp, signed_in_context
from pcnkit.web.limits import RETRY_AFTER, Busy, Slots
from pcnkit.web.security import SecurityHeaders, Sessions, external_origin, workspace_secret
from pcnkit.web.wording import FIELD_WORDS, worded

STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor" / "nhsuk"


class _App(FastAPI):
    """FastAPI with the security headers outside Starlette's error middleware, so that its
    500 answers carry them too (`add_middleware` would put them inside)."""

    def build_middleware_stack(self):
        return SecurityHeaders(super().build_middleware_stack())


def create_app(
    ws: Workspace,
    default_as_of: dt.date | None = None,
    https: bool = False,
    external_url: str | None = None,
) -> FastAPI:
    """The application. `external_url` (else PCNKIT_EXTERNAL_URL) is the address users open
    behind a reverse proxy: with https, cookies are Secure; origins are checked against it."""
    try:
        origin = external_origin(external_url)
    except ValueError as exc:
        raise PcnkitError(str(exc)) from exc
    if not (VENDOR / "nhsuk-frontend.min.css").exists():
        raise PcnkitError(
            f"The NHS.UK frontend assets are missing from {VENDOR}: run `make assets` "
            "(npm ci from package-lock.json) in the pcnkit checkout."
        )
    app = _App(
        title="pcnkit",
        summary="Primary care at scale: registry, funding and population health.",
        description=(
            "Every endpoint answers as at a date: pass `on=YYYY-MM-DD` (default: the server's "
            "as-of date). Sign in with POST /api/login; the session cookie it sets authorises "
            "the other calls. Patient-level lists are for PCN and practice users only, and each "
            "view or download is written to the audit log."
        ),
        version="0.1.0",
        # FastAPI's own docs pages load Swagger UI from a CDN, which NHS networks cannot reach
        # (and the CSP forbids): /api/docs is pcnkit's own page (routes/orgs.py).
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.web = WebApp(
        ws=ws,
        population=ws.layout.population,
        default_as_of=default_as_of or dt.date.today(),
        sessions=Sessions(workspace_secret(ws.path)),
        templates=rendering.environment(),
        slots=Slots(_pool_size(ws)),
        https=https or bool(origin and origin.startswith("https://")),
        origin=origin,
    )
    app.mount("/assets", StaticFiles(directory=VENDOR), name="assets")
    app.mount("/static", StaticFiles(directory=STATIC / "pcnkit"), name="static")

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/api"

    async def problem(
        request: Request,
        status: int,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        signed_in: bool = True,
    ):
        """An error as JSON under /api/, else as an NHS.UK page with the signed-in header (when
        someone is signed in and a database slot is free: a busy server answers without it)."""
        if wants_json(request):
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        slots = app.state.web.slots
        if signed_in:
            try:
                await slots.acquire(timeout=1.0)
            except Busy:
                signed_in = False
        try:
            return await run_in_threadpool(
                _error_page, request, status, title, detail, headers, signed_in
            )
        finally:
            if signed_in:
                slots.release()

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: NotSignedIn):
        if wants_json(request):
            return JSONResponse({"detail": "Sign in first (POST /api/login)."}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{_next(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        return await problem(request, 403, "You do not have access to this page", str(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError):
        return await problem(request, 404, "Page not found", str(exc))

    @app.exception_handler(BadValue)
    async def bad_value(request: Request, exc: BadValue):
        return await problem(request, 400, "There is a problem", worded(exc))

    @app.exception_handler(PcnkitError)
    async def user_error(request: Request, exc: PcnkitError):
        return await problem(request, 400, "There is a problem", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        titles = {404: "Page not found", 403: "You do not have access to this page"}
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is no page at this address. Check it, or start from your home page."
        return await problem(
            request,
            exc.status_code,
            titles.get(exc.status_code, "There is a problem"),
            detail,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        where = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in exc.errors())
        return await problem(request, 422, "There is a problem", where)

    @app.exception_handler(Busy)
    async def busy(request: Request, _exc: Busy):
        return await problem(request, 503, *BUSY, headers=RETRY, signed_in=False)

    @app.exception_handler(PoolTimeout)
    async def pool_timeout(request: Request, _exc: PoolTimeout):
        return await problem(request, 503, *BUSY, headers=RETRY, signed_in=False)

    @app.exception_handler(500)
    async def server_error(request: Request, _exc: Exception):
        # Never the exception's text: it may quote what the user typed or a database query.
        detail = "Something went wrong on the server; it has been logged. Try again later."
        if wants_json(request):
            return JSONResponse({"detail": detail}, status_code=500)
        return rendering.render(
            request,
            "error.jinja",
            status_code=500,
            title="Sorry, there is a problem",
            detail=detail,
        )

    from pcnkit.web.routes import register

    register(app)
    return app


BUSY = (
    "pcnkit is busy",
    "Too many pages are being prepared at once. Wait a few seconds and try again.",
)
RETRY = {"Retry-After": str(RETRY_AFTER)}


def _error_page(request, status, title, detail, headers, signed_in):
    """The error page (in a worker thread: it may read the signed-in user)."""
    if not signed_in:
        response = rendering.render(
            request, "error.jinja", status_code=status, status=status, title=title, detail=detail
        )
    else:
        context = signed_in_context(request)
        try:
            page = next(context, None) or request  # the signed-in header when there is one
            response = rendering.render(
                page, "error.jinja", status_code=status, status=status, title=title, detail=detail
            )
        finally:
            context.close()
    response.headers.update(headers or {})
    return response


def _pool_size(ws: Workspace) -> int:
    """As many slots as the engine's pool keeps connections (pcnkit.web.limits)."""
    size = getattr(ws.engine.pool, "size", None)
    return max(1, size()) if callable(size) else POOL_SIZE


def _field(loc) -> str:
    """A request parameter's name as the user knows it (never 'query.page')."""
    name = str(loc[-1]) if loc else "request"
    return FIELD_WORDS.get(name, name)


def _next(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})
