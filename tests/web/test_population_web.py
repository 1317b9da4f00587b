"""Population health pages and API: the pack (aggregates for anyone in scope) and the
patient-level lists (PCN and practice users only, every view and download audited)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from html_tables import tables_of
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from pcnkit.access import audit
from pcnkit.population import stratify
from pcnkit.population.engine import PopulationStore
from pcnkit.population.pack import pack_for_pcn, practices_in
from pcnkit.population.workspace import population_folder
from pcnkit.spreadsheet import neutralise
from pcnkit.store.models import AuditEvent
from pcnkit.web.views import population as views

LISTS = ("smr", "ehch", "proactive_care", "cvd_hypertension", "cancer_lgi_no_fit", "rising_risk")


def audit_events(demo) -> list[AuditEvent]:
    with demo.ws.sessions() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def audit_count(demo) -> int:
    with demo.ws.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


def library_list(demo, list_id: str, code: str) -> list[dict]:
    """The list exactly as the library gives it for the organisation's practices."""
    with demo.ws.sessions() as session:
        codes = practices_in(session, code, demo.as_of)
    with PopulationStore(population_folder(demo.folder)) as store:
        if list_id == "rising_risk":
            return stratify.cohort_for(store, codes).to_pyarrow().to_pylist()
        return stratify.list_for(store, list_id, codes).to_pyarrow().to_pylist()


@pytest.fixture(scope="module")
def app(web_demo):
    return web_demo.app()


@pytest.fixture(scope="module")
def pcn(web_demo, app):
    return web_demo.client("havering.south", app)


@pytest.fixture(scope="module")
def practice(web_demo, app):
    return web_demo.client("haiderian.practice", app)


@pytest.fixture(scope="module")
def icb(web_demo, app):
    return web_demo.client("nel.icb", app)


@pytest.fixture(scope="module")
def smr(web_demo):
    return library_list(web_demo, "smr", "U00367")


# --- patient-level lists --------------------------------------------------------------------


def test_pcn_user_sees_the_smr_list_with_the_librarys_reasons(web_demo, pcn, smr):
    assert len(smr) > 100, "the fixture should give a list longer than a page"
    page = pcn.get("/population/U00367/lists/smr")
    assert page.status_code == 200
    rows = tables_of(page.text)["patient-list"]
    header, body = rows[0], rows[1:]
    assert header[:2] == ["Pseudonym", "Practice"]
    why = header.index("Why (criteria met)")
    assert len(body) == 100
    expected = [(r["pseudonym"], r["practice"], r["criteria_met"]) for r in smr[:100]]
    assert [(r[0], r[1], r[why]) for r in body] == expected
    with web_demo.ws.sessions() as session:
        members = set(practices_in(session, "U00367", web_demo.as_of))
    assert {r[1] for r in body} <= members
    assert f'id="list-total">{len(smr):,}</strong>' in page.text


def test_the_second_page_and_the_api_give_the_next_rows(pcn, smr):
    page = pcn.get("/population/U00367/lists/smr", params={"page": 2})
    assert page.status_code == 200
    body = tables_of(page.text)["patient-list"][1:]
    assert [r[0] for r in body] == [r["pseudonym"] for r in smr[100:200]]
    api = pcn.get("/api/population/U00367/lists/smr", params={"page": 2}).json()
    assert api["total"] == len(smr) and api["page"] == 2 and api["page_size"] == 100
    assert [(r["pseudonym"], r["criteria_met"]) for r in api["rows"]] == [
        (r["pseudonym"], r["criteria_met"]) for r in smr[100:200]
    ]
    past = pcn.get("/population/U00367/lists/smr", params={"page": 10_000})
    assert past.status_code == 404


def test_rising_risk_cohort_rows_carry_the_tier_rule_and_reasons(web_demo, pcn):
    cohort = library_list(web_demo, "rising_risk", "U00367")
    assert cohort
    api = pcn.get("/api/population/U00367/lists/rising_risk").json()
    assert api["total"] == len(cohort)
    assert [(r["pseudonym"], r["tier_rule"], r["rising_risk_reasons"]) for r in api["rows"]] == [
        (r["pseudonym"], r["tier_rule"], r["rising_risk_reasons"]) for r in cohort[:100]
    ]
    page = pcn.get("/population/U00367/lists/rising_risk")
    body = tables_of(page.text)["patient-list"][1:]
    assert [r[0] for r in body] == [r["pseudonym"] for r in cohort[:100]]


def test_csv_is_the_whole_library_list(web_demo, pcn, smr):
    response = pcn.get("/population/U00367/lists/smr.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    # UTF-8 with a byte-order mark (Excel), text neutralised as every download is
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == len(smr)

    def text(v):
        return "" if v is None else neutralise(str(v))

    assert rows == [{k: text(v) for k, v in r.items()} for r in smr]


def test_every_view_and_download_is_audited_once_naming_list_and_org(web_demo, pcn, smr):
    for url, action in (
        ("/population/U00367/lists/smr", audit.VIEW_LIST),
        ("/api/population/U00367/lists/smr", audit.VIEW_LIST),
        ("/population/U00367/lists/smr.csv", audit.DOWNLOAD_LIST),
        ("/api/population/U00367/lists/smr.csv", audit.DOWNLOAD_LIST),
    ):
        before = audit_count(web_demo)
        assert pcn.get(url).status_code == 200
        events = audit_events(web_demo)
        assert len(events) == before + 1, url
        event = events[-1]
        assert event.username == "havering.south"
        assert event.action == action
        assert "smr" in event.subject and "U00367" in event.subject
        assert str(len(smr)) in event.detail
        pseudonyms = {r["pseudonym"] for r in smr}
        assert not any(p in event.subject or p in event.detail for p in pseudonyms)


def test_aggregate_pages_are_not_audited_and_refusals_are_audited_as_refusals(web_demo, pcn, icb):
    before = audit_count(web_demo)
    assert pcn.get("/population/U00367").status_code == 200
    assert pcn.get("/population/U00367/lists/nope").status_code == 404
    assert audit_count(web_demo) == before
    assert icb.get("/population/U00367/lists/smr").status_code == 403
    assert audit_count(web_demo) == before + 1
    assert audit_events(web_demo)[-1].action == audit.LIST_REFUSED


def test_the_audit_table_refuses_update_and_delete(web_demo, pcn):
    assert pcn.get("/population/U00367/lists/ehch").status_code == 200
    with pytest.raises(SQLAlchemyError), web_demo.ws.transaction() as session:
        session.execute(update(AuditEvent).values(username="someone else"))
    with pytest.raises(SQLAlchemyError), web_demo.ws.transaction() as session:
        session.execute(delete(AuditEvent))
    assert any(e.subject == "list ehch for U00367" for e in audit_events(web_demo))


@pytest.mark.parametrize(
    "url",
    [
        "/population/F82006/lists/smr",
        "/population/U00367/lists/smr",
        "/population/U00367/lists/smr.csv",
        "/api/population/U00367/lists/smr",
        "/api/population/F82006/lists/smr",
        "/population/F82006/lists/rising_risk.csv",
        "/api/population/F82006/lists/smr.csv",
    ],
)
def test_practice_user_cannot_open_other_lists(web_demo, practice, url):
    before = audit_count(web_demo)
    assert practice.get(url).status_code == 403
    assert audit_count(web_demo) == before + 1  # the refusal, audited as one (issue 10, 6i)
    assert audit_events(web_demo)[-1].action == audit.LIST_REFUSED


def test_practice_user_sees_their_own_list(web_demo, practice):
    expected = library_list(web_demo, "smr", "F82002")
    page = practice.get("/population/F82002/lists/smr")
    assert page.status_code == 200
    body = tables_of(page.text)["patient-list"][1:]
    assert [r[0] for r in body] == [r["pseudonym"] for r in expected[:100]]
    assert {r[1] for r in body} == {"F82002"}
    assert practice.get("/population/F82002/lists/smr.csv").status_code == 200
    assert practice.get("/api/population/F82002/lists/rising_risk").status_code == 200


@pytest.mark.parametrize("list_id", LISTS)
def test_commissioner_gets_403_on_every_list(icb, list_id):
    for url in (
        f"/population/U00367/lists/{list_id}",
        f"/population/F82002/lists/{list_id}",
        f"/population/U00367/lists/{list_id}.csv",
        f"/api/population/U00367/lists/{list_id}",
    ):
        assert icb.get(url).status_code == 403, url


def test_commissioner_sees_aggregates_without_list_links(icb):
    for code in ("QMF", "U00367"):
        page = icb.get(f"/population/{code}")
        assert page.status_code == 200, code
        assert "/lists/" not in page.text
        assert "only the PCN or practice" in page.text
        assert icb.get(f"/api/population/{code}").status_code == 200


def test_pcn_page_links_to_every_list(pcn):
    page = pcn.get("/population/U00367")
    for list_id in LISTS:
        assert f"/population/U00367/lists/{list_id}?on=2020-01-01" in page.text
        assert f"/population/U00367/lists/{list_id}.csv?on=2020-01-01" in page.text


def test_unknown_list_is_404_naming_the_valid_lists(pcn):
    for url in ("/population/U00367/lists/nope", "/api/population/U00367/lists/nope"):
        response = pcn.get(url)
        assert response.status_code == 404
        for list_id in LISTS:
            assert list_id in response.text
    assert pcn.get("/population/U00367/lists/nope.csv").status_code == 404


# --- the pack -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack(web_demo):
    with (
        PopulationStore(population_folder(web_demo.folder)) as store,
        web_demo.ws.sessions() as session,
    ):
        return pack_for_pcn(session, store, "U00367", web_demo.as_of).to_dict()


def _cell(value) -> str:
    if value is None:
        return "–"
    text = str(value)
    return f"{int(text):,}" if text.isdigit() else text


def test_chart_tables_show_the_packs_numbers(pcn, pack):
    page = pcn.get("/population/U00367")
    assert page.status_code == 200
    tables = tables_of(page.text)
    assert pack["tables"], "the pack should have tables"
    redacted = 0
    for name, table in pack["tables"].items():
        chart_id = "chart-" + name.replace("_", "-")
        shown = tables[f"table-{chart_id}"][1:]
        # codes are shown by their names (issue 10 item 22), id columns are left out
        named = views._shown_rows(name, table["rows"])
        keys = [k for k in named[0] if k not in views.HIDDEN.get(name, ())]
        totals = {k: "Total" if v == "total" else v for k, v in table["totals"].items()}
        if totals and "Total" not in [totals.get(k) for k in keys]:
            # the total's label sits in a hidden code column: the first text column says it
            totals[next(k for k in keys if k in views.TEXT_COLUMNS)] = "Total"
        expected_rows = named + ([totals] if totals else [])
        expected = [[_cell(row.get(k, "")) for k in keys] for row in expected_rows]
        assert shown == expected, name
        redacted += sum(row.count("[REDACTED]") for row in shown)
        svg = re.search(rf'<svg class="pcnkit-chart" id="{chart_id}"[^>]*>.*?</svg>', page.text)
        assert svg, name
        assert 'role="img"' in svg.group(0)
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg.group(0)
        assert f'<title id="{chart_id}-title">' in svg.group(0)
        assert "style=" not in svg.group(0)
    assert redacted, "some small cells should be suppressed and shown as the marker"
    assert f'id="pack-patients">{_cell(pack["patients"])}<' in page.text


def test_pack_page_states_synthetic_data_and_the_unconfirmed_quota(pcn):
    page = pcn.get("/population/U00367").text
    assert "SYNTHETIC" in page
    assert "UNCONFIRMED" in page
    assert "not a published national figure" in page
    assert "Definitions and sources" in page
    assert "style=" not in re.sub(r"<script.*?</script>", "", page, flags=re.S)


def test_pack_api_is_the_library_pack(pcn, pack):
    data = pcn.get("/api/population/U00367").json()
    assert data["available"] and data["synthetic"]
    assert data["patients"] == pack["patients"]
    for table in data["tables"]:
        assert "svg" not in table
        assert table["rows"] == pack["tables"][table["name"]]["rows"]
    assert data["definitions"]["rising_risk"]["confirmed"] is False
    assert "UNCONFIRMED" in data["definitions"]["rising_risk"]["quota_source"]


def test_no_pseudonym_appears_on_the_aggregate_page_or_json(web_demo, pcn):
    with PopulationStore(population_folder(web_demo.folder)) as store:
        table = stratify.stratified(store)
        pseudonyms = table.select("pseudonym").to_pyarrow().column(0).to_pylist()
    assert len(pseudonyms) > 1000
    for url in ("/population/U00367", "/api/population/U00367", "/population/F82002"):
        text = pcn.get(url).text
        assert not [p for p in pseudonyms if p in text], url


def test_no_population_gives_a_page_saying_what_to_run(web_demo, tmp_path):
    app = web_demo.app()
    app.state.web.population = tmp_path / "no-population"
    client = web_demo.client("havering.south", app)
    page = client.get("/population/U00367")
    assert page.status_code == 200
    assert "pcnkit population generate" in page.text
    assert "pcnkit population stratify" in page.text
    data = client.get("/api/population/U00367").json()
    assert data["available"] is False
    assert client.get("/population/U00367/lists/smr").status_code == 404


def test_out_of_scope_pack_is_403(practice):
    assert practice.get("/population/F82002").status_code == 200
    assert practice.get("/population/U00367").status_code == 403
    assert practice.get("/api/population/F82006").status_code == 403


def test_a_changed_population_is_not_served_from_the_pack_cache(web_demo, pcn):
    import os

    def packs() -> int:
        return sum(1 for key in pcn.app.state.web.memo._items if key[0] == "pack")

    first = pcn.get("/api/population/U00367").json()
    before = packs()
    summary = population_folder(web_demo.folder) / stratify.RESULTS / "summary.json"
    stat = summary.stat()
    os.utime(summary, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = pcn.get("/api/population/U00367").json()
    assert packs() == before + 1
    assert again["tables"] == first["tables"]
