"""Fixes from walking the merged web app as its users would (issue 10, "Trust"): labels a
practice manager or commissioner reads are plain English, and nothing that cannot be
calculated is shown as £0.00 or 0 patients."""

from __future__ import annotations

import html
import re

import pytest
from html_tables import tables_of


@pytest.fixture(scope="module")
def app(web_demo):
    return web_demo.app()


@pytest.fixture(scope="module")
def pcn(web_demo, app):
    return web_demo.client("havering.south", app)


@pytest.fixture(scope="module")
def pack(pcn):
    page = pcn.get("/population/U00367")
    assert page.status_code == 200
    return page.text


def _table(html: str, needle: str) -> list[list[str]]:
    """The page's table whose cells mention `needle`."""
    for rows in tables_of(html).values():
        if any(needle in cell for row in rows for cell in row):
            return rows
    raise AssertionError(f"no table mentions {needle!r}")


# --- population pack ----------------------------------------------------------------------


def test_ethnic_group_split_names_groups_in_words_and_not_imd(pack):
    rows = _table(pack, "Ethnic group")
    groups = {row[1] for row in rows[1:]}
    assert "White" in groups and "Asian or Asian British" in groups, groups
    assert not groups & {"white", "asian", "black", "mixed", "other", "total"}, groups
    assert "Total" in groups
    # The ethnic-group split's description does not explain IMD quintiles.
    text = re.sub(r"<[^>]+>", " ", pack)
    described = re.search(r"registered patients in scope by ethnic group([^.]*)", text)
    assert described and "IMD" not in described.group(1), described and described.group(0)


def test_imd_quintile_split_total_row_is_labelled_in_words(pack):
    rows = _table(pack, "IMD quintile")
    assert "Total" in {row[1] for row in rows[1:]}
    assert "total" not in {row[1] for row in rows[1:]}


def test_tier_table_total_row_says_total(pack):
    rows = _table(pack, "Tier name")
    assert rows[-1][-1] == "Total", rows[-1]


def test_no_internal_function_names_in_list_definitions(pack):
    assert "measures.efi_approx" not in pack


# --- funding pages --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def funding_1920(pcn):
    page = pcn.get("/funding/U00367?year=2019/20")
    assert page.status_code == 200
    return page.text


@pytest.fixture(scope="module")
def funding_2223(pcn):
    page = pcn.get("/funding/U00367?year=2022/23")
    assert page.status_code == 200
    return page.text


def test_ledger_names_streams_as_the_entitlements_do(funding_1920):
    rows = tables_of(funding_1920)["ledger-table"]
    streams = {row[2] for row in rows[1:]}
    assert "Network participation payment" in streams, streams
    assert not {s for s in streams if s == s.lower()}, streams  # no "core pcn funding"


def test_arrs_roster_is_not_shown_as_a_file_name(funding_1920, funding_2223):
    for page in (funding_1920, funding_2223):
        assert "arrs-staff-" not in page
        assert "pcn_code,role" not in page
    assert "loaded for 2019/20" in funding_1920


def test_empty_ledger_names_no_command(funding_2223):
    empty = re.search(r'<p id="ledger-empty">(.*?)</p>', funding_2223, re.S).group(1)
    assert "pcnkit funding run" not in empty and "<code>" not in empty, empty


def test_reconciliation_shows_no_due_amount_for_what_cannot_be_calculated(funding_2223):
    rows = tables_of(funding_2223)["reconciliation-table"]
    header = rows[0]
    due = next(i for i, h in enumerate(header) if h.startswith("Due by"))
    uncalculable = [r for r in rows[1:] if "Cannot be calculated" in r[2]]
    assert uncalculable, "2022/23 has streams whose inputs are not loaded"
    assert all(r[due] == "–" for r in uncalculable), uncalculable
    # The totals of an incomplete year say so, due and still-to-pay as well as entitlement.
    total = rows[-1]
    assert "Incomplete" in total[due], total
    assert "Incomplete" in total[-1], total


# --- organisation pages ---------------------------------------------------------------------


def test_member_without_a_list_is_not_shown_as_zero_patients(pcn):
    page = pcn.get("/org/U00367?on=2025-08-01")
    assert page.status_code == 200
    rows = tables_of(page.text)["members-table"]
    beam_park = next(r for r in rows if "Y08371" in r[0])  # opened 2025: no list held
    assert beam_park[2] == "not known", beam_park
    assert beam_park[3] == "no list held" and beam_park[4] == "–", beam_park


# --- layout at 375 px (browser) -------------------------------------------------------------

CELL_OVERFLOW = """() => [
    ...document.querySelectorAll('.nhsuk-table--responsive .nhsuk-table__cell')
].filter(c => {
        const r = document.createRange();
        r.selectNodeContents(c);
        return r.getBoundingClientRect().right > c.getBoundingClientRect().right + 1;
    })
    .map(c => c.innerText.replace(/\\s+/g, ' ').slice(0, 80))"""


@pytest.fixture(scope="module")
def live(web_demo, app):
    from browser_support import LiveServer

    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "path",
    ["/funding/PL-HAV?year=2022/23", "/funding/U00367?year=2022/23", "/org/U00367"],
)
@pytest.mark.browser
def test_stacked_table_cells_keep_their_values_on_screen_at_375px(live, browser, web_demo, path):
    """On a phone each table row stacks as label / value; a long column heading (a stream's
    name with "(not confirmed)") wraps instead of pushing the value out of the cell."""
    from browser_support import screenshot, sign_in_api

    page = browser.new_page(viewport={"width": 375, "height": 800})
    try:
        sign_in_api(page, live.url, "nel.icb", web_demo.logins["nel.icb"].password)
        page.goto(live.url + path)
        clipped = page.evaluate(CELL_OVERFLOW)
        screenshot(page, "walk-375-" + path.strip("/").replace("/", "-").replace("?", "-"))
    finally:
        page.context.close()
    assert not clipped, f"{path}: {len(clipped)} cells push their value out: {clipped[:5]}"


def test_practice_funding_names_the_pcn_it_was_paid_through_that_year(web_demo, app):
    """F82002 left Havering South PCN for Havering Liberty PCN in August 2025: its 2019/20
    money was paid through Havering South, so the 2019/20 page names that PCN, not today's."""
    practice = web_demo.client("haiderian.practice", app)
    page = practice.get("/funding/F82002?year=2019/20&on=2025-08-01")
    assert page.status_code == 200
    line = re.search(r'<p id="pcn-link">(.*?)</p>', page.text, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", line).split())
    assert "HAVERING SOUTH PCN" in text and "U00367" in text and "in 2019/20" in text, text


def test_refusal_names_the_organisation_your_scope_and_the_date(web_demo, pcn):
    """F82002 left Havering South PCN on 31 July 2025: its PCN user is refused on 1 August 2025,
    and the page says which practice, which scope and that membership depends on the date."""
    page = pcn.get("/org/F82002?on=2025-08-01")
    assert page.status_code == 403
    text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert "(F82002) is outside your scope on 1 August 2025" in text, text
    assert "HAVERING SOUTH PCN (U00367)" in text
    assert "another date may differ" in text


def test_pack_headline_is_not_called_registered_patients(pack):
    """The organisation page gives Havering South's registered list (about 110,000); the
    pack counts the (synthetic) population data. The two figures must not share a label."""
    text = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", pack).split()))
    assert "Patients in the population data" in text
    assert "Registered patients 6" not in text and not re.search(r"Registered patients \d", text)
    assert "a synthetic sample, not the practices' registered lists" in text


def test_practices_with_no_list_are_named_in_the_summary(pcn):
    page = pcn.get("/org/U00367?on=2025-08-01")
    text = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page.text).split()))
    assert "No list held for BEAM PARK MEDICAL PRACTICE (Y08371)" in text, text[:3000]


# --- patient-level lists ---------------------------------------------------------------------


def _column(page_html: str, heading: str) -> list[str]:
    rows = tables_of(page_html)["patient-list"]
    at = next(i for i, h in enumerate(rows[0]) if h.startswith(heading))
    return [r[at] for r in rows[1:]]


def test_frailty_is_in_words_on_the_lists(pcn):
    page = pcn.get("/population/U00367/lists/smr")
    assert page.status_code == 200
    frailty = set(_column(page.text, "Frailty (approximate eFI)"))
    assert frailty <= {"Fit", "Mild frailty", "Moderate frailty", "Severe frailty", "–"}, frailty


def test_blood_pressure_is_whole_mmhg(pcn):
    page = pcn.get("/population/U00367/lists/cvd_hypertension")
    assert page.status_code == 200
    for heading in ("Latest systolic", "Latest diastolic"):
        values = _column(page.text, heading)
        assert values and all(re.fullmatch(r"\d+|–", v) for v in values), values[:5]


def test_a_payee_has_one_name_on_the_funding_page(funding_1920):
    """The ledger and the reconciliation name each payee the same way (its name on the page's
    date), so one practice is not called two things on one page."""
    tables = tables_of(funding_1920)

    def names(table: str, column: int) -> dict[str, str]:
        out = {}
        for row in tables[table][1:]:
            m = re.match(r"(.*) ([A-Z]\d{5})$", row[column].strip())
            if m:
                out[m.group(2)] = m.group(1)
        return out

    ledger, reconciliation = names("ledger-table", 1), names("reconciliation-table", 0)
    assert ledger and reconciliation
    differ = {
        k: (ledger[k], reconciliation[k])
        for k in ledger
        if reconciliation.get(k, ledger[k]) != ledger[k]
    }
    assert not differ, differ


def test_a_practice_pack_does_not_list_itself_as_its_practices(web_demo, app, pack):
    practice = web_demo.client("haiderian.practice", app)
    page = practice.get("/population/F82002")
    assert page.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert not re.search(r"Practices 1 in ", text), "a practice's pack lists '1 in <itself>'"
    # a PCN's pack still lists its practices
    assert re.search(
        r"Practices \d+ in HAVERING SOUTH PCN", " ".join(re.sub(r"<[^>]+>", " ", pack).split())
    )


def test_commissioner_home_does_not_promise_patient_lists(web_demo, app):
    icb = web_demo.client("nel.icb", app)
    text = " ".join(re.sub(r"<[^>]+>", " ", icb.get("/").text).split())
    assert "patient-level lists are for PCN and practice users" in text
    pcn_home = " ".join(
        re.sub(r"<[^>]+>", " ", web_demo.client("havering.south", app).get("/").text).split()
    )
    assert "rising risk and case-finding lists" in pcn_home


def test_practice_funding_names_every_pcn_it_was_paid_through_in_a_year(web_demo, app):
    """F82002 moved from Havering South to Havering Liberty PCN in August 2025: its 2025/26
    page says it was paid through both, with the months of each, not only the first."""
    practice = web_demo.client("haiderian.practice", app)
    page = practice.get("/funding/F82002?year=2025/26&on=2025-10-01")
    assert page.status_code == 200
    line = re.search(r'<p id="pcn-link">(.*?)</p>', page.text, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", line).split())
    assert "HAVERING SOUTH PCN U00367 in 2025/26: April 2025 to July 2025" in text, text
    assert "then of HAVERING LIBERTY PCN U24998, August 2025 to March 2026" in text, text
