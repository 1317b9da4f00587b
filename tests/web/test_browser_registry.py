"""Organisation pages in headless Chromium (issue 10 items 15, 16, 19, 20, 22, 24), at desktop
(1280 px) and phone (375 px) widths, as a commissioner and as a PCN user: the empty state before
a PCN existed, members' registered patients and totals on place and ICS pages, findings grouped
by PCN with the breach first, and the key. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from browser_support import screenshot, sign_in

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 375}


@pytest.fixture(params=list(WIDTHS))
def page(request, browser):
    width = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.width_name = request.param
    yield page
    context.close()


def _signed_in(page, server, web_demo, username):
    sign_in(page, server.url, username, web_demo.logins[username].password)
    return page


def test_pcn_user_sees_why_a_date_before_the_pcn_has_no_members(page, server, web_demo):
    _signed_in(page, server, web_demo, "havering.south")
    page.goto(f"{server.url}/org/U00367?on=2019-06-01")
    empty = page.locator("#empty-state")
    assert empty.is_visible()
    assert "did not exist on 1 June 2019" in empty.inner_text()
    assert "1 July 2019" in empty.inner_text()
    screenshot(page, f"registry-pcn-before-it-existed-{page.width_name}")

    page.goto(f"{server.url}/org/U00367?on=2019-08-01")
    assert page.locator("#empty-state").count() == 0
    assert page.locator("#members-table tbody tr").count() == 18  # 17 practices and the total
    screenshot(page, f"registry-pcn-august-2019-{page.width_name}")


def test_commissioner_sees_patients_totals_and_findings(page, server, web_demo):
    _signed_in(page, server, web_demo, "nel.icb")
    page.goto(f"{server.url}/org/QMF?on=2020-01-01")
    crumbs = page.locator("nav.nhsuk-breadcrumb").inner_text()
    assert "(STP) (STP)" not in crumbs and "(STP) (STP)" not in page.locator("main").inner_text()
    rows = page.locator("#members-table tbody tr")
    members = [" ".join(rows.nth(i).inner_text().split()) for i in range(rows.count())]
    assert not any("A3A8R" in m for m in members)  # not before 1 April 2021
    assert re.match(r"(Member )?Total", members[-1]), members[-1]
    for cell in page.locator("#members-table tbody td:nth-child(3)").all_inner_texts():
        assert re.search(r"\d{1,3}(,\d{3})+$", cell.strip()), cell
    screenshot(page, f"registry-ics-{page.width_name}")

    page.goto(f"{server.url}/org/BHR?on=2019-12-01")
    summary = page.locator("#findings-summary").inner_text()
    assert "1 rule breached" in summary and "26 not recorded" in summary
    first_group = page.locator("h3.pcnkit-finding-group").first
    assert "BARKING & DAGENHAM EAST PCN" in first_group.inner_text()
    with page.expect_navigation():
        first_group.locator("a").click()
    assert "/org/U86966" in page.url
    assert page.locator("#status-key").is_visible()
    # No page overflows sideways on a phone.
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if page.width_name == "phone":
        assert overflow <= 1, overflow
    screenshot(page, f"registry-pcn-findings-{page.width_name}")
