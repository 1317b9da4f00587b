"""Signed session cookies, CSRF tokens, same-origin checks and the security headers.

The cookie holds only the user id, the user's random session key and the session's CSRF
token, signed with the workspace's secret (itsdangerous, HMAC-SHA1 over a timestamped payload)
and refused after `MAX_AGE`. Signing out, removing the user or changing their role, scope or
password replaces or deletes the key, so a copied cookie dies with the session and can never
name a later user. CSRF: every form carries the session's token; a POST without the matching
token, or from another origin (scheme, host and port), is refused.

Behind an HTTPS reverse proxy the app learns its public address from `PCNKIT_EXTERNAL_URL`
(or `pcnkit serve --external-url`): cookies are then `Secure` and origins are compared with
that address.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import traceback
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders

COOKIE = "pcnkit_session"
MAX_AGE = 8 * 60 * 60  # a working day
SECRET_FILE = "web-secret.key"


def workspace_secret(folder: Path) -> bytes:
    """PCNKIT_SECRET if set, else a random key kept in the workspace (created once, mode 0600)."""
    if os.environ.get("PCNKIT_SECRET"):
        return os.environ["PCNKIT_SECRET"].encode()
    path = Path(folder) / SECRET_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
    return path.read_bytes()


@dataclass(frozen=True)
class SessionData:
    csrf: str
    user_id: int | None = None
    key: str | None = None  # the user's session key (users.session_user checks it)


class Sessions:
    def __init__(self, secret: bytes) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="pcnkit-session")

    def dump(self, data: SessionData) -> str:
        return self._signer.dumps({"c": data.csrf, "u": data.user_id, "k": data.key})

    def load(self, cookie: str | None) -> SessionData | None:
        if not cookie:
            return None
        try:
            raw = self._signer.loads(cookie, max_age=MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("c"), str):
            return None
        user_id, key = raw.get("u"), raw.get("k")
        if not isinstance(user_id, int) or not isinstance(key, str):
            user_id, key = None, None  # signed out, or a cookie from before session keys
        return SessionData(raw["c"], user_id, key)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(expected, given)


EXTERNAL_URL = "PCNKIT_EXTERNAL_URL"
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of a URL, lower case and without a default port; None if the URL
    has no scheme or host."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")


def external_origin(external_url: str | None = None) -> str | None:
    """The public origin configured for the app (argument, else PCNKIT_EXTERNAL_URL)."""
    url = external_url or os.environ.get(EXTERNAL_URL)
    if not url:
        return None
    origin = origin_of(url)
    if origin is None:
        raise ValueError(f"{EXTERNAL_URL} must be an address such as https://pcnkit.example.nhs.uk")
    return origin


def request_origin(request, external: str | None) -> str | None:
    """The origin the browser sees this app at: the configured external one, else the
    request's own scheme (https when a trusted proxy says so) and Host header."""
    if external:
        return external
    host = request.headers.get("host")
    return origin_of(f"{request.url.scheme}://{host}") if host else None


def same_origin(url: str | None, expected: str | None) -> bool:
    """Whether a URL (an Origin or Referer header) is on the expected origin, scheme and port
    included: http://host is not https://host."""
    return bool(url and expected) and origin_of(url) == expected


# Sec-Fetch-Site values for a request the user made on pcnkit's own pages (same-origin) or
# typed, bookmarked or reloaded (none).
OWN_NAVIGATION = ("same-origin", "none")


def from_this_site(request, expected: str | None) -> bool:
    """Whether a request came from pcnkit's own pages or the user's own address bar, not from
    another site: the browser's Sec-Fetch-Site header, else Origin, else Referer. A client
    that sends none of them is not a browser following another site's link (browsers have
    sent Sec-Fetch-Site since 2020-2023), so it is allowed."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in OWN_NAVIGATION
    origin = request.headers.get("origin")
    if origin is not None:
        return same_origin(origin, expected)
    referer = request.headers.get("referer")
    if referer:
        return same_origin(referer, expected)
    return True


def content_security_policy(nonce: str) -> str:
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


log = logging.getLogger("pcnkit.web")


class SecurityHeaders:
    """ASGI middleware, outermost: a per-request CSP nonce (for the NHS.UK template's one
    inline script) and the security headers on every answer, errors included; pages and API
    answers are never cached by the browser. An unexpected error is logged as its kind and
    where it happened (never its message, which may quote the request or a database query
    with what the user typed) and not passed on to the server, which would log it in full.
    Plain ASGI rather than Starlette's BaseHTTPMiddleware, which costs a task per request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["nonce"] = nonce
        static = scope["path"].startswith(("/assets", "/static"))

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", content_security_policy(nonce))
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null"
                # on form posts, which the CSRF origin check must refuse.
                headers["Referrer-Policy"] = "same-origin"
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # the 500 page has been sent (ServerErrorMiddleware)
            log.error(
                "unexpected %s on %s %s (reference %s)\n%s",
                type(exc).__name__,
                scope.get("method", ""),
                scope["path"],
                secrets.token_hex(4),
                "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)[-8:])),
            )
