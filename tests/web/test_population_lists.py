"""Issue 10 item 21 (HTTP half): patient-level lists sort server-side by any shown column and
filter by practice and by reason, the same on the page, its JSON twin and the CSV download;
paging keeps the choice; bad values are refused naming the valid ones."""

from __future__ import annotations

import csv
import io

import pytest
from html_tables import tables_of

from pcnkit.population import listview, segments
from pcnkit.population.engine import PopulationStore
from pcnkit.population.pack import practices_in
from pcnkit.population.stratify import cohort_for, list_for
from pcnkit.population.workspace import population_folder

PCN = "U00367"


@pytest.fixture(scope="module")
def pcn(web_demo):
    return web_demo.client("havering.south", web_demo.app())


def whole(web_demo, list_id: str) -> list[dict]:
    with web_demo.ws.sessions() as session:
        codes = practices_in(session, PCN, web_demo.as_of)
    with PopulationStore(population_folder(web_demo.folder)) as store:
        expr = (
            cohort_for(store, codes)
            if list_id == "rising_risk"
            else list_for(store, list_id, codes)
        )
        return expr.to_pyarrow().to_pylist()


def api(pcn, list_id: str, **params) -> dict:
    response = pcn.get(f"/api/population/{PCN}/lists/{list_id}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_sorting_by_age_descending_orders_the_whole_list(web_demo, pcn):
    rows = whole(web_demo, "smr")
    expected = sorted(rows, key=lambda r: -r["age"])  # stable: ties keep the library's order
    first = api(pcn, "smr", sort="age", order="desc")
    assert [r["pseudonym"] for r in first["rows"]] == [r["pseudonym"] for r in expected[:100]]
    second = api(pcn, "smr", sort="age", order="desc", page=2)
    assert [r["pseudonym"] for r in second["rows"]] == [r["pseudonym"] for r in expected[100:200]]
    assert first["view"] == {"practice": None, "reason": None, "sort": "age", "order": "desc"}
    assert "sort=age" in first["next"] and "order=desc" in first["next"]
    page = pcn.get(f"/population/{PCN}/lists/smr", params={"sort": "age", "order": "desc"})
    body = tables_of(page.text)["patient-list"][1:]
    assert [r[0] for r in body] == [r["pseudonym"] for r in expected[:100]]
    assert 'aria-sort="descending"' in page.text


def test_sorting_by_predicted_risk_ascending(web_demo, pcn):
    rows = whole(web_demo, "rising_risk")
    expected = sorted(rows, key=lambda r: r["predicted_risk"])
    data = api(pcn, "rising_risk", sort="predicted_risk", order="asc")
    assert [r["pseudonym"] for r in data["rows"]] == [r["pseudonym"] for r in expected[:100]]


def test_filter_by_practice(web_demo, pcn):
    rows = whole(web_demo, "smr")
    practice = rows[-1]["practice"]
    expected = [r for r in rows if r["practice"] == practice]
    data = api(pcn, "smr", practice=practice)
    assert data["total"] == len(expected) and data["whole_list"] == len(rows)
    assert {r["practice"] for r in data["rows"]} == {practice}
    download = pcn.get(f"/population/{PCN}/lists/smr.csv", params={"practice": practice})
    assert len(list(csv.DictReader(io.StringIO(download.text)))) == len(expected)


@pytest.mark.parametrize("list_id", ["smr", "rising_risk"])
def test_filter_by_reason(web_demo, pcn, list_id):
    rows = whole(web_demo, list_id)
    for reason in listview.reasons(list_id):
        if list_id == "rising_risk":
            expected = [r for r in rows if reason.label in r["rising_risk_reasons"].split("; ")]
        else:
            expected = [r for r in rows if reason.id in r["criteria_ids"].split(",")]
        data = api(pcn, list_id, reason=reason.id)
        assert data["total"] == len(expected), reason
        assert [r["pseudonym"] for r in data["rows"]] == [r["pseudonym"] for r in expected[:100]]


def test_filters_combine_with_sorting_and_show_on_the_page(web_demo, pcn):
    rows = whole(web_demo, "rising_risk")
    practice = rows[0]["practice"]
    rule = next(r for r in segments.ALL_RULES if r.id == "rr_recent_use")
    expected = sorted(
        (r for r in rows if r["practice"] == practice and rule.label in r["rising_risk_reasons"]),
        key=lambda r: -r["age"],
    )
    params = {"practice": practice, "reason": rule.id, "sort": "age", "order": "desc"}
    data = api(pcn, "rising_risk", **params)
    assert [r["pseudonym"] for r in data["rows"]] == [r["pseudonym"] for r in expected[:100]]
    page = pcn.get(f"/population/{PCN}/lists/rising_risk", params=params)
    assert f'<option value="{practice}" selected>' in page.text
    assert f'<option value="{rule.id}" selected>' in page.text
    assert "Show everyone" in page.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "nhs_number"}, "cannot be sorted by"),
        ({"sort": "age", "order": "sideways"}, "asc or desc"),
        ({"reason": "made_up"}, "is not a reason for this list"),
        ({"practice": "F99999"}, "Nobody on this list is registered at practice"),
    ],
)
def test_bad_choices_are_refused_clearly(pcn, params, message):
    response = pcn.get(f"/api/population/{PCN}/lists/smr", params=params)
    assert response.status_code == 400
    assert message in response.text
    page = pcn.get(f"/population/{PCN}/lists/smr", params=params)
    assert page.status_code == 400 and message in page.text


def test_columns_have_plain_headings(pcn):
    page = pcn.get(f"/population/{PCN}/lists/proactive_care").text
    header = tables_of(page)["patient-list"][0]
    assert "Frailty (approximate eFI)" in header
    assert not [h for h in header if "_" in h or h.lower().startswith("efi approx")]
