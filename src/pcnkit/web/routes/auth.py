"""Sign in and sign out (HTML forms with CSRF tokens, and a JSON login for API clients)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from pcnkit.access import audit
from pcnkit.access.users import LoginRefused, UserView, authenticate, end_sessions, session_user
from pcnkit.web import schemas
from pcnkit.web.context import Ctx, ctx, origin_expected, secure_cookies, session_of, web
from pcnkit.web.render import render
from pcnkit.web.security import (
    COOKIE,
    MAX_AGE,
    SessionData,
    new_token,
    same_origin,
    same_token,
)

router = APIRouter()


def _set_cookie(request: Request, response: Response, data: SessionData) -> None:
    response.set_cookie(
        COOKIE,
        web(request).sessions.dump(data),
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) may follow sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target if not urlsplit(target).netloc else "/"


def _same_origin(request: Request) -> bool:
    """No Origin header (an older browser; the token still has to match), or an Origin equal
    to this app's: scheme, host and port."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return same_origin(origin, origin_expected(request))


def check_csrf(request: Request, expected: str | None, given: str | None) -> None:
    """Refuse a state-changing request without the session's token or from another origin."""
    if not same_token(expected, given) or not _same_origin(request):
        raise HTTPException(403, "The form has expired or did not come from pcnkit. Try again.")


def _signed_in(request: Request, data: SessionData | None) -> bool:
    if data is None or data.user_id is None:
        return False
    with web(request).ws.sessions() as db:
        return session_user(db, data.user_id, data.key) is not None


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None):
    """The sign-in form. A GET changes nothing: someone already signed in goes on to `next`
    (a link or image on another site cannot sign them out), and an existing session's CSRF
    token is kept."""
    data = session_of(request)
    if _signed_in(request, data):
        return RedirectResponse(_safe_next(next), status_code=303)
    fresh = data is None
    data = data or SessionData(new_token())
    response = render(request, "login.jinja", csrf=data.csrf, next=_safe_next(next), error=None)
    if fresh:
        _set_cookie(request, response, data)
    return response


def _sign_in(request: Request, username: str, password: str) -> UserView:
    """Authenticate and audit the attempt; a refusal is committed too (it counts towards the
    lock-out) before it is raised."""
    app = web(request)
    now = app.now()
    refused: LoginRefused | None = None
    with app.ws.transaction() as db:
        try:
            user = authenticate(db, username, password, now)
            audit.record(db, user.username, audit.SIGN_IN, "web", now)
        except LoginRefused as exc:
            refused = exc
            audit.record(db, username.strip()[:100], audit.SIGN_IN_REFUSED, "web", now, exc.reason)
    if refused is not None:
        raise refused
    return user


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/"),
):
    data = session_of(request)
    check_csrf(request, data.csrf if data else None, csrf_token)
    try:
        user = _sign_in(request, username, password)
    except LoginRefused as exc:
        response = render(
            request,
            "login.jinja",
            status_code=401,
            csrf=data.csrf,
            next=_safe_next(next),
            error=str(exc),
            username=username,
        )
        return response
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_cookie(request, response, SessionData(new_token(), user.id, user.session_key))
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, csrf_token: str = Form(""), c: Ctx = Depends(ctx)):
    """Sign out: a POST form carrying the token in its body (never in the URL, where it
    would reach logs and the Referer header)."""
    check_csrf(request, c.csrf, csrf_token)
    end_sessions(c.db, c.user.id)
    audit.record(c.db, c.user.username, audit.SIGN_OUT, "web", c.app.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


class Credentials(BaseModel):
    username: str
    password: str


@router.post(
    "/api/login",
    tags=["session"],
    response_model=schemas.SignedIn,
    responses={401: {"description": "Sign-in refused", "model": schemas.Refused}},
)
def api_login(request: Request, credentials: Credentials) -> JSONResponse:
    """Sign in; the response sets the session cookie. A JSON body is required, which a
    cross-site form cannot send, so this endpoint needs no CSRF token."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, "Send the credentials as JSON.")
    try:
        user = _sign_in(request, credentials.username, credentials.password)
    except LoginRefused as exc:
        return JSONResponse({"detail": str(exc)}, status_code=401)
    response = JSONResponse(
        {"username": user.username, "role": user.role, "scope": user.scope_code}
    )
    _set_cookie(request, response, SessionData(new_token(), user.id, user.session_key))
    return response
