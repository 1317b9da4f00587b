"""The funding pages, their JSON twins and downloads agree with the funding engine, say how each
figure was calculated, mark unconfirmed figures and keep to the user's scope."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from html import unescape

import pytest
from html_tables import tables_of
from openpyxl import load_workbook
from sqlalchemy import select

from pcnkit.demo import demo_ledger
from pcnkit.funding import arrs
from pcnkit.funding.entitlements import entitlements
from pcnkit.funding.ledger import LINE_COLUMNS
from pcnkit.funding.money import money
from pcnkit.funding.populations import from_registry
from pcnkit.funding.reconcile import as_at
from pcnkit.funding.rules import rules_for, year_of
from pcnkit.funding.schedule import by_month, schedule
from pcnkit.funding.sources import public
from pcnkit.store.models import PaymentLine
from pcnkit.web.views.funding import LEDGER_COLUMNS

YEAR = "2019/20"
PCN = "U00367"  # Havering South
PRACTICE = "F82002"  # Haiderian Medical Centre, a member of U00367
OTHER_PRACTICE = "F82006"  # another member of U00367


@pytest.fixture(scope="module")
def demo(web_demo):
    """The shared web demo: it holds the illustrative ARRS roster and the 2019/20 ledger."""
    with web_demo.ws.sessions() as session:
        assert session.scalar(select(PaymentLine.id).limit(1)) is not None
        assert demo_ledger(session) == 0  # paid once: running it again writes nothing
    return web_demo


@pytest.fixture(scope="module")
def engine(demo):
    """The engine's 2019/20 lines for all of BHR, computed as `pcnkit funding entitlements`."""
    rules = rules_for(YEAR)
    with demo.ws.sessions() as session:
        pops = from_registry(session, rules, "BHR")
    return rules, pops, entitlements(pops, rules)


@pytest.fixture(scope="module")
def pcn_client(demo):
    return demo.client("havering.south")


@pytest.fixture(scope="module")
def pcn_page(pcn_client):
    page = pcn_client.get(f"/funding/{PCN}")
    assert page.status_code == 200, page.text
    return page.text


def element_text(html: str, element_id: str) -> str:
    found = re.search(rf"""id=["']{element_id}["'][^>]*>([^<]*)<""", html)
    assert found, f"no element #{element_id}"
    return unescape(found.group(1)).strip()


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def test_default_year_is_the_contract_year_of_the_as_of_date():
    assert year_of(dt.date(2020, 1, 1)) == "2019/20"
    assert year_of(dt.date(2019, 4, 1)) == "2019/20"
    assert year_of(dt.date(2019, 3, 31)) == "2018/19"


def test_pcn_total_is_the_engines_sum_of_its_lines(pcn_page, engine):
    _, _, lines = engine
    mine = [x for x in lines if x.pcn_code == PCN]
    assert mine
    assert element_text(pcn_page, "total-entitlement") == money(sum(x.amount for x in mine))
    streams = tables_of(pcn_page)["streams-table"]
    for sid in {x.stream for x in mine}:
        amount = sum(x.amount for x in mine if x.stream == sid)
        assert element_text(pcn_page, f"stream-amount-{sid}") == money(amount)
    assert streams[-1][:2] == ["Total", money(sum(x.amount for x in mine))]


def test_each_figure_says_how_it_was_calculated(pcn_page, engine):
    _, _, lines = engine
    for line in (x for x in lines if x.pcn_code == PCN):
        block = unescape(section(pcn_page, f"stream-{line.stream}"))
        assert "How was this calculated" in block
        assert "<details" in block
        assert line.rule_id in block and f"version {line.rule_version}" in block
        assert line.formula in block
        assert line.inputs in block
        assert public(line.source) in block  # sources by public title, not note keys


def test_unconfirmed_figures_are_marked(pcn_page, engine):
    _, _, lines = engine
    unconfirmed = {(x.stream, x.status) for x in lines if x.pcn_code == PCN and not x.confirmed}
    confirmed = {x.stream for x in lines if x.pcn_code == PCN and x.confirmed}
    assert unconfirmed and confirmed  # the 2019/20 rules have both
    names = {x.stream: x.stream_name for x in lines}
    for stream, _status in unconfirmed:
        assert "Not confirmed: " in section(pcn_page, f"stream-{stream}")
        assert names[stream] in element_text(pcn_page, "unconfirmed-streams")
    for stream in confirmed:
        assert "Not confirmed" not in section(pcn_page, f"stream-{stream}").split("<details")[0]


def test_schedule_is_the_engines(pcn_page, engine):
    rules, _, lines = engine
    expected = by_month(schedule([x for x in lines if x.pcn_code == PCN], rules))
    rows = tables_of(pcn_page)["schedule-table"][1:]
    assert [(r[0], r[2]) for r in rows] == [
        (f"{m:%B %Y}", money(amount)) for m, amount in expected.items()
    ]
    assert rows[0][1] == "Apr 2019 to Jul 2019"  # catch-up months paid at the end of July


def test_json_twin_gives_money_as_strings(pcn_client, engine):
    rules, _, lines = engine
    mine = [x for x in lines if x.pcn_code == PCN]
    data = pcn_client.get(f"/api/funding/{PCN}").json()
    assert data["year"] == YEAR and data["kind"] == "pcn"
    assert data["total"]["amount"] == str(sum(x.amount for x in mine))
    assert data["total"]["complete"] is True
    assert all(isinstance(s["amount"], str) for s in data["streams"])
    got = sorted(
        (row["stream"], row["payee_code"], row["first_month"], Decimal(row["amount"]))
        for s in data["streams"]
        for row in s["lines"]
    )
    assert got == sorted((x.stream, x.payee_code, f"{x.first_month:%Y-%m}", x.amount) for x in mine)
    expected = by_month(schedule(mine, rules))
    assert [(r["payment_month"], r["amount"]) for r in data["schedule"]] == [
        (m.isoformat(), str(a)) for m, a in expected.items()
    ]
    assert isinstance(data["arrs"]["budget"]["amount"], str)


def test_csv_download_is_the_engines_lines(pcn_client, engine):
    _, _, lines = engine
    response = pcn_client.get(f"/funding/{PCN}/download.csv?part=entitlements")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="funding-{PCN}-2019-20-entitlements.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    expected = [x.as_row() for x in lines if x.pcn_code == PCN]
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert Decimal(got["amount"]) == want["amount"]
        assert (got["stream"], got["payee_code"], got["rule_id"], got["formula"]) == (
            want["stream"],
            want["payee_code"],
            want["rule_id"],
            want["formula"],
        )
    schedule_csv = pcn_client.get(f"/funding/{PCN}/download.csv?part=schedule")
    paid = sum(Decimal(r["amount"]) for r in csv.DictReader(io.StringIO(schedule_csv.text)))
    assert paid == sum(x.amount for x in lines if x.pcn_code == PCN)
    assert pcn_client.get(f"/funding/{PCN}/download.csv?part=nonsense").status_code == 404


def test_xlsx_download_has_every_table(pcn_client, engine):
    _, _, lines = engine
    response = pcn_client.get(f"/funding/{PCN}/download.xlsx")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="funding-{PCN}-2019-20.xlsx"'
    )
    book = load_workbook(io.BytesIO(response.content))
    for sheet in ("entitlements", "schedule", "arrs", "arrs-budget", "ledger", "reconciliation"):
        assert sheet in book.sheetnames
    sheet = book["entitlements"]
    # the header, a row per line and the totals row
    assert sheet.max_row == 1 + len([x for x in lines if x.pcn_code == PCN]) + 1
    assert book.sheetnames[0] == "About"  # the cover sheet
    header = [c.value for c in sheet[1]]
    assert "formula" in header and "rule_id" in header


def test_arrs_budget_and_claims_are_the_engines(pcn_client, pcn_page, engine, demo):
    rules, pops, _ = engine
    staff = arrs.read_staff_csv(demo.folder / "funding" / "arrs-staff-2019-20.csv")
    assert all("illustrative" in s.name for s in staff)
    result = arrs.reimbursement(rules, staff, PCN, pops, include_planned=True)
    assert element_text(pcn_page, "arrs-budget") == money(result.budget.amount)
    assert element_text(pcn_page, "arrs-claimable") == money(result.total)
    assert element_text(pcn_page, "arrs-headroom") == money(result.headroom)
    assert result.budget.formula in unescape(pcn_page)
    data = pcn_client.get(f"/api/funding/{PCN}").json()["arrs"]
    assert data["roster_loaded"] and data["error"] is None
    assert [Decimal(c["claimable"]) for c in data["claims"]] == [x.claimable for x in result.lines]
    assert len(data["claims"]) == 4  # two of each role in Havering South (over 100,000)


def test_bad_roster_is_reported_not_a_server_error(pcn_client, demo):
    path = demo.folder / "funding" / "arrs-staff-2019-20.csv"
    good = path.read_text()
    try:
        path.write_text(good.replace("34113", "lots", 1))
        page = pcn_client.get(f"/funding/{PCN}")
        assert page.status_code == 200
        error = element_text(page.text, "arrs-error")
        assert "arrs-staff-2019-20.csv" in error and "row 2" in error
        assert "annual_cost" in error and str(demo.folder) not in error
        # the budget is still shown
        assert element_text(page.text, "arrs-budget").startswith("£")
    finally:
        path.write_text(good)


def test_without_a_roster_the_budget_is_shown_and_no_claims(pcn_client, demo):
    path = demo.folder / "funding" / "arrs-staff-2019-20.csv"
    hidden = path.with_suffix(".hidden")
    path.rename(hidden)
    try:
        page = pcn_client.get(f"/funding/{PCN}")
        assert page.status_code == 200
        assert "No staff roster is loaded" in page.text
        assert element_text(page.text, "arrs-budget").startswith("£")
        assert "arrs-table" not in page.text
    finally:
        hidden.rename(path)


def test_ledger_and_reconciliation(pcn_client, pcn_page, demo, engine):
    rules, _, lines = engine
    with demo.ws.sessions() as session:
        paid = session.scalars(
            select(PaymentLine).where(
                PaymentLine.year == YEAR,
                PaymentLine.pcn_code == PCN,
                PaymentLine.payment_month <= demo.as_of,
            )
        ).all()
        status = as_at(session, [x for x in lines if x.pcn_code == PCN], rules, demo.as_of)
    assert paid and all(p.payment_month <= demo.as_of for p in paid)
    data = pcn_client.get(f"/api/funding/{PCN}").json()
    assert len(data["ledger"]["lines"]) == len(paid)
    assert data["ledger"]["total"] == str(sum(p.amount for p in paid))
    assert all(r["payment_month"] <= demo.as_of.isoformat() for r in data["ledger"]["lines"])
    assert element_text(pcn_page, "ledger-total") == money(sum(p.amount for p in paid))
    mine = [s for s in status if s.pcn_code == PCN]
    assert [
        (r["payee_code"], r["stream"], r["outstanding"]) for r in data["reconciliation"]["rows"]
    ] == [(s.payee_code, s.stream, str(s.outstanding)) for s in mine]
    assert len(tables_of(pcn_page)["reconciliation-table"]) == 1 + len(mine) + 1


def test_practice_user_sees_only_their_own_lines(demo, engine):
    _, _, lines = engine
    client = demo.client("haiderian.practice")
    page = client.get(f"/funding/{PRACTICE}")
    assert page.status_code == 200
    own = [x for x in lines if x.practice_code == PRACTICE]
    assert own
    assert element_text(page.text, "total-entitlement") == money(sum(x.amount for x in own))
    data = client.get(f"/api/funding/{PRACTICE}").json()
    rows = [r for s in data["streams"] for r in s["lines"]]
    assert rows and all(r["practice_code"] == PRACTICE for r in rows)
    assert all(PRACTICE in (r["practice_code"], r["payee_code"]) for r in data["ledger"]["lines"])
    assert data["ledger"]["lines"]
    assert OTHER_PRACTICE not in page.text
    assert f'href="/funding/{PCN}' not in page.text  # their PCN is outside their scope
    entitlement_csv = client.get(f"/funding/{PRACTICE}/download.csv?part=entitlements")
    assert {r["practice_code"] for r in csv.DictReader(io.StringIO(entitlement_csv.text))} == {
        PRACTICE
    }
    for url in (
        f"/funding/{PCN}",
        f"/api/funding/{PCN}",
        f"/funding/{OTHER_PRACTICE}",
        f"/funding/{PCN}/download.xlsx",
        f"/funding/{OTHER_PRACTICE}/download.csv?part=entitlements",
    ):
        assert client.get(url).status_code == 403, url


def test_pcn_user_sees_member_practice_with_a_link_to_the_pcn(pcn_client):
    page = pcn_client.get(f"/funding/{PRACTICE}")
    assert page.status_code == 200
    assert re.search(rf'id="pcn-link">.*href="/funding/{PCN}\?', page.text)


def test_pcn_user_cannot_open_another_pcn(pcn_client, engine):
    _, _, lines = engine
    other = sorted({x.pcn_code for x in lines} - {PCN})[0]
    for url in (
        f"/funding/{other}",
        f"/api/funding/{other}",
        f"/funding/{other}/download.csv?part=entitlements",
        f"/funding/{other}/download.xlsx",
        "/funding/QMF",
    ):
        response = pcn_client.get(url)
        assert response.status_code == 403, url
        assert "funding-" not in response.headers.get("content-disposition", "")


def test_commissioner_sees_per_pcn_totals_for_the_area(demo, engine):
    _, _, lines = engine
    client = demo.client("nel.icb")
    page = client.get("/funding/QMF")
    assert page.status_code == 200
    assert element_text(page.text, "total-entitlement") == money(sum(x.amount for x in lines))
    pcns = {x.pcn_code for x in lines}
    assert len(pcns) == 15
    for code in pcns:
        total = sum(x.amount for x in lines if x.pcn_code == code)
        assert element_text(page.text, f"pcn-total-{code}") == money(total)
        assert f'href="/funding/{code}?' in page.text
    data = client.get("/api/funding/QMF").json()
    assert data["kind"] == "area"
    by_pcn = {p["code"]: p for p in data["pcns"]}
    south = [x for x in lines if x.pcn_code == PCN]
    for stream in {x.stream for x in south}:
        assert by_pcn[PCN]["by_stream"][stream]["amount"] == str(
            sum(x.amount for x in south if x.stream == stream)
        )
    assert "Not confirmed" in page.text
    # the commissioner may open a PCN's own funding page
    assert client.get(f"/funding/{PCN}").status_code == 200


def test_place_commissioner_sees_only_its_pcns(demo):
    client = demo.client("havering.place")
    data = client.get("/api/funding/PL-HAV").json()
    assert {p["code"] for p in data["pcns"]} >= {PCN}
    assert all(p["name"].startswith("HAVERING") for p in data["pcns"])
    assert client.get("/funding/U11211").status_code == 403  # Barking & Dagenham West


def test_year_parameter(pcn_client):
    assert pcn_client.get(f"/api/funding/{PCN}?year=2019-20").json()["year"] == YEAR
    assert pcn_client.get(f"/api/funding/{PCN}?on=2020-05-01").json()["year"] == "2020/21"
    assert pcn_client.get(f"/api/funding/{PCN}?year=1999/00").status_code == 400


def test_the_ledger_sheet_shows_the_ledgers_columns_with_each_code_named():
    after = {c: LEDGER_COLUMNS[LEDGER_COLUMNS.index(c) + 1] for c in ("payee_code", "stream")}
    assert after == {"payee_code": "payee_name", "stream": "stream_name"}
    assert len(LEDGER_COLUMNS) == len(LINE_COLUMNS) + 2
    assert [c for c in LEDGER_COLUMNS if not c.endswith("_name")] == list(LINE_COLUMNS)


def test_area_shows_every_pcns_arrs_budget_and_headroom_without_staff(demo, engine):
    """A roster with staff for one PCN only: the commissioner's area page still shows all 15
    PCNs' budgets, and each PCN without staff has its whole budget as headroom."""
    rules, pops, _ = engine
    path = demo.folder / "funding" / "arrs-staff-2019-20.csv"
    good = path.read_text()
    only_south = "".join(
        line for line in good.splitlines(keepends=True) if line.startswith(("pcn_code", PCN))
    )
    client = demo.client("nel.icb")
    try:
        path.write_text(only_south)
        page = client.get("/funding/QMF")
        assert page.status_code == 200
        staff = arrs.read_staff_csv(path)
        found = arrs.every_pcn(rules, pops, staff)
        assert len(found.results) == 15
        for r in found.results:
            assert element_text(page.text, f"arrs-budget-{r.pcn_code}") == money(r.budget.amount)
            assert element_text(page.text, f"arrs-headroom-{r.pcn_code}") == money(r.headroom)
            if r.pcn_code != PCN:
                assert r.headroom == r.budget.amount and not r.staff_recorded
        assert element_text(page.text, "arrs-no-staff-count") == "14 of 15"
        data = client.get("/api/funding/QMF").json()["arrs"]
        south = next(p for p in data["pcns"] if p["pcn_code"] == PCN)
        assert south["staff_recorded"] and south["claimable"] is not None
        others = [p for p in data["pcns"] if p["pcn_code"] != PCN]
        assert all(p["headroom"] == p["budget"] and p["claimable"] is None for p in others)
        csv_text = client.get("/funding/QMF/download.csv?part=arrs-budgets").text
        assert len(list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))) == 15
        # no roster at all: the same budgets, every headroom the whole budget
        path.unlink()
        page = client.get("/funding/QMF")
        assert element_text(page.text, "arrs-no-staff-count") == "15 of 15"
        assert "no staff roster is loaded" in page.text
    finally:
        path.write_text(good)


def test_pcn_without_a_roster_has_its_whole_budget_as_headroom(pcn_client, demo):
    path = demo.folder / "funding" / "arrs-staff-2019-20.csv"
    good = path.read_text()
    try:
        path.write_text(good.splitlines()[0] + "\n")  # a header only: no staff recorded
        page = pcn_client.get(f"/funding/{PCN}")
        assert page.status_code == 200
        budget = element_text(page.text, "arrs-budget")
        assert element_text(page.text, "arrs-headroom") == budget
        assert element_text(page.text, "arrs-claimable") == "No staff recorded"
        assert "arrs-no-staff" in page.text
        path.unlink()
        page = pcn_client.get(f"/funding/{PCN}")
        assert element_text(page.text, "arrs-headroom") == budget
        assert "No staff roster is loaded" in page.text
    finally:
        path.write_text(good)
