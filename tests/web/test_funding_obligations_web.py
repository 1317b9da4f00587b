"""A PCN's funding page shows what the network must provide for the money (extended hours /
enhanced access minutes a week), with the formula, source and rounding rule, and says when the
minutes cannot be calculated."""

from __future__ import annotations

import pytest
from html_tables import tables_of

from pcnkit.funding import obligations as obl
from pcnkit.funding.rules import rules_for

PCN = "U00367"  # Havering South


@pytest.fixture(scope="module")
def client(web_demo):
    return web_demo.client("havering.south")


def test_extended_hours_minutes_beside_the_2019_20_money(client, web_demo):
    page = client.get(f"/funding/{PCN}?year=2019/20")
    assert page.status_code == 200
    html = page.text
    assert "What the network must provide" in html
    rules = rules_for("2019/20")
    with web_demo.ws.sessions() as session:
        (line,) = obl.obligation_lines(obl.load(session, rules, PCN), rules, pcns=[PCN])
    rows = tables_of(html)["obligations-table"]
    assert any(f"({line.minutes} minutes)" in cell for row in rows for cell in row)
    assert "nearest quarter hour" in html and "BHNC, extended hour access" in html
    assert "[S8]" not in html  # sources by public title


def test_enhanced_access_without_adjusted_population_says_why(client):
    html = client.get(f"/funding/{PCN}?year=2023/24").text
    assert "What the network must provide" in html
    assert "PCN adjusted population not loaded" in html
    assert "pcnkit&#39;s assumption" in html or "pcnkit's assumption" in html


def test_a_practice_page_has_no_obligations_block(web_demo):
    html = web_demo.client("haiderian.practice").get("/funding/F82002?year=2019/20").text
    assert "What the network must provide" not in html
