"""Issue 10, item 6, played as the attacks on the demo web application: user enumeration, a
50,000-character search, Secure cookies behind HTTPS, trivial passwords, GET /login, patient
lists opened from another site, the CSRF origin's scheme, and refused lists in the audit log."""

from __future__ import annotations

import datetime as dt
import logging
import re
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from web_login import add_user_once, post_login

from pcnkit.access import audit, users
from pcnkit.access.passwords import weakness
from pcnkit.errors import InputError
from pcnkit.store.models import AuditEvent
from pcnkit.web.app import create_app
from pcnkit.web.security import COOKIE

PASSWORD = "quiet harbour lantern 42"


_user = partial(add_user_once, password=PASSWORD)


def _login(client, username: str, password: str, **headers):
    return post_login(client, username, password, headers=headers)


def _events(web_demo, username: str, action: str | None = None) -> list[AuditEvent]:
    with web_demo.ws.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.username == username)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query.order_by(AuditEvent.id)))


# (a) user enumeration


def test_unknown_locked_and_wrong_get_the_same_answer_and_the_same_work(web_demo, monkeypatch):
    name = _user(web_demo, "enum.locked")
    app = web_demo.app()
    client = TestClient(app)
    for _ in range(users.MAX_FAILURES):
        assert _login(client, name, "not the password at all").status_code == 401
    checks = []
    real = users._verify
    monkeypatch.setattr(users, "_verify", lambda h, p: checks.append(h) or real(h, p))
    answers = {
        "unknown": _login(client, "enum.nobody", "not the password at all"),
        "locked": _login(client, name, PASSWORD),
        "wrong": _login(client, _user(web_demo, "enum.open"), "not the password at all"),
    }
    assert len(checks) == 3  # one Argon2 check each, whichever case it is
    messages = {
        k: re.search(r"The username or password[^<]*", a.text).group(0) for k, a in answers.items()
    }
    assert {a.status_code for a in answers.values()} == {401}
    assert len(set(messages.values())) == 1, messages


# (b) a 50,000-character search; errors keep the security headers and stay out of the log


def _has_security_headers(answer) -> None:
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"


def _server_log(caplog) -> str:
    """What the server logged (not the test client's own request log)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))


def test_a_50000_character_search_is_refused_cleanly(web_demo, caplog):
    client = web_demo.client("havering.south")
    text = "zq" * 25_000
    caplog.set_level(logging.DEBUG)
    for path in ("/find", "/api/find"):
        answer = client.get(path, params={"q": text})
        assert answer.status_code == 400, answer.status_code
        assert "at most 200 characters" in answer.text
        echoed = "zqzqzq" in answer.text
        assert not echoed, "the search text is repeated in the answer"
        _has_security_headers(answer)
    logged = "zqzqzq" in _server_log(caplog)
    assert not logged, "the search text is in the server log"


def test_an_unexpected_error_is_a_500_page_with_headers_and_no_detail_in_the_log(
    web_demo, monkeypatch, caplog
):
    from pcnkit.web.views import orgs

    def broken(c, text):
        raise RuntimeError(f"SELECT ... WHERE name LIKE '%{text}%'")

    monkeypatch.setattr(orgs, "search", broken)
    client = web_demo.client("havering.south")
    caplog.set_level(logging.DEBUG)
    for path in ("/find", "/api/find"):
        answer = client.get(path, params={"q": "secret-query-text"})
        assert answer.status_code == 500
        _has_security_headers(answer)
        assert "secret-query-text" not in answer.text and "SELECT" not in answer.text
    log = _server_log(caplog)
    assert "RuntimeError" in log  # logged: its kind and where
    assert "secret-query-text" not in log  # the message, with what was typed, is not logged
    unknown = client.get("/no/such/page")
    assert unknown.status_code == 404
    _has_security_headers(unknown)


# (c) Secure cookies behind HTTPS


def _cookie_header(answer) -> str:
    return next(v for k, v in answer.headers.multi_items() if k == "set-cookie")


def test_the_cookie_is_secure_behind_a_configured_https_address(web_demo, monkeypatch):
    name = _user(web_demo, "secure.check")
    plain = TestClient(web_demo.app())
    assert "secure" not in _cookie_header(_login(plain, name, PASSWORD)).lower()
    external = "https://pcnkit.example.nhs.uk"
    # The proxy speaks plain HTTP to pcnkit; the browser (whose jar keeps Secure cookies for
    # https) sees the external address.
    configured = TestClient(create_app(web_demo.ws, external_url=external), base_url=external)
    signed_in = _login(configured, name, PASSWORD, origin=external)
    assert signed_in.status_code == 303
    assert "; secure" in _cookie_header(signed_in).lower()
    # The same from the environment (what `pcnkit serve --external-url` sets for its workers).
    monkeypatch.setenv("PCNKIT_EXTERNAL_URL", external)
    from_env = TestClient(create_app(web_demo.ws))
    assert "; secure" in _cookie_header(from_env.get("/login")).lower()
    # A request that arrived over HTTPS (e.g. through a trusted proxy) is Secure too.
    monkeypatch.delenv("PCNKIT_EXTERNAL_URL")
    https = TestClient(web_demo.app(), base_url="https://testserver")
    assert "; secure" in _cookie_header(https.get("/login")).lower()


# (d) trivial passwords


@pytest.mark.parametrize(
    "password",
    [
        " " * 12,
        "\t" * 16,
        "password1234",
        "Password2024!",
        "  qwertyuiop  ",
        "qwertyuiop12",
        "iloveyou1234",
        "aaaaaaaaaaaa",
        "abababababab",
        "abcabcabcabc",
        "123456789012",
        "abcdefghijklm",
        "havering.south.2024",  # contains the username
        "short",
    ],
)
def test_trivial_passwords_are_refused(password):
    assert weakness(password, "havering.south") is not None
    with pytest.raises(InputError) as refused:
        from pcnkit.access.passwords import check_password

        check_password(password, "havering.south")
    assert password.strip() == "" or password not in str(refused.value)


@pytest.mark.parametrize(
    "password", ["quiet harbour lantern 42", "Zq7-Tr0mbone-Kettle", "a long enough password"]
)
def test_ordinary_passphrases_are_accepted(password):
    assert weakness(password, "havering.south") is None


def test_a_user_with_twelve_spaces_is_not_added(web_demo):
    with pytest.raises(InputError), web_demo.ws.transaction() as session:
        users.add_user(session, "spaces.user", " " * 12, "practice", "F82002", dt.datetime.now())


# (e) GET /login never signs anyone out


def test_opening_the_sign_in_page_does_not_sign_out(web_demo):
    client = web_demo.client("havering.south")
    cookie = client.cookies.get(COOKIE)
    answer = client.get("/login?next=/org/U00367", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/org/U00367"
    assert "set-cookie" not in answer.headers
    assert client.cookies.get(COOKIE) == cookie
    assert client.get("/api/me").status_code == 200
    # A page on another site embedding /login (an image, a link) changes nothing either.
    embedded = client.get(
        "/login", headers={"sec-fetch-site": "cross-site"}, follow_redirects=False
    )
    assert embedded.status_code == 303
    assert client.get("/api/me").status_code == 200


# (f) a patient list opened from another site


LIST_URLS = (
    "/population/F82002/lists/smr?on=2020-01-01",
    "/population/F82002/lists/smr.csv?on=2020-01-01",
    "/api/population/F82002/lists/smr?on=2020-01-01",
    "/api/population/F82002/lists/smr.csv?on=2020-01-01",
)
CROSS_SITE = (
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},
    {"referer": "https://evil.example/page"},
    {"origin": "https://evil.example"},
    {"referer": "https://testserver/population/F82002"},  # https is another origin
)


@pytest.mark.parametrize("url", LIST_URLS)
def test_a_list_opened_from_another_site_is_refused_and_not_audited(web_demo, url):
    client = web_demo.client("havering.south")
    before = len(_events(web_demo, "havering.south"))
    for headers in CROSS_SITE:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 403, (headers, answer.status_code)
        assert "pseudonym" not in answer.text
        assert "another website" in answer.text
    assert len(_events(web_demo, "havering.south")) == before  # nothing in the user's name
    for headers in (
        {"sec-fetch-site": "same-origin"},
        {"sec-fetch-site": "none"},  # typed or bookmarked
        {"referer": "http://testserver/population/F82002?on=2020-01-01"},
        {},  # an API client
    ):
        assert client.get(url, headers=headers).status_code == 200, headers
    assert len(_events(web_demo, "havering.south")) == before + 4


# (g) the CSRF origin check compares the scheme


def test_a_form_posted_from_the_same_host_on_another_scheme_is_refused(web_demo):
    name = _user(web_demo, "scheme.check")
    client = TestClient(web_demo.app())  # http://testserver
    for origin in ("https://testserver", "http://testserver:8443", "null"):
        assert _login(client, name, PASSWORD, origin=origin).status_code == 403, origin
    assert _login(client, name, PASSWORD, origin="http://testserver").status_code == 303


# (h) the sign-out token is in the form's body: tests/web/test_access.py
# ::test_sign_out_ends_the_session_even_for_a_copied_cookie


# (i) a refused patient list is audited as a refusal


def test_a_refused_patient_list_is_audited(web_demo):
    client = web_demo.client("haiderian.practice")
    before = len(_events(web_demo, "haiderian.practice", audit.LIST_REFUSED))
    answer = client.get("/api/population/F82006/lists/smr?on=2020-01-01")
    assert answer.status_code == 403
    assert client.get("/population/U00367/lists/ehch.csv?on=2020-01-01").status_code == 403
    refused = _events(web_demo, "haiderian.practice", audit.LIST_REFUSED)[before:]
    assert [e.subject for e in refused] == ["list smr for F82006", "list ehch for U00367"]
    assert "outside your scope" in refused[0].detail
    with web_demo.ws.sessions() as session:
        views = session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.username == "haiderian.practice",
                AuditEvent.action == audit.VIEW_LIST,
                AuditEvent.subject == "list smr for F82006",
            )
        )
    assert views == 0
