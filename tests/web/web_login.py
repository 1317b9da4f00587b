"""Signing in through the real login form, for the web tests that make their own users or
clients (the shared demo's `web_demo.client` signs its own users in)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from pcnkit.access.users import add_user
from pcnkit.store.models import User

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page) -> str:
    """The form token a page carries."""
    return CSRF.search(page.text).group(1)


def add_user_once(
    web_demo, name: str, role: str = "practice", scope: str = "F82002", *, password: str
) -> str:
    """A user of the demo workspace, added unless it exists; returns the name."""
    with web_demo.ws.transaction() as session:
        if session.scalar(select(User).where(User.username == name)) is None:
            add_user(session, name, password, role, scope, dt.datetime.now())
    return name


def post_login(client, username: str, password: str, headers=None, **fields):
    """The login form posted with a fresh token (`fields` add to or replace the form's)."""
    token = csrf_token(client.get("/login"))
    data = {"username": username, "password": password, "csrf_token": token, "next": "/"}
    data.update(fields)
    return client.post("/login", data=data, headers=headers, follow_redirects=False)


def sign_in(client, username: str, password: str):
    """The client, signed in (the login must succeed)."""
    response = post_login(client, username, password)
    assert response.status_code == 303, response.text
    return client
