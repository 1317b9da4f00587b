"""Issue 10, items 6e and 6f in real Chromium: a link on another website to a patient list
is refused (and writes nothing in the user's name), the same link on pcnkit's own page opens
the list, and opening the sign-in page does not sign the user out."""

from __future__ import annotations

import pytest
from browser_support import sign_in
from sqlalchemy import func, select

from pcnkit.store.models import AuditEvent

pytestmark = pytest.mark.browser

EVIL = "http://evil.example"
LIST = "/population/F82002/lists/smr?on=2020-01-01"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def _events(web_demo, username: str) -> int:
    with web_demo.ws.sessions() as session:
        return session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.username == username)
        )


def test_a_link_on_another_site_does_not_open_a_patient_list(page, server, web_demo):
    user = "havering.south"
    sign_in(page, server.url, user, web_demo.logins[user].password)
    # Another website (served by the browser itself: no network here) links to the list.
    html = f'<html><body><a id="bait" href="{server.url}{LIST}">Look at this</a></body></html>'
    page.route(f"{EVIL}/**", lambda route: route.fulfill(body=html, content_type="text/html"))
    before = _events(web_demo, user)
    page.goto(f"{EVIL}/page")
    with page.expect_navigation():
        page.click("#bait")
    refused = page.inner_text("main")
    assert "another website" in refused and "direct care" not in refused
    assert _events(web_demo, user) == before  # nothing written in the user's name
    # Opening the sign-in page from there does not sign the user out ...
    page.goto(f"{server.url}/login")
    assert "/login" not in page.url
    # ... and the same list, opened from pcnkit's own page, shows (and is audited).
    with page.expect_navigation():
        page.evaluate(f"location.href = {LIST!r}")
    assert page.url.endswith(LIST)
    text = page.inner_text("main")
    assert "another website" not in text and "direct care" in text
    assert _events(web_demo, user) == before + 1
