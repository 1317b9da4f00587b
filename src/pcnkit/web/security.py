"""Signed session cookies and CSRF tokens.

The cookie holds only the user id, the user's session epoch and the session's CSRF token, signed
with the workspace's secret (itsdangerous, HMAC-SHA1 over a timestamped payload) and refused
after `MAX_AGE`. Signing out bumps the epoch in the database, so a copied cookie dies with the
session. CSRF: every form carries the session's token; a POST without the matching token, or
from another origin, is refused.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

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
    epoch: int = 0


class Sessions:
    def __init__(self, secret: bytes) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="pcnkit-session")

    def dump(self, data: SessionData) -> str:
        return self._signer.dumps({"c": data.csrf, "u": data.user_id, "e": data.epoch})

    def load(self, cookie: str | None) -> SessionData | None:
        if not cookie:
            return None
        try:
            raw = self._signer.loads(cookie, max_age=MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("c"), str):
            return None
        return SessionData(raw["c"], raw.get("u"), int(raw.get("e") or 0))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(expected, given)


def content_security_policy(nonce: str) -> str:
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


class SecurityHeaders:
    """ASGI middleware: a per-request CSP nonce (for the NHS.UK template's one inline script)
    and the security headers on every answer; pages and API answers are never cached by the
    browser. Plain ASGI rather than Starlette's BaseHTTPMiddleware, which costs a task per
    request."""

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

        await self.app(scope, receive, send_with_headers)
