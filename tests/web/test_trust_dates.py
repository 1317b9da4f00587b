"""Issue 10 item 23 (HTTP level): a malformed or out-of-range date gives the normal page with an
inline error and the signed-in header (the API a 400 naming `on`); a date after the latest data
says so; the date box offers only the dates the registry has data for; unknown addresses get
the NHS-styled 404 (JSON only under /api/); and errors raised by the library never show a
command-line option on the web."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from pcnkit.errors import BadValue
from pcnkit.funding.rules import rules_for
from pcnkit.registry.checks import long_date
from pcnkit.registry.coverage import data_dates

USER = "nel.icb"
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]+")  # a command-line option, e.g. --year


@pytest.fixture(scope="module")
def client(web_demo):
    return web_demo.client(USER)


@pytest.fixture(scope="module")
def dates(web_demo):
    with web_demo.ws.sessions() as db:
        return data_dates(db)


def visible(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("bad", ["2020-13-01", "2020-02-30", "yesterday", "20200101x", "0"])
def test_a_malformed_date_shows_the_page_with_an_inline_error(client, web_demo, bad):
    page = client.get("/org/U00367", params={"on": bad})
    assert page.status_code == 200
    assert "nhsuk-error-summary" in page.text and 'href="#as-of"' in page.text
    assert "nhsuk-input--error" in page.text and 'aria-describedby="as-of-error"' in page.text
    text = visible(page.text)
    assert "Enter the date as a real date" in text
    assert f"Showing {long_date(web_demo.as_of)} instead" in text
    assert "Sign out" in page.text  # the signed-in header
    assert "HAVERING SOUTH PCN" in text  # the page itself, at the default date


def test_a_date_before_any_data_shows_the_page_with_an_inline_error(client, dates):
    page = client.get("/org/U00367", params={"on": "1900-01-01"})
    assert page.status_code == 200
    text = visible(page.text)
    assert f"pcnkit holds no data before {long_date(dates.earliest)}" in text
    assert "nhsuk-error-summary" in page.text and "Sign out" in page.text


def test_the_api_answers_400_naming_the_date(client):
    for on in ("2020-13-01", "1900-01-01"):
        answer = client.get("/api/org/U00367", params={"on": on})
        assert answer.status_code == 400
        assert answer.json()["detail"].startswith("on: ")


def test_the_date_box_offers_the_dates_with_data(client, dates):
    page = client.get("/org/U00367").text
    box = re.search(r'<input[^>]*id="as-of"[^>]*>', page).group(0)
    assert f'min="{dates.earliest.isoformat()}"' in box
    assert f'max="{dates.latest.isoformat()}"' in box


def test_a_date_after_the_latest_data_says_so(client, dates):
    after = client.get("/org/U00367", params={"on": "2099-01-01"})
    assert after.status_code == 200
    assert f"The latest data is dated {long_date(dates.latest)}" in visible(after.text)
    on_time = client.get("/org/U00367", params={"on": dates.latest.isoformat()})
    assert 'id="after-data"' not in on_time.text


def test_unknown_addresses_get_the_nhs_404_page_and_json_only_under_api(client, web_demo):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "nhsuk-header" in page.text and "Page not found" in page.text
    assert "Sign out" in page.text
    anonymous = web_demo.client().get("/no/such/page")  # signed out: still the styled page
    assert anonymous.status_code == 404 and "nhsuk-header" in anonymous.text
    api = client.get("/api/no/such/thing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "url",
    [
        "/funding/U00367?year=2030/31",
        "/funding/U00367?year=nonsense",
        "/funding/F82002?year=1999/00",
        "/population/U00367/lists/smr?page=0",
        "/funding/U00367/download.csv?part=nonsense",
    ],
)
def test_library_errors_are_worded_for_the_web_without_option_names(client, url):
    page = client.get(url)
    assert page.status_code in (400, 403, 404, 422), page.status_code
    text = visible(page.text)
    assert not OPTION.findall(text), OPTION.findall(text)
    assert "query." not in text  # FastAPI's parameter locations
    assert "Sign out" in page.text
    if "year" in url:
        assert "Contract year:" in text


def test_the_library_names_the_value_and_the_cli_words_it_as_its_option(web_demo):
    with pytest.raises(BadValue) as info:
        rules_for("2030/31")
    assert info.value.field == "year" and "no funding rules" in info.value.problem

    from pcnkit.cli import app

    result = CliRunner().invoke(
        app, ["funding", "entitlements", "--year", "2030/31", "-w", str(web_demo.folder)]
    )
    assert result.exit_code == 2
    assert "--year: there are no funding rules for 2030/31" in " ".join(result.output.split())
