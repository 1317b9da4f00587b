"""A PCN's funding page shows the local outcome schemes the workspace keeps
(funding/outcome-schemes/*.yaml), read-only, with the figures `pcnkit funding outcomes` gives;
a scheme that cannot be read is reported, naming the file and key, not a server error."""

from __future__ import annotations

import shutil
from html import unescape

import pytest

from pcnkit.demo import demo_data
from pcnkit.funding import outcomes

PCN = "U00367"  # Havering South
PRACTICE = "F82002"  # Haiderian Medical Centre, a member of U00367 on 1 January 2020
EXAMPLE = demo_data() / "funding" / "outcomes-barnet-model-2025-26.yaml"


@pytest.fixture(scope="module")
def demo(web_demo):
    """The web demo with the example scheme kept, for this module only."""
    folder = web_demo.folder / "funding" / outcomes.SCHEMES_FOLDER
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLE, folder / EXAMPLE.name)
    try:
        yield web_demo
    finally:
        shutil.rmtree(folder)


@pytest.fixture(scope="module")
def client(demo):
    return demo.client("havering.south")


def test_the_pcn_page_shows_each_practices_aspiration_payment(client):
    page = client.get(f"/funding/{PCN}")
    assert page.status_code == 200, page.text
    text = unescape(page.text)
    start = text.index('id="outcomes"')
    section = text[start : text.index('id="ledger"', start)]
    assert "Outcome payments on the Barnet model, 2025/26 (illustrative)" in section
    # Haiderian's 7,467 patients on 1 January 2026 at the example's £1
    assert "HAIDERIAN" in section.upper() and "7,467 x £1 = 7467.0000" in section
    # the collective payment's targets are after the page's date: not calculable, never £0
    assert "cannot be calculated: oc_patients_with_access has no value" in section
    assert "Some figures are not confirmed" in section


def test_the_json_twin_gives_the_same_lines(client, demo):
    data = client.get(f"/api/funding/{PCN}").json()
    (scheme,) = data["outcomes"]
    assert scheme["error"] is None and scheme["file"].endswith(EXAMPLE.name)
    haiderian = next(x for x in scheme["lines"] if x["practice_code"] == PRACTICE)
    assert haiderian["amount"] == "7467.00" and haiderian["confirmed"] is False
    collective = next(x for x in scheme["lines"] if x["payment"] == "collective")
    assert collective["amount"] is None and collective["reason"].startswith("cannot be calculated")
    assert scheme["total"]["complete"] is False
    with demo.ws.sessions() as session:
        found = outcomes.evaluate(session, outcomes.read_scheme(EXAMPLE), PCN, demo.as_of, None)
    assert scheme["total"]["amount"] == str(found.total.amount)


def test_a_scheme_that_cannot_be_read_is_reported(client, demo):
    path = demo.folder / "funding" / outcomes.SCHEMES_FOLDER / "broken.yaml"
    path.write_text(EXAMPLE.read_text().replace('rate: "2.00"', "rate: 2.5"))
    try:
        page = client.get(f"/funding/{PCN}")
        assert page.status_code == 200
        text = unescape(page.text)
        assert "This scheme could not be read" in text
        assert "funding/outcome-schemes/broken.yaml" in text
        assert "scheme.collective.rate" in text and str(demo.folder) not in text
    finally:
        path.unlink()


def test_a_practice_page_has_no_outcome_section(demo):
    page = demo.client("haiderian.practice").get(f"/funding/{PRACTICE}")
    assert page.status_code == 200 and 'id="outcomes"' not in page.text
