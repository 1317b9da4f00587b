"""Issue 10 item 22 (site-wide part): a help page explains in plain words every status letter,
tag and code the pages show and names the data sources by their public titles; it is linked from
the header, the footer and the keys of the funding, findings and tier tables; and the pages
outside the organisation, funding and population pages show no file names or internal ids."""

from __future__ import annotations

import re

import pytest

from pcnkit.funding.rules import STATUSES
from pcnkit.population.segments import TIER_LABELS
from pcnkit.registry.checks import OUTCOME_LABELS

FILE_OR_ID = re.compile(r"\b\w+\.(csv|xlsx|yaml|md)\b|\b[a-z]+_[a-z_]+\b|\[S\d+\]")


def visible(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture(scope="module")
def client(web_demo):
    return web_demo.client("nel.icb")


def test_help_explains_every_status_tag_and_code(client):
    page = client.get("/help")
    assert page.status_code == 200
    text = visible(page.text)
    for letter in STATUSES:
        assert re.search(rf'<dt class="nhsuk-summary-list__key">{letter}</dt>', page.text), letter
    for outcome in OUTCOME_LABELS.values():
        assert outcome in text
    for label in TIER_LABELS.values():
        assert label in text
    for words in (
        "Confirmed",
        "Not confirmed",
        "Cannot be calculated",
        "SYNTHETIC",
        "[REDACTED]",
        "Pseudonym",
    ):
        assert words in text
    for title in (
        "NHS Digital, Patients Registered at a GP Practice",
        "NHS Digital, NHS Payments to General Practice",
        "NHS Digital, Organisation Data Service (ODS)",
        "NHS Digital, Quality and Outcomes Framework (QOF)",
    ):
        assert title in text
    assert not FILE_OR_ID.findall(text), FILE_OR_ID.findall(text)


def test_help_is_open_before_sign_in(web_demo):
    page = web_demo.client().get("/help")
    assert page.status_code == 200 and "Funding statuses" in page.text
    assert "Sign out" not in page.text


@pytest.mark.parametrize(
    ("path", "anchor"),
    [
        ("/org/U00367", None),
        ("/funding/U00367", "#funding-statuses"),
        ("/org/U00367", "#findings"),
        ("/population/U00367", "#tiers"),
    ],
)
def test_help_is_linked_from_the_header_footer_and_keys(client, path, anchor):
    page = client.get(path).text
    links = re.findall(r'href="(/help[^"]*)"', page)
    assert any(link.startswith("/help?on=") for link in links), links  # header and footer
    if anchor:
        assert any(link.endswith(anchor) for link in links), (anchor, links)


@pytest.mark.parametrize("path", ["/", "/find?q=havering", "/help", "/no/such/page"])
def test_shared_pages_show_no_file_names_or_internal_ids(client, path):
    text = visible(client.get(path).text)
    assert not FILE_OR_ID.findall(text), FILE_OR_ID.findall(text)
    assert "(pcn," not in text and "(commissioner," not in text  # roles in words
