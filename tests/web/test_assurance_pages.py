"""The assurance pages over a BHR demo workspace holding hand-made cloud telephony figures for
Havering's practices over 14 months (July 2019 to August 2020) and England's printed rows.

The shared `web_demo` holds no assurance observations, and adding some to it would change what
every other web test sees, so this module builds its own demo registry (no population: these
pages do not read it) and stores the figures through `assurance.store.store_batches`."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from pcnkit.assurance import definitions, summary
from pcnkit.assurance.observations import ENGLAND, ObservationBatch, ObservationRecord
from pcnkit.assurance.store import store_batches
from pcnkit.assurance.values import Assurance
from pcnkit.dates import Period, month_end
from pcnkit.registry.queries import Hierarchy
from pcnkit.web import schemas

AS_OF = dt.date(2020, 9, 30)
MONTHS = [dt.date(2019 + (6 + i) // 12, (6 + i) % 12 + 1, 1) for i in range(14)]
PCN, PRACTICE, OTHER_PRACTICE, PLACE = "U00367", "F82002", "F82006", "PL-HAV"
SILENT = "F82674"  # a member practice that supplies no telephony figures
INDICATOR = "telephony_answered"
NO_DATA = "oc_clinical_per_1000"  # nothing loaded for it
MARKUP_NAME = '=HYPERLINK("http://evil")<script>alert(1)</script>'


def _batch(practices: list[str]) -> ObservationBatch:
    """Inbound and answered calls per practice per month: most practices steady around 70-75%
    answered with a little noise, F82002 improving by a point a month, F82006 falling by 25
    points from February 2020 (a special cause of concern), F82674 absent; England 72%."""
    batch = ObservationBatch(
        "cloud-telephony-test.csv",
        "cloud-telephony",
        "cloud-telephony",
        "Hand-made cloud telephony figures",
        hashlib.sha256(b"assurance-web-test").hexdigest(),
        MONTHS[-1],
        "NHS England",
    )
    row = 1
    for m, month in enumerate(MONTHS):
        period = Period(month, month_end(month))
        for i, code in enumerate(practices):
            if code == SILENT:
                continue
            inbound = 1000 + 10 * i
            wobble = ((7 * i + 13 * m) % 11 - 5) * 0.002  # month-to-month noise, repeatable
            rate = 0.70 + 0.005 * (i % 10) + wobble + (0.01 * m if code == PRACTICE else 0)
            if code == OTHER_PRACTICE and m >= 7:
                rate -= 0.25
            for measure, value in (("inbound", inbound), ("answered", round(inbound * rate))):
                row += 1
                batch.add(
                    ObservationRecord(code, "practice", measure, period, Decimal(value), row=row)
                )
        for measure, value in (("inbound", 5_000_000), ("answered", 3_600_000)):
            row += 1
            batch.add(
                ObservationRecord(ENGLAND, "nation", measure, period, Decimal(value), row=row)
            )
    batch.rows = row
    return batch


class AssuranceDemo:
    """The BHR demo registry and users, with the telephony figures above."""

    def __init__(self, folder) -> None:
        from pcnkit.demo import build_demo, demo_users

        self.ws = build_demo(folder)
        with self.ws.transaction() as session:
            self.logins = {x.username: x for x in demo_users(session, folder)}
            h = Hierarchy.at(session, dt.date(2019, 7, 31))
            place = h.parent(h.by_code[PCN], "place")
            self.practices = sorted(
                p.code for pcn in h.members(place, "pcn") for p in h.members(pcn, "practice")
            )
            store_batches(session, [_batch(self.practices)])

    def app(self):
        from pcnkit.web.app import create_app

        return create_app(self.ws, default_as_of=AS_OF)

    def client(self, username: str | None = None, app=None):
        from fastapi.testclient import TestClient

        client = TestClient(app or self.app())
        if username is not None:
            page = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            response = client.post(
                "/login",
                data={
                    "username": username,
                    "password": self.logins[username].password,
                    "csrf_token": token,
                    "next": "/",
                },
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text
        return client

    def library(self, org: str, indicator_id: str = INDICATOR):
        """What pcnkit.assurance.summary says, straight from the library."""
        with self.ws.sessions() as session:
            a = Assurance.load(session)
            h = Hierarchy.at(session, AS_OF)
            i = definitions.get(indicator_id)
            return summary.detail(a, h, i, org, AS_OF)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = AssuranceDemo(tmp_path_factory.mktemp("assurance-web") / "demo")
    yield d
    d.ws.dispose()


@pytest.fixture(scope="module")
def place_user(demo):
    return demo.client("havering.place")


@pytest.fixture(scope="module")
def pcn_user(demo):
    return demo.client("havering.south")


@pytest.fixture(scope="module")
def practice_user(demo):
    return demo.client("haiderian.practice")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _tile(page: dict, indicator_id: str) -> dict:
    for group in page["topics"]:
        for t in group["tiles"]:
            if t["indicator"]["id"] == indicator_id:
                return t
    raise AssertionError(f"no tile for {indicator_id}")


# --- the organisation's page ---------------------------------------------------------------


def test_the_page_shows_each_tiles_value_period_coverage_and_rank(demo, pcn_user):
    page = pcn_user.get(f"/assurance/{PCN}")
    assert page.status_code == 200, page.text[:300]
    tile = re.search(r'id="tile-telephony_answered".*?</div>\s*</div>', page.text, re.S)
    text = _text(tile.group(0))
    lib = demo.library(PCN).tile
    # calls answered of 17,800 inbound in August 2020 (15 of the 16 members report)
    assert lib.figure.denominator == 17800 and lib.figure.start == dt.date(2020, 8, 1)
    assert f"{lib.figure.value:.1f}%" in text and "August 2020" in text
    assert "15 of 16 member practices counted" in text
    assert f"{lib.peer_rank.rank}th of {lib.peer_count} PCNs in" in text
    assert "Significantly worse than England (72.0%)" in text
    assert "Special cause variation — concerning (higher is better)" in text
    # the trend has an accessible name and a text summary
    assert '<title id="spark-telephony_answered-title">Trend of Calls answered</title>' in (
        page.text
    )
    assert "Trend over 14 periods: from" in text


def test_a_tile_without_a_value_says_why_never_zero(pcn_user):
    page = pcn_user.get(f"/assurance/{PCN}")
    tile = re.search(rf'<li id="tile-{NO_DATA}">.*?</li>', page.text, re.S)
    text = _text(tile.group(0))
    assert text == (
        "Online clinical requests per 1,000 a month : no value , no figures on or before this "
        "date in this workspace."
    )
    assert f'href="/assurance/{PCN}/{NO_DATA}?on={AS_OF.isoformat()}"' in tile.group(0)
    assert not re.search(r"\b0(\.0)?\b", text)
    body = pcn_user.get(f"/api/assurance/{PCN}").json()
    t = _tile(body, NO_DATA)
    assert t["value"] is None and t["reason"] == (
        "no figures on or before this date in this workspace"
    )


def test_needs_attention_lists_the_library_tiles_and_links_to_them(demo, pcn_user):
    page = pcn_user.get(f"/assurance/{PCN}")
    panel = re.search(r'id="needs-attention".*?</ul>', page.text, re.S).group(0)
    assert f'href="/assurance/{PCN}/{INDICATOR}?on={AS_OF.isoformat()}"' in panel
    assert "Significantly worse than England" in panel
    body = pcn_user.get(f"/api/assurance/{PCN}").json()
    lib = demo.library(PCN).tile
    assert body["attention"][0]["id"] == INDICATOR
    assert body["attention"][0]["reasons"] == lib.attention


def test_the_key_explains_every_icon(pcn_user):
    text = _text(pcn_user.get(f"/assurance/{PCN}").text)
    from pcnkit.assurance import spc

    for icon in [*spc.VARIATION_ICONS.values(), *spc.ASSURANCE_ICONS.values()]:
        assert icon.label in text and icon.description in text


def test_the_json_twin_equals_the_librarys_figures(demo, pcn_user):
    body = pcn_user.get(f"/api/assurance/{PCN}").json()
    schemas.AssurancePage.model_validate(body)
    t = _tile(body, INDICATOR)
    lib = demo.library(PCN).tile
    assert t["value"] == pytest.approx(lib.figure.value)
    assert t["latest"]["numerator"] == lib.figure.numerator
    assert t["latest"]["denominator"] == lib.figure.denominator
    assert t["latest"]["start"] == lib.figure.start.isoformat()
    assert t["england"]["value"] == pytest.approx(lib.england.value)
    assert t["versus_england"]["result"] == lib.versus_england.result
    assert t["variation"]["code"] == lib.chart.variation.code
    assert t["peer"]["rank"] == lib.peer_rank.rank and t["peer"]["count"] == lib.peer_count
    counted = "15 of 16 member practices counted"
    assert t["coverage"] == {"units": 15, "members": 16, "text": counted}
    assert "svg" not in t  # drawings are left out of the JSON


def test_the_indicator_json_equals_the_librarys_detail(demo, place_user):
    body = place_user.get(f"/api/assurance/{PCN}/{INDICATOR}").json()
    schemas.IndicatorPage.model_validate(body)
    lib = demo.library(PCN)
    assert [r["value"] for r in body["series"]] == pytest.approx([f.value for f in lib.tile.series])
    assert [m["code"] for m in body["members"]] == [m.figure.org for m in lib.members]
    # the member pulling the value down most comes first: F82006's fall
    assert body["members"][0]["code"] == OTHER_PRACTICE
    assert body["members"][0]["pull"] == pytest.approx(lib.members[0].pull)
    assert [p["code"] for p in body["peers"]] == [p.figure.org for p in lib.peers]
    assert body["peers_hidden"] == 0
    assert body["funnel"]["benchmark"] == pytest.approx(72.0)


# --- scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/assurance/{OTHER_PRACTICE}",
        f"/assurance/{OTHER_PRACTICE}/{INDICATOR}",
        f"/api/assurance/{OTHER_PRACTICE}",
        f"/api/assurance/{OTHER_PRACTICE}/{INDICATOR}",
        f"/assurance/{OTHER_PRACTICE}/{INDICATOR}/download.csv?part=series",
        f"/assurance/{OTHER_PRACTICE}/{INDICATOR}/download.xlsx",
        f"/api/assurance/{PCN}",
    ],
)
def test_a_practice_user_cannot_open_another_organisations_assurance(practice_user, path):
    answer = practice_user.get(path)
    assert answer.status_code == 403, (path, answer.status_code)
    assert "17800" not in answer.text and "17,800" not in answer.text


def test_the_api_never_gives_figures_of_another_scope(demo, practice_user, pcn_user):
    own = practice_user.get(f"/api/assurance/{PRACTICE}/{INDICATOR}").json()
    # the practice's peers are the other practices of its PCN: ranked, never shown
    assert [p["code"] for p in own["peers"]] == [PRACTICE]
    assert own["peers_hidden"] == len(demo.library(PRACTICE).peers) - 1 > 0
    assert own["members"] == []
    text = practice_user.get(f"/api/assurance/{PRACTICE}/{INDICATOR}").text
    for code in demo.practices:
        if code != PRACTICE:
            assert code not in text
    pcn = pcn_user.get(f"/api/assurance/{PCN}/{INDICATOR}").json()
    assert [p["code"] for p in pcn["peers"]] == [PCN] and pcn["peers_hidden"] == 3
    page = pcn_user.get(f"/assurance/{PCN}/{INDICATOR}")
    assert "3 peers are ranked but not shown" in _text(page.text)


def test_an_unknown_indicator_is_not_found(pcn_user):
    answer = pcn_user.get(f"/api/assurance/{PCN}/no_such_indicator")
    assert answer.status_code == 404
    assert "telephony_answered" in answer.json()["detail"]  # the known ones are listed
    long = "x" * 5000
    answer = pcn_user.get(f"/assurance/{PCN}/{long}")
    assert answer.status_code == 404
    assert "No indicator has that name: choose one from the assurance page." in answer.text


def test_concurrent_first_requests_load_the_figures_once(demo, monkeypatch):
    """Twenty requests arriving together at a fresh server read the observations once."""
    from concurrent.futures import ThreadPoolExecutor

    from pcnkit.web.views import assurance as views

    loads = []
    real = views.SharedAssurance.load.__func__

    def counted(cls, session, indicators=None, snapshot=None):
        loads.append(1)
        return real(cls, session, indicators, snapshot)

    monkeypatch.setattr(views.SharedAssurance, "load", classmethod(counted))
    app = demo.app()
    clients = [demo.client(u, app=app) for u in ("havering.place", "havering.south") * 10]
    paths = [f"/api/assurance/{PCN}", f"/api/assurance/{PCN}/{INDICATOR}"]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda k: clients[k].get(paths[k % 2]), range(20)))
    assert [a.status_code for a in answers] == [200] * 20
    assert len(loads) == 1
    values = {a.json()["tile"]["value"] for a in answers[1::2]}
    assert len(values) == 1  # every answer the same figure


# --- the indicator page ------------------------------------------------------------------------


def test_the_indicator_page_shows_chart_table_members_definition_and_provenance(pcn_user):
    page = pcn_user.get(f"/assurance/{PCN}/{INDICATOR}")
    assert page.status_code == 200, page.text[:300]
    html = page.text
    assert 'id="spc-telephony_answered"' in html and 'role="img"' in html
    series = re.search(r'id="series-table".*?</table>', html, re.S).group(0)
    assert _text(series).count("2020") >= 8 and "July 2019" in _text(series)
    # F82006's fall from February 2020 shifts the PCN's value: signals of concern, in words
    assert "A run of 7 points on one side of the mean (concern)" in _text(series)
    assert "A point outside the process limits (concern)" in _text(series)
    members = _text(re.search(r'id="members-table".*?</table>', html, re.S).group(0))
    assert members.index("CRANHAM VILLAGE SURGERY") < members.index("DR C TRAN")
    assert "pulls it down" in members
    text = _text(html)
    assert "NO INDEPENDENT REVIEW RECORDED" in text
    assert "The share of inbound calls to the practice that were answered." in text
    assert "Calls answered" in text and "Inbound calls" in text
    assert "NHS England, Cloud Based Telephony data in General Practice" in text
    prov = _text(re.search(r'id="provenance-list".*?</ul>', html, re.S).group(0))
    assert "definition version telephony_answered v1" in prov and "England:" in prov


def test_trial_limits_are_noted_with_fewer_than_12_points(pcn_user):
    page = pcn_user.get(f"/assurance/{PCN}/{INDICATOR}?on=2020-03-31")
    assert page.status_code == 200
    assert 'id="trial-note"' in page.text and "fewer than 12 points" in page.text
    full = pcn_user.get(f"/assurance/{PCN}/{INDICATOR}")
    assert 'id="trial-note"' not in full.text


def test_a_markup_looking_name_is_escaped_on_the_pages_and_downloads(demo, tmp_path):
    from pcnkit.store.models import Organisation, OrganisationName, SourceFile

    with demo.ws.transaction() as session:
        org = session.scalars(select(Organisation).where(Organisation.code == OTHER_PRACTICE)).one()
        source = session.scalars(select(SourceFile.id)).first()
        session.add(
            OrganisationName(org_id=org.id, name=MARKUP_NAME, observed_at=AS_OF, source_id=source)
        )
    try:
        client = demo.client("havering.place")
        page = client.get(f"/assurance/{PCN}/{INDICATOR}")
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        download = client.get(f"/assurance/{PCN}/{INDICATOR}/download.csv?part=members")
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        names = [r[1] for r in rows[1:]]
        assert "'" + MARKUP_NAME in names
        assert not any(n.startswith(("=", "+", "-", "@")) for n in names)
        from openpyxl import load_workbook

        xlsx = client.get(f"/assurance/{PCN}/{INDICATOR}/download.xlsx")
        book = load_workbook(io.BytesIO(xlsx.content))
        cells = [c.value for row in book["members"].iter_rows() for c in row]
        assert "'" + MARKUP_NAME in cells
        assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    finally:
        with demo.ws.transaction() as session:
            session.query(OrganisationName).filter(OrganisationName.name == MARKUP_NAME).delete()


def test_downloads_hold_the_series_and_members(demo, pcn_user):
    answer = pcn_user.get(f"/assurance/{PCN}/{INDICATOR}/download.csv?part=series")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    lib = demo.library(PCN).tile
    assert len(rows) == len(lib.series) == 14
    assert float(rows[-1]["numerator"]) == lib.figure.numerator
    assert float(rows[-1]["denominator"]) == 17800
    # the library's records: the CLI writes the same columns
    assert list(rows[0]) == summary.SERIES_COLUMNS
    assert rows[-1]["signal"] == "A point outside the process limits (concern)"
    assert rows[-1]["period"] == "August 2020"
    bad = pcn_user.get(f"/assurance/{PCN}/{INDICATOR}/download.csv?part=nothing")
    assert bad.status_code == 404


# --- links and the home page -------------------------------------------------------------------


def test_the_organisation_page_links_to_assurance(pcn_user):
    page = pcn_user.get(f"/org/{PCN}")
    assert f'href="/assurance/{PCN}?on={AS_OF.isoformat()}"' in page.text


def test_every_home_leads_with_what_needs_attention_in_its_own_organisation(place_user, pcn_user):
    home = place_user.get("/")
    panel = re.search(r'id="home-attention".*?</div>\s*</div>', home.text, re.S)
    assert panel, "no needs-attention panel on the commissioner's home"
    assert f'href="/assurance/{PLACE}?on={AS_OF.isoformat()}"' in panel.group(0)
    mine = re.search(r'id="home-attention".*?</div>\s*</div>', pcn_user.get("/").text, re.S)
    assert mine, "no needs-attention panel on the PCN user's home"
    assert f'href="/assurance/{PCN}?on={AS_OF.isoformat()}"' in mine.group(0)
    assert f"/assurance/{PLACE}" not in mine.group(0)


def test_the_cached_assurance_is_reloaded_when_new_figures_are_stored(demo):
    app = demo.app()
    client = demo.client("havering.south", app=app)
    client.get(f"/api/assurance/{PCN}")
    first = app.state.assurance
    client.get(f"/api/assurance/{PCN}/{INDICATOR}")
    assert app.state.assurance is first  # one load serves every request
    batch = ObservationBatch(
        "more.csv", "x", "cloud-telephony", "more", "f" * 64, MONTHS[-1], "NHS England"
    )
    with demo.ws.transaction() as session:
        store_batches(session, [batch])
    client.get(f"/api/assurance/{PCN}")
    assert app.state.assurance is not first


# --- in a real browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(demo):
    from browser_support import LiveServer

    server = LiveServer(demo.app()).start()
    yield server
    server.stop()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_both_pages_in_chromium_screenshots_and_accessibility(demo, live, browser, width):
    from browser_support import axe_violations, blocking, describe, screenshot, sign_in_api

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        login = demo.logins["havering.place"]
        sign_in_api(page, live.url, login.username, login.password)
        for name, path in (
            ("assurance-pcn", f"/assurance/{PCN}"),
            ("assurance-indicator", f"/assurance/{PCN}/{INDICATOR}"),
        ):
            response = page.goto(f"{live.url}{path}")
            page.wait_for_load_state("load")
            screenshot(page, f"{name}-{width}")
            assert response.status == 200, f"{path} answered {response.status}"
            # the drawing shown at this width is the one drawn for it (wide or narrow)
            charts = page.locator("svg.pcnkit-chart:visible")
            if name == "assurance-indicator":
                assert charts.count() == 2  # the SPC chart and the funnel plot
                narrow = "pcnkit-chart--narrow" in (charts.first.get_attribute("class") or "")
                assert narrow == (width < 769)  # pcnkit.css: narrow below 48.0525em
            found = blocking(axe_violations(page))
            assert not found, f"axe-core on {path} at {width}px:\n{describe(found)}"
        # the tile links to its indicator page
        page.goto(f"{live.url}/assurance/{PCN}")
        page.click(f"#tile-{INDICATOR} a")
        page.wait_for_load_state("load")
        assert page.url.split("?")[0].endswith(f"/assurance/{PCN}/{INDICATOR}")
    finally:
        context.close()


def test_a_workspace_without_assurance_figures_says_why_on_every_tile(web_demo):
    """The shared web demo holds registered lists but no assurance observations."""
    client = web_demo.client("havering.south")
    body = client.get(f"/api/assurance/{PCN}").json()
    tiles = [t for g in body["topics"] for t in g["tiles"]]
    assert len(tiles) == len(definitions.load_all())
    for t in tiles:
        assert (t["value"] is None) == (t["reason"] is not None), t["indicator"]["id"]
    assert _tile(body, INDICATOR)["reason"] == (
        "no figures on or before this date in this workspace"
    )
    page = client.get(f"/assurance/{PCN}/{INDICATOR}")
    assert page.status_code == 200
    assert "No value" in page.text and "An SPC chart needs at least two periods" in page.text
    # only list growth has figures: the registry's registered lists
    assert [t["indicator"]["id"] for t in tiles if t["value"] is not None] == ["list_growth"]
    assert body["with_value"] == 1
    shown = _text(client.get(f"/assurance/{PCN}").text)
    assert f"1 of {len(tiles)} indicators have a value" in shown


@pytest.mark.parametrize("on", ["2026-13-45", "garbage", "1999-01-01"])
def test_a_download_for_a_date_it_cannot_use_is_refused_not_made_for_another(pcn_user, on):
    answer = pcn_user.get(f"/assurance/{PCN}/{INDICATOR}/download.csv?part=members&on={on}")
    assert answer.status_code == 400
    assert "content-disposition" not in answer.headers


def test_a_worker_warms_the_figures_as_it_starts_so_the_first_page_does_not_load(demo, monkeypatch):
    from pcnkit.web.views import assurance as views

    app = demo.app()
    views.warm(app.state, demo.ws).join(timeout=120)
    held = app.state.assurance[1]
    assert all(i.id in held._values for i in views.definitions.load_all())

    def refuse(*args, **kwargs):
        raise AssertionError("the warmed figures were read again")

    monkeypatch.setattr(views.SharedAssurance, "load", classmethod(refuse))
    page = demo.client("havering.south", app=app).get(f"/api/assurance/{PCN}")
    assert page.status_code == 200


def test_a_page_before_the_figures_offers_the_date_of_the_newest(demo):
    page = demo.client("havering.south").get(f"/assurance/{PCN}?on=2019-12-01")
    assert page.status_code == 200
    assert 'id="newer-figures"' in page.text
    assert f'href="/assurance/{PCN}?on=2020-08-31"' in page.text
    latest = demo.client("havering.south").get(f"/assurance/{PCN}?on=2020-08-31")
    assert 'id="newer-figures"' not in latest.text
