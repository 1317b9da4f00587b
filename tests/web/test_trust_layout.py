"""Issue 10 item 25 (layout) and the browser side of items 22 and 23: at 375 px no main page
scrolls sideways and chart text stays readable; dates out of range or malformed give the normal
page with an NHS.UK error summary; unknown addresses the NHS-styled 404; the help page is
reachable from every page."""

from __future__ import annotations

import pytest
from browser_support import screenshot, sign_in_api

pytestmark = pytest.mark.browser

COMMISSIONER, PCN_USER = "nel.icb", "havering.south"
# (user, page): an ICS, a place, a PCN and a practice, funding, population, lists, help, find
PAGES = [
    (COMMISSIONER, "/"),
    (COMMISSIONER, "/org/QMF"),
    (COMMISSIONER, "/org/PL-HAV"),
    (COMMISSIONER, "/org/U00367"),
    (COMMISSIONER, "/org/F82002"),
    (COMMISSIONER, "/funding/U00367"),
    (COMMISSIONER, "/funding/F82002"),
    (COMMISSIONER, "/funding/QMF"),
    (COMMISSIONER, "/population/U00367"),
    (COMMISSIONER, "/population/QMF"),
    (COMMISSIONER, "/find?q=surgery"),
    (COMMISSIONER, "/help"),
    (COMMISSIONER, "/api/docs"),
    (COMMISSIONER, "/org/QMF?on=2020-13-45"),
    (COMMISSIONER, "/no/such/page"),
    (PCN_USER, "/population/U00367/lists/smr"),
    (PCN_USER, "/population/U00367/lists/rising_risk"),
]
# Pages with charts at 375 px (maps hide their point labels on phones; their tables list them).
CHARTED = {"/population/U00367", "/population/QMF"}

MEASURE = """() => ({
    inner: window.innerWidth,
    scroll: document.scrollingElement.scrollWidth,
    text: [...document.querySelectorAll("svg text")]
        .map(t => t.getBoundingClientRect().height)
        .filter(h => h > 0),
})"""


def _page(browser, server, web_demo, user: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="en-GB")
    context.set_default_timeout(30_000)
    page = context.new_page()
    sign_in_api(page, server.url, user, web_demo.logins[user].password)
    return context, page


@pytest.mark.parametrize(("user", "path"), PAGES, ids=[p for _, p in PAGES])
def test_no_page_scrolls_sideways_at_375px_and_chart_text_is_readable(
    user, path, browser, server, web_demo
):
    context, page = _page(browser, server, web_demo, user, 375)
    try:
        page.goto(server.url + path)
        m = page.evaluate(MEASURE)
        name = "375-" + (path.strip("/").replace("/", "-").replace("?", "-") or "home")
        screenshot(page, name)
        assert m["scroll"] <= m["inner"], f"{path} is {m['scroll']} px wide at 375 px"
        if path in CHARTED:
            assert m["text"], f"{path} should show a chart or a map with text"
        small = [h for h in m["text"] if h < 11]
        assert not small, f"{path}: {len(small)} SVG texts under 11 px (smallest {min(small)})"
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 800])
@pytest.mark.parametrize("path", ["/population/U00367", "/org/U00367"])
def test_charts_and_maps_on_wider_screens_keep_their_text_readable(
    path, width, browser, server, web_demo
):
    context, page = _page(browser, server, web_demo, COMMISSIONER, width)
    try:
        page.goto(server.url + path)
        m = page.evaluate(MEASURE)
        assert m["scroll"] <= m["inner"]
        assert m["text"], f"{path} should show a chart or a map with text"
        assert min(m["text"]) >= 11, f"{path} at {width} px: text {min(m['text'])} px"
    finally:
        context.close()


def test_a_malformed_date_gives_the_normal_page_with_an_error_summary(browser, server, web_demo):
    context, page = _page(browser, server, web_demo, COMMISSIONER, 1280)
    try:
        page.goto(server.url + "/org/U00367?on=2020-02-31")
        assert page.locator("main h1").inner_text().strip().upper() == "HAVERING SOUTH PCN"
        summary = page.locator(".nhsuk-error-summary")
        assert summary.is_visible()
        assert "real date" in summary.inner_text()
        assert page.get_by_role("button", name="Sign out").count() == 1  # the signed-in header
        field = page.locator("#as-of")
        assert "nhsuk-input--error" in field.get_attribute("class")
        assert field.get_attribute("min") and field.get_attribute("max")
        summary.get_by_role("link").click()  # the summary's link goes to the date box
        assert page.evaluate("document.activeElement.id") == "as-of"
        screenshot(page, "date-error")
    finally:
        context.close()


def test_a_date_after_the_latest_data_says_so(browser, server, web_demo):
    context, page = _page(browser, server, web_demo, COMMISSIONER, 1280)
    try:
        page.goto(server.url + "/org/U00367?on=2099-01-01")
        notice = page.locator("#after-data")
        assert notice.is_visible()
        assert "latest data is dated" in notice.inner_text()
        assert page.locator(".nhsuk-error-summary").count() == 0
        latest = page.locator("#as-of").get_attribute("max")
        page.goto(server.url + f"/org/U00367?on={latest}")
        assert page.locator("#after-data").count() == 0
    finally:
        context.close()


def test_an_unknown_address_is_the_nhs_styled_404(browser, server, web_demo):
    context, page = _page(browser, server, web_demo, COMMISSIONER, 1280)
    try:
        response = page.goto(server.url + "/no/such/page")
        assert response.status == 404
        assert "text/html" in response.headers["content-type"]
        assert page.locator("header.nhsuk-header").count() == 1
        assert page.locator("main h1").inner_text() == "Page not found"
        assert page.get_by_role("button", name="Sign out").count() == 1
    finally:
        context.close()


def test_help_is_linked_from_the_header_and_the_footer(browser, server, web_demo):
    context, page = _page(browser, server, web_demo, COMMISSIONER, 1280)
    try:
        page.goto(server.url + "/org/U00367")
        footer = page.locator("footer")
        footer.get_by_role("link", name="Help: what the words and codes mean").click()
        assert page.locator("main h1").inner_text().startswith("Help")
        for anchor in ("#funding-statuses", "#findings", "#tiers", "#codes", "#sources"):
            assert page.locator(anchor).count() == 1
        page.goto(server.url + "/funding/U00367")
        page.locator("header").get_by_role("link", name="Help").first.click()
        assert page.url.split("?")[0].endswith("/help")
        screenshot(page, "help")
    finally:
        context.close()
