"""Printing a web page in real headless Chromium: the content without the controls. No
navigation, search, skip link or footer links, no forms or date pickers (the date shown is
printed in words), no " (Link: …)" after each link, and charts print their wide drawing even
on paper narrower than the screen breakpoint."""

from __future__ import annotations

import io

import pytest
from browser_support import SCREENSHOTS

pytestmark = pytest.mark.browser

PCN = "U00367"
HIDDEN_IN_PRINT = (
    ".nhsuk-skip-link",
    ".nhsuk-header__navigation",
    ".nhsuk-header__search",
    ".nhsuk-header__account",
    ".nhsuk-footer__list",
    "form",
    "input[type=date]",
    "button",
)


@pytest.fixture
def page(browser):
    # 700 px wide: narrower than the charts' breakpoint, as an A4 page is
    context = browser.new_context(viewport={"width": 700, "height": 900}, locale="en-GB")
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def test_printed_page_has_content_not_controls(page, server, web_demo):
    import pypdf

    user = "havering.south"
    response = page.request.post(
        f"{server.url}/api/login",
        data={"username": user, "password": web_demo.logins[user].password},
    )
    assert response.status == 200
    page.goto(f"{server.url}/population/{PCN}")
    page.wait_for_load_state("load")
    # on screen the controls are there and the narrow chart is shown
    assert page.locator(".nhsuk-header__navigation").first.is_visible()
    assert page.locator("input[type=date]").first.is_visible()
    assert page.locator(".pcnkit-chart--narrow").first.is_visible()
    assert not page.locator("#as-of-print").is_visible()

    page.emulate_media(media="print")
    for selector in HIDDEN_IN_PRINT:
        shown = [e for e in page.locator(selector).all() if e.is_visible()]
        assert not shown, f"{selector} is printed"
    assert page.locator("#as-of-print").is_visible()
    assert page.locator("main h1").first.is_visible()
    wide = page.locator(".pcnkit-chart:not(.pcnkit-chart--narrow)")
    assert wide.count() > 0 and all(e.is_visible() for e in wide.all())
    assert not any(e.is_visible() for e in page.locator(".pcnkit-chart--narrow").all())

    pdf = page.pdf(format="A4", print_background=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "print-population-pcn.pdf").write_bytes(pdf)
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    assert "(Link:" not in flat
    assert "Date chosen:" in flat
    assert "Find an organisation" not in flat and "Change date" not in flat
