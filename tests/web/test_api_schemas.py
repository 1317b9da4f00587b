"""Every /api endpoint documents what it returns in /api/openapi.json (`pcnkit.web.schemas`),
and real answers match those models: a field added, dropped or retyped in a view fails here."""

import dataclasses
import datetime as dt
import json

import pytest
from pydantic import TypeAdapter

from pcnkit.web import schemas
from pcnkit.web.jsonout import answer


def _ok(operation: dict) -> dict:
    return operation["responses"]["200"]["content"]


def test_every_api_route_documents_its_response(web_demo):
    spec = web_demo.client("havering.south").get("/api/openapi.json").json()
    routes = {
        (path, method): op
        for path, methods in spec["paths"].items()
        if path.startswith("/api/")
        for method, op in methods.items()
    }
    assert len(routes) >= 7
    # the downloads outside /api say what they return too, not an empty JSON schema
    downloads = {p: m["get"] for p, m in spec["paths"].items() if "/download." in p}
    assert set(downloads) == {"/funding/{code}/download.csv", "/funding/{code}/download.xlsx"}
    assert list(_ok(downloads["/funding/{code}/download.csv"])) == ["text/csv"]
    assert list(_ok(downloads["/funding/{code}/download.xlsx"])) == [schemas.XLSX_MEDIA]
    for (path, method), op in routes.items():
        content = _ok(op)
        schema = next(iter(content.values()))["schema"]
        assert schema.get("$ref") or schema.get("anyOf") or schema.get("type"), (path, method)
        if path.endswith(".csv"):
            assert "text/csv" in content, path
        else:
            assert "application/json" in content and schema != {}, path
    models = spec["components"]["schemas"]
    assert {"OrgPage", "FundingPage", "FundingArea", "Pack", "NoPack", "ListPage"} <= set(models)
    funding = _ok(routes[("/api/funding/{code}", "get")])["application/json"]["schema"]
    assert {r["$ref"].rsplit("/", 1)[-1] for r in funding["anyOf"]} == {
        "FundingPage",
        "FundingArea",
    }
    # money is documented as decimal strings, never numbers
    assert models["Total"]["properties"]["amount"]["anyOf"][0]["type"] == "string"


CASES = [
    ("havering.south", "/api/me", schemas.Home),
    ("havering.south", "/api/find?q=havering", schemas.Search),
    ("havering.south", "/api/org/U00367", schemas.OrgPage),
    ("havering.south", "/api/org/F82002", schemas.OrgPage),
    ("nel.icb", "/api/org/PL-HAV", schemas.OrgPage),
    ("havering.south", "/api/funding/U00367", schemas.FundingPage),
    ("havering.south", "/api/funding/F82002", schemas.FundingPage),
    ("nel.icb", "/api/funding/PL-HAV", schemas.FundingArea),
    ("havering.south", "/api/population/U00367", schemas.Pack),
    ("havering.south", "/api/population/F82002/lists/smr", schemas.ListPage),
]


@pytest.mark.parametrize(("user", "url", "model"), CASES, ids=[c[1] for c in CASES])
def test_answers_match_their_documented_models(web_demo, user, url, model):
    answer = web_demo.client(user).get(url)
    assert answer.status_code == 200, answer.text[:200]
    model.model_validate(answer.json())


def test_the_models_refuse_an_answer_that_drifts(web_demo):
    body = web_demo.client("havering.south").get("/api/funding/U00367").json()
    adapter = TypeAdapter(schemas.FundingPage | schemas.FundingArea)
    assert isinstance(adapter.validate_python(body), schemas.FundingPage)
    with pytest.raises(ValueError):
        schemas.FundingPage.model_validate({**body, "surprise": 1})
    with pytest.raises(ValueError):
        schemas.FundingPage.model_validate({**body, "total": {"amount": 1.5}})


def test_sign_in_answer_matches_its_model(web_demo):
    client = web_demo.client()
    login = web_demo.logins["havering.south"]
    answer = client.post(
        "/api/login", json={"username": login.username, "password": login.password}
    )
    assert answer.status_code == 200
    schemas.SignedIn.model_validate(answer.json())


def _page_classes():
    from pcnkit.web.views import funding, orgs, population

    return [
        (orgs.HomePage, schemas.Home),
        (orgs.SearchPage, schemas.Search),
        (orgs.OrgPage, schemas.OrgPage),
        (funding.FundingPage, schemas.FundingPage),
        (funding.FundingAreaPage, schemas.FundingArea),
        (population.PackPage, schemas.Pack),
        (population.NoPackPage, schemas.NoPack),
        (population.NoPracticesPage, schemas.NoPack),
        (population.ListPage, schemas.ListPage),
    ]


@pytest.mark.parametrize(("page", "model"), _page_classes(), ids=lambda x: x.__name__)
def test_each_page_class_names_the_fields_its_api_model_documents(page, model):
    fields = {f.name for f in dataclasses.fields(page)}
    required = {name for name, f in model.model_fields.items() if f.is_required()}
    assert required <= fields <= set(model.model_fields)


def test_a_page_reads_as_a_mapping_of_its_fields():
    from pcnkit.web.views.orgs import SearchPage

    page = SearchPage(query="havering", results=[], as_of=dt.date(2020, 1, 1))
    assert dict(page) == {"query": "havering", "results": [], "as_of": dt.date(2020, 1, 1)}
    assert page["query"] == "havering" and page.get("missing") is None
    with pytest.raises(KeyError):
        page["missing"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.query = "other"  # shared between requests through the memo
    assert json.loads(answer(page).body) == {
        "query": "havering",
        "results": [],
        "as_of": "2020-01-01",
    }
