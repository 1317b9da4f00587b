"""Access to the web application: sign-in, lock-out, CSRF, sign-out, cookies, the audit log and
— for every route that takes an organisation code — scope, tested by editing the URL."""

from __future__ import annotations

import datetime as dt
from functools import partial
from urllib.parse import urlencode

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from web_login import add_user_once, csrf_token, post_login

from pcnkit.access import audit
from pcnkit.access.users import LOCK_FOR, MAX_FAILURES, REFUSED
from pcnkit.store.models import AuditEvent, User
from pcnkit.web.security import COOKIE

PASSWORD = "correct horse battery staple"


_fresh_user = partial(add_user_once, password=PASSWORD)


def test_pages_and_api_need_a_signed_in_user(web_demo):
    client = web_demo.client()
    page = client.get("/org/U00367?on=2020-01-01", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=%2Forg%2FU00367")
    assert client.get("/api/org/U00367").status_code == 401


def test_password_is_stored_as_an_argon2id_hash(web_demo):
    name = _fresh_user(web_demo, "hash.check")
    with web_demo.ws.sessions() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == name))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_login_without_the_csrf_token_or_from_another_origin_is_refused(web_demo):
    name = _fresh_user(web_demo, "csrf.check")
    client = web_demo.client()
    client.get("/login")
    no_token = client.post(
        "/login", data={"username": name, "password": PASSWORD}, follow_redirects=False
    )
    assert no_token.status_code == 403
    wrong = post_login(client, name, PASSWORD, csrf_token="forged")
    assert wrong.status_code == 403
    token = csrf_token(client.get("/login"))
    elsewhere = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert elsewhere.status_code == 403
    assert post_login(client, name, PASSWORD).status_code == 303


def test_wrong_passwords_lock_the_account_and_are_audited(web_demo):
    name = _fresh_user(web_demo, "lockout.check")
    now = [dt.datetime(2026, 1, 5, 9, 0)]
    app = web_demo.app()
    app.state.web.clock = lambda: now[0]
    client = web_demo.client(app=app)
    for _ in range(MAX_FAILURES):
        refused = post_login(client, name, "not the password")
        assert refused.status_code == 401
        assert "not right" in refused.text
    locked = post_login(client, name, PASSWORD)
    assert locked.status_code == 401
    assert "locked" in locked.text
    now[0] += LOCK_FOR + dt.timedelta(seconds=1)
    assert post_login(client, name, PASSWORD).status_code == 303
    with web_demo.ws.sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.username == name)
        ).all()
    assert actions.count(audit.SIGN_IN_REFUSED) == MAX_FAILURES + 1
    assert actions.count(audit.SIGN_IN) == 1


def test_an_unknown_username_gets_the_same_answer_as_a_wrong_password(web_demo):
    client = web_demo.client()
    answer = post_login(client, "nobody.at.all", PASSWORD)
    assert answer.status_code == 401
    assert REFUSED in answer.text  # the same words as a wrong password or a locked account


def test_sign_out_ends_the_session_even_for_a_copied_cookie(web_demo):
    name = _fresh_user(web_demo, "logout.check")
    client = web_demo.client()
    assert post_login(client, name, PASSWORD).status_code == 303
    copied = client.cookies.get(COOKIE)
    home = client.get("/")
    assert home.status_code == 200
    assert "/logout?" not in home.text  # the token travels in the form's body
    token = csrf_token(home)
    assert client.post("/logout", follow_redirects=False).status_code == 403  # no token
    in_url = client.post(f"/logout?csrf_token={token}", follow_redirects=False)
    assert in_url.status_code == 403  # a token in the URL is not accepted
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    thief = web_demo.client()
    thief.cookies.set(COOKIE, copied)
    assert thief.get("/api/me").status_code == 401


def test_a_tampered_cookie_is_refused(web_demo):
    client = web_demo.client("haiderian.practice")
    cookie = client.cookies.get(COOKIE)
    client.cookies.set(COOKIE, cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB"))
    assert client.get("/api/me").status_code == 401


def test_sign_in_never_redirects_to_another_site(web_demo):
    name = _fresh_user(web_demo, "redirect.check")
    client = web_demo.client()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        answer = post_login(client, name, PASSWORD, next=target)
        assert answer.headers["location"] == "/"
    assert post_login(client, name, PASSWORD, next="/org/F82002").headers["location"] == (
        "/org/F82002"
    )


def test_api_login_sets_the_session(web_demo):
    name = _fresh_user(web_demo, "api.check")
    client = web_demo.client()
    answer = client.post("/api/login", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200
    assert answer.json() == {"username": name, "role": "practice", "scope": "F82002"}
    assert client.get("/api/me").json()["scope"]["code"] == "F82002"
    bad = web_demo.client().post("/api/login", json={"username": name, "password": "nope"})
    assert bad.status_code == 401


def test_pages_carry_security_headers(web_demo):
    page = web_demo.client("havering.south").get("/org/U00367")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "https://" not in page.text.split("<body", 1)[0]  # nothing loaded from the internet


def test_the_audit_log_cannot_be_edited(workspace):
    with workspace.transaction() as session:
        audit.record(session, "someone", audit.VIEW_LIST, "smr for U00367", dt.datetime.now())
    for statement in (
        update(AuditEvent).values(username="someone else"),
        text("DELETE FROM audit_event"),
    ):
        with pytest.raises((DBAPIError, IntegrityError)), workspace.transaction() as session:
            session.execute(statement)
    with workspace.sessions() as session:
        assert session.scalars(select(AuditEvent.username)).all() == ["someone"]


# --- scope: every route that takes an organisation code, edited to another scope -------------

# What each demo user may open, and patient lists they may see, as at 1 January 2020.
INSIDE = {
    "haiderian.practice": ["F82002"],
    "havering.south": ["U00367", "F82002", "F82006"],
    "havering.place": ["PL-HAV", "U00367", "F82002"],
    "nel.icb": ["QMF", "PL-HAV", "U00367", "F82002", "U03653"],
}
OUTSIDE = {
    "haiderian.practice": ["F82006", "U00367", "08F", "PL-HAV", "QMF"],
    "havering.south": ["U03653", "F86007", "U29424", "08F", "PL-HAV", "QMF"],
    "havering.place": ["U03653", "F86007", "PL-RED", "QMF", "BHR"],
    "nel.icb": ["Y56", "ENG"],
}
PATIENTS = {
    "haiderian.practice": ["F82002"],
    "havering.south": ["U00367", "F82002", "F82006"],
    "havering.place": [],
    "nel.icb": [],
}


def _all_routes(routes):
    """Every route, looking inside included routers (FastAPI includes them lazily; no router
    here has a prefix)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _all_routes(inner.routes) if inner is not None else [route]


def _code_routes(app) -> list[APIRoute]:
    return [
        r
        for r in _all_routes(app.routes)
        if isinstance(r, APIRoute) and "{code}" in r.path and "GET" in r.methods
    ]


# Values for the other parameters routes may require.
PARAMETERS = {
    "list_id": "smr",
    "part": "entitlements",
    "year": "2019/20",
    "indicator_id": "telephony_answered",
    "kind": "assurance-update",  # a committee pack's download
}


def _url(route: APIRoute, code: str) -> str:
    path = route.path.replace("{code}", code)
    for name, value in PARAMETERS.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"add a value for the parameters of {route.path}"
    query = {"on": "2020-01-01"}
    for param in route.dependant.query_params:
        if param.field_info.is_required():
            assert param.name in PARAMETERS, f"add a value for '{param.name}' of {route.path}"
            query[param.name] = PARAMETERS[param.name]
    return path + "?" + urlencode(query)


def _is_patient_level(route: APIRoute) -> bool:
    return "/lists/" in route.path


def test_every_code_route_is_covered(web_demo):
    routes = _code_routes(web_demo.app())
    paths = {r.path for r in routes}
    assert {"/org/{code}", "/api/org/{code}"} <= paths
    assert any(_is_patient_level(r) for r in routes), "the patient-list routes are missing"
    assert any(r.path.startswith("/funding") for r in routes)


@pytest.mark.parametrize("username", sorted(INSIDE))
def test_no_route_reaches_another_scope_by_editing_the_code(web_demo, username):
    app = web_demo.app()
    client = web_demo.client(username, app=app)
    problems = []
    for route in _code_routes(app):
        for code in OUTSIDE[username]:
            answer = client.get(_url(route, code), follow_redirects=False)
            if answer.status_code != 403:
                problems.append(f"{route.path} {code}: {answer.status_code}, expected 403")
        for code in INSIDE[username]:
            answer = client.get(_url(route, code), follow_redirects=False)
            allowed = not _is_patient_level(route) or code in PATIENTS[username]
            if allowed and answer.status_code == 403:
                problems.append(f"{route.path} {code}: 403 but inside the scope")
            if not allowed and answer.status_code != 403:
                problems.append(f"{route.path} {code}: {answer.status_code}, patient list")
    assert not problems, "\n".join(problems)


def test_find_shows_only_organisations_in_scope(web_demo):
    client = web_demo.client("haiderian.practice")
    found = client.get("/api/find?q=F82").json()["results"]
    assert [r["code"] for r in found] == ["F82002"]
    found = web_demo.client("havering.south").get("/api/find?q=pcn").json()["results"]
    assert [r["code"] for r in found] == ["U00367"]


def test_a_bad_as_of_date_is_a_clear_error(web_demo):
    answer = web_demo.client("havering.south").get("/api/org/U00367?on=2020-13-01")
    assert answer.status_code == 400
    assert "YYYY-MM-DD" in answer.json()["detail"]


def test_the_403_page_keeps_the_signed_in_header(web_demo):
    client = web_demo.client("haiderian.practice")
    page = client.get("/org/F82006?on=2020-01-01")
    assert page.status_code == 403
    assert "You do not have access" in page.text
    assert "haiderian.practice" in page.text and "Sign out" in page.text
    assert "(F82006) is outside your scope on 1 January 2020" in page.text
    assert "(F82002) and the organisations that belonged to it" in page.text


def test_the_header_search_keeps_the_date_of_the_page_it_was_used_on(web_demo):
    client = web_demo.client("havering.south")
    came_from = "http://testserver/org/U00367?on=2019-08-01"
    found = client.get("/find?q=havering", headers={"referer": came_from})
    assert 'name="on" type="date" value="2019-08-01"' in found.text
    elsewhere = client.get(
        "/find?q=havering", headers={"referer": "http://evil.example/?on=2010-01-01"}
    )
    assert 'name="on" type="date" value="2020-01-01"' in elsewhere.text


def test_the_api_never_takes_its_date_from_the_referer(web_demo):
    """An API call answers as at its own `on`, or the default: the page a client (or a
    script run from a browser tab) came from does not change the figures."""
    client = web_demo.client("havering.south")
    came_from = {"referer": "http://testserver/org/U00367?on=2019-08-01"}
    assert client.get("/api/find?q=havering", headers=came_from).json()["as_of"] == "2020-01-01"
    own = client.get("/api/org/U00367?on=2019-10-01", headers=came_from).json()
    assert own["as_of"] == "2019-10-01"
    page = client.get("/api/org/U00367", headers=came_from).json()
    assert page["as_of"] == "2020-01-01"
    bad = {"referer": "http://testserver/org/U00367?on=1990-01-01"}
    assert client.get("/api/funding/U00367", headers=bad).status_code == 200


def test_no_patient_list_is_shown_when_its_view_cannot_be_audited(web_demo, monkeypatch):
    client = web_demo.client("havering.south")
    assert client.get("/api/population/F82002/lists/smr").status_code == 200

    def broken(*args, **kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(audit, "record", broken)
    # A 500 with no list (the error is logged by kind and place, not passed to the server).
    api = client.get("/api/population/F82002/lists/smr")
    assert api.status_code == 500 and "pseudonym" not in api.text
    assert "audit log is unavailable" not in api.text
    download = client.get("/population/F82002/lists/smr.csv")
    assert download.status_code == 500 and "pseudonym" not in download.text
