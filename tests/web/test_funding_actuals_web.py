"""Entitled and actually paid (/funding/{code}/actuals): a commissioner sees, for every PCN of
the area, the entitlement against what NHS England paid and the ARRS money left unclaimed, with
the same figures as the library; other scopes' PCNs stay closed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pcnkit.funding import actuals, against_actuals, arrs
from pcnkit.funding.populations import from_registry
from pcnkit.funding.rules import rules_for
from pcnkit.web import schemas


@pytest.fixture(scope="module")
def icb(web_demo):
    return web_demo.client("nel.icb")


def test_the_area_page_shows_every_pcn_with_entitled_paid_and_arrs_unclaimed(icb, web_demo):
    page = icb.get("/funding/BHR/actuals?year=2020/21")
    assert page.status_code == 200, page.text[:300]
    html = page.text
    assert "Entitled and actually paid, 2020/21" in html
    assert "NHS Digital, NHS Payments to General Practice 2020/21" in html
    assert "nhs_payments" not in html  # the publication's title, never a file name
    body = icb.get("/api/funding/BHR/actuals?year=2020/21").json()
    schemas.ActualsPage.model_validate(body)
    rules = rules_for("2020/21")
    with web_demo.ws.sessions() as s:
        found = against_actuals.reconcile(s, ["2020/21"], "BHR")
        pops = from_registry(s, rules, "BHR")
        paid = actuals.paid(s, "2020/21", "PCN Workforce", "BHR")
    assert {p["code"] for p in body["pcns"]} == {c.pcn_code for c in found.comparisons}
    pcn = next(p for p in body["pcns"] if p["code"] == "U26744")
    budget = arrs.budget(rules, "U26744", pops).amount
    assert Decimal(pcn["arrs"]["budget"]) == budget
    assert Decimal(pcn["arrs"]["paid"]) == paid["U26744"]
    assert Decimal(pcn["arrs"]["unclaimed"]) == max(budget - paid["U26744"], 0)
    mine = [c for c in found.comparisons if c.pcn_code == "U26744" and c.compared]
    assert Decimal(pcn["entitled"]) == sum(c.entitled for c in mine)
    assert "U26744" in html and f"{budget - paid['U26744']:,.2f}" in html


def test_arrs_unclaimed_is_not_known_rather_than_zero_when_paid_outside_practices(icb):
    body = icb.get("/api/funding/BHR/actuals?year=2020/21").json()
    south = next(p for p in body["pcns"] if p["code"] == "U00367")
    assert south["arrs"]["unclaimed"] is None and south["arrs"]["paid"] is None
    assert "outside GP practices" in south["arrs"]["why"]
    html = icb.get("/funding/BHR/actuals?year=2020/21").text
    assert "Not known*" in html and "£0.00" not in html.split('id="actuals-pcns"')[1][:200]


def test_each_explanation_used_is_in_the_key(icb):
    body = icb.get("/api/funding/BHR/actuals?year=2021/22").json()
    used = {r["category_label"] for p in body["pcns"] for r in p["columns"]}
    assert used == {k["label"] for k in body["categories"]}
    assert all(k["meaning"] for k in body["categories"])


def test_the_latest_year_loaded_is_the_default_and_other_years_say_why(icb):
    assert icb.get("/api/funding/BHR/actuals").json()["year"] == "2022/23"
    missing = icb.get("/funding/BHR/actuals?year=2024/25")
    assert missing.status_code == 404
    assert "No payments file is loaded for 2024/25" in missing.text
    odd = icb.get("/funding/BHR/actuals", params={"year": "<script>alert(1)</script>"})
    assert odd.status_code in (400, 404) and "<script>alert(1)" not in odd.text


def test_the_funding_pages_link_to_it(icb):
    html = icb.get("/funding/BHR?year=2021/22").text
    assert 'id="actuals-link"' in html and "/funding/BHR/actuals" in html


def test_a_pcn_user_sees_its_own_pcn_only(web_demo):
    south = web_demo.client("havering.south")
    assert south.get("/funding/U00367/actuals?year=2021/22").status_code == 200
    assert south.get("/funding/U26744/actuals?year=2021/22").status_code == 403
    assert south.get("/api/funding/BHR/actuals?year=2021/22").status_code == 403
    practice = web_demo.client("haiderian.practice")
    assert practice.get("/funding/U26744/actuals").status_code == 403


def test_paid_outside_is_no_figure_and_arrs_paid_shows_without_a_budget(icb):
    body = icb.get("/api/funding/BHR/actuals?year=2021/22").json()
    outside = [r for p in body["pcns"] for r in p["columns"] if r["category"] == "paid_outside"]
    assert outside and all(r["paid"] is None and r["percent"] is None for r in outside)
    assert "Not in the file" in icb.get("/funding/BHR/actuals?year=2021/22").text
    # 2021/22 has no confirmed ARRS budget rate, but what was reimbursed is in the file
    new_west = next(p for p in body["pcns"] if p["code"] == "U26744")
    assert new_west["arrs"]["budget"] is None and new_west["arrs"]["unclaimed"] is None
    assert Decimal(new_west["arrs"]["paid"]) > 0
