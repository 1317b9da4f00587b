"""The watch-list page (/watchlist/{code}), its JSON twin and downloads, over a BHR demo
workspace holding hand-made CQC ratings and cloud telephony figures for Havering's practices.

As in test_assurance_pages, this module builds its own demo registry (the shared `web_demo`
holds no assurance observations) and stores the figures through `store_batches`. The figures:
F82006 rated Inadequate and missing 30% of its calls (two flags, first), F82002 rated Requires
improvement (one flag), F82010 missing 25% of its calls, every other practice rated Good and
missing 10%, and F82674 with no figures at all."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from pcnkit.assurance import watchlist
from pcnkit.assurance.observations import ObservationBatch, ObservationRecord
from pcnkit.assurance.store import store_batches
from pcnkit.assurance.values import Assurance
from pcnkit.dates import Period, month_end
from pcnkit.registry import kinds
from pcnkit.registry.queries import Hierarchy

AS_OF = dt.date(2020, 9, 30)
MONTH = dt.date(2020, 8, 1)
RATED = dt.date(2020, 4, 1)
PCN, PLACE, ICB = "U00367", "PL-HAV", "QMF"
WORST, RI, CALLS, SILENT = "F82006", "F82002", "F82010", "F82674"
MARKUP_NAME = '=HYPERLINK("http://evil")<script>alert(1)</script>'


def _batches(practices: list[str]) -> list[ObservationBatch]:
    def batch(file, dataset, title, extract):
        return ObservationBatch(
            file, dataset, dataset, title, hashlib.sha256(file.encode()).hexdigest(), extract, "x"
        )

    cqc = batch("cqc-test.csv", "cqc-ratings", "Hand-made CQC ratings", RATED)
    calls = batch("telephony-test.csv", "cloud-telephony", "Hand-made cloud telephony", MONTH)
    row = 1
    for code in practices:
        if code == SILENT:
            continue
        rating = {WORST: "Inadequate", RI: "Requires improvement"}.get(code, "Good")
        row += 1
        day = Period(RATED, RATED)
        cqc.add(ObservationRecord(code, "practice", "overall_rating", day, None, rating, row))
        share = {WORST: Decimal("0.30"), CALLS: Decimal("0.25")}.get(code, Decimal("0.10"))
        month = Period(MONTH, month_end(MONTH))
        for measure, value in (("inbound", Decimal(1000)), ("missed", 1000 * share)):
            calls.add(ObservationRecord(code, "practice", measure, month, value, row=row))
    cqc.rows = calls.rows = row
    return [cqc, calls]


class WatchlistDemo:
    def __init__(self, folder) -> None:
        from pcnkit.demo import build_demo, demo_users

        self.ws = build_demo(folder)
        with self.ws.transaction() as session:
            self.logins = {x.username: x for x in demo_users(session, folder)}
            h = Hierarchy.at(session, AS_OF)
            place = h.by_code[PLACE]
            self.practices = [p.code for p in h.descendants(place, kinds.PRACTICE)]
            store_batches(session, _batches(self.practices))

    def app(self):
        from pcnkit.web.app import create_app

        return create_app(self.ws, default_as_of=AS_OF)

    def client(self, username: str, app=None):
        from fastapi.testclient import TestClient

        client = TestClient(app or self.app())
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

    def library(self, area: str) -> list[watchlist.WatchEntry]:
        """What pcnkit.assurance.watchlist says for the area's practices, as the CLI asks."""
        with self.ws.sessions() as session:
            a = Assurance.load(session)
            h = Hierarchy.at(session, AS_OF)
            found = h.descendants(h.by_code[area], kinds.PRACTICE)
            return watchlist.watchlist(a.frame, [o.code for o in found], AS_OF)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = WatchlistDemo(tmp_path_factory.mktemp("watchlist-web") / "demo")
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


def _ranked(body: dict) -> list[dict]:
    return body["flagged"] + body["not_assessed"] + body["no_flags"]


# --- values and ordering ---------------------------------------------------------------------


def test_the_json_lists_the_librarys_entries_in_its_order(demo, place_user):
    body = place_user.get(f"/api/watchlist/{PLACE}").json()
    lib = demo.library(PLACE)
    flagged = [e for e in lib if e.flags]
    assert [p["code"] for p in body["flagged"]] == [e.practice for e in flagged]
    assert [p["code"] for p in body["flagged"]][:3] == [WORST, RI, CALLS]
    assert body["practices"] == len(lib) == len(demo.practices)
    assert {p["code"] for p in _ranked(body)} == {e.practice for e in lib}
    for shown, e in zip(body["flagged"], flagged, strict=True):
        assert shown["score"] == e.score
        assert [f["code"] for f in shown["flags"]] == [f.code for f in e.flags]
        assert [f["evidence"] for f in shown["flags"]] == [f.evidence for f in e.flags]
        assert [f["threshold"] for f in shown["flags"]] == [f.threshold for f in e.flags]
        assert shown["not_assessed"] == e.not_assessed
    worst = body["flagged"][0]
    assert [f["code"] for f in worst["flags"]] == [
        "cqc_requires_improvement",
        "poor_telephony_access",
    ]
    cqc, calls = worst["flags"]
    assert cqc["whose"] == "NHS England's criterion" and cqc["confirmed"] is True
    assert calls["whose"] == "pcnkit's threshold, not NHS England's"
    assert "30.0% of inbound calls missed in August 2020" in calls["evidence"]
    assert calls["period"] == "August 2020" and calls["value"] == "0.3"


def test_the_page_shows_rank_flags_evidence_and_whose_threshold(demo, place_user):
    page = place_user.get(f"/watchlist/{PLACE}")
    assert page.status_code == 200, page.text[:300]
    lib = demo.library(PLACE)
    flagged = [e for e in lib if e.flags]
    order = re.findall(r'<li class="nhsuk-card[^"]*" id="practice-(\w+)"', page.text)
    assert order == [e.practice for e in flagged]
    text = _text(page.text)
    assert f"{len(flagged)} of {len(lib)} practices flagged" in text
    card = re.search(rf'id="practice-{WORST}">(.*?)</li>\s*</ul>', page.text, re.S).group(1)
    card_text = _text(card)
    assert card_text.startswith("1.") and "2 flags" in card_text
    for f in lib[0].flags:
        assert f.label in card_text
        assert _text(f.evidence.replace("&", "&amp;").replace("'", "&#39;")) in card_text
    assert "NHS England's criterion" in card_text.replace("&#39;", "'")
    assert "pcnkit's threshold, not NHS England's" in card_text.replace("&#39;", "'")
    assert "Period: August 2020" in card_text
    # the key explains each criterion from the rules file
    for rule in watchlist.load_rules().criteria:
        assert f'id="criterion-{rule.code}"' in page.text
    assert "Individual professional performance issues" in text


def test_a_practice_with_no_data_is_not_assessed_never_no_flags(demo, place_user):
    lib = {e.practice: e for e in demo.library(PLACE)}
    assert not lib[SILENT].flags and lib[SILENT].not_assessed
    body = place_user.get(f"/api/watchlist/{PLACE}").json()
    silent = next(p for p in _ranked(body) if p["code"] == SILENT)
    assert silent["not_assessed"] == lib[SILENT].not_assessed
    assert any("no CQC rating held" in r for r in silent["not_assessed"])
    page = place_user.get(f"/watchlist/{PLACE}").text
    item = _text(re.search(rf'<li id="practice-{SILENT}">.*?</li>', page, re.S).group(0))
    assert "not assessed" in item and "CQC rated" in item and "No flag" not in item
    assert SILENT in [p["code"] for p in body["not_assessed"]]
    assert SILENT not in [p["code"] for p in body["no_flags"] + body["flagged"]]


def test_practices_with_no_flag_are_counted_and_listed_last(demo, place_user):
    body = place_user.get(f"/api/watchlist/{PLACE}").json()
    lib = demo.library(PLACE)
    # in the library's order, those nothing could judge apart from those judged and clear
    assert [p["code"] for p in body["not_assessed"]] == [
        e.practice for e in lib if not e.flags and not e.clear
    ]
    assert [p["code"] for p in body["no_flags"]] == [
        e.practice for e in lib if not e.flags and e.clear
    ]
    assert len(body["no_flags"]) == len(demo.practices) - 4  # 3 flagged, 1 silent
    page = place_user.get(f"/watchlist/{PLACE}").text
    assert f"Practices with no flag ({len(body['no_flags'])})" in page
    details = re.search(
        r'<details class="nhsuk-details" id="no-flags-details">.*?</details>', page, re.S
    )
    assert details
    for p in body["no_flags"]:
        assert f'id="practice-{p["code"]}"' in details.group(0)


# --- scope -------------------------------------------------------------------------------------


def test_a_practice_user_gets_no_watch_list(practice_user):
    for path in (
        f"/watchlist/{PCN}",
        f"/api/watchlist/{PCN}",
        f"/watchlist/{PCN}/download.csv",
        f"/watchlist/{PLACE}/download.xlsx",
    ):
        assert practice_user.get(path).status_code == 403, path
    # their own practice is not an area: nothing to rank
    assert practice_user.get(f"/api/watchlist/{RI}").status_code == 404


def test_a_pcn_user_sees_their_pcns_practices_only(demo, pcn_user):
    body = pcn_user.get(f"/api/watchlist/{PCN}").json()
    lib = demo.library(PCN)
    assert [p["code"] for p in _ranked(body)] == [e.practice for e in lib if e.flags] + [
        p["code"] for p in body["not_assessed"] + body["no_flags"]
    ]
    assert {p["code"] for p in _ranked(body)} == {e.practice for e in lib}
    assert len(lib) < len(demo.practices)
    rows = list(
        csv.DictReader(
            io.StringIO(pcn_user.get(f"/watchlist/{PCN}/download.csv").content.decode("utf-8-sig"))
        )
    )
    assert {r["practice"] for r in rows} == {e.practice for e in lib}


@pytest.mark.parametrize(
    ("user", "code"),
    [
        ("havering.south", PLACE),
        ("havering.south", ICB),
        ("havering.place", ICB),
        ("nel.icb", "Y56"),
    ],
)
def test_another_scopes_code_is_refused_in_page_api_and_download(demo, user, code):
    client = demo.client(user)
    for path in (
        "/watchlist/{}",
        "/api/watchlist/{}",
        "/watchlist/{}/download.csv",
        "/watchlist/{}/download.xlsx",
    ):
        answer = client.get(path.format(code))
        assert answer.status_code == 403, (path, answer.status_code)
        # no practice's code (a random nonce may contain "F82": it is not one)
        shown = re.sub(r'nonce="[^"]*"', "", answer.text)
        assert not re.search(r"\bF82\d{3}\b", shown)


# --- downloads and escaping ------------------------------------------------------------------


def test_downloads_hold_the_librarys_table(demo, place_user):
    answer = place_user.get(f"/watchlist/{PLACE}/download.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    table = watchlist.table(demo.library(PLACE))
    assert len(rows) == len(table)
    assert [r["practice"] for r in rows] == list(table["practice"])
    assert [r["status"] for r in rows] == list(table["status"])
    assert list(rows[0]) == ["rank", "practice", "practice_name", *watchlist.TABLE_COLUMNS[2:]]
    assert rows[0]["practice"] == WORST and rows[0]["status"] == "flag"
    assert "nan" not in answer.text.lower().split(",")
    from openpyxl import load_workbook

    xlsx = place_user.get(f"/watchlist/{PLACE}/download.xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = [[c.value for c in r] for r in book["watchlist"].iter_rows()]
    assert len(sheet) == len(table) + 1


def test_a_markup_looking_name_is_escaped_and_downloads_are_formula_safe(demo):
    from pcnkit.store.models import Organisation, OrganisationName, SourceFile

    with demo.ws.transaction() as session:
        org = session.scalars(select(Organisation).where(Organisation.code == WORST)).one()
        source = session.scalars(select(SourceFile.id)).first()
        session.add(
            OrganisationName(org_id=org.id, name=MARKUP_NAME, observed_at=AS_OF, source_id=source)
        )
    try:
        client = demo.client("havering.place")
        page = client.get(f"/watchlist/{PLACE}")
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        download = client.get(f"/watchlist/{PLACE}/download.csv")
        rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
        names = [r["practice_name"] for r in rows]
        assert "'" + MARKUP_NAME in names
        assert not any(n.startswith(("=", "+", "-", "@")) for n in names)
        from openpyxl import load_workbook

        xlsx = client.get(f"/watchlist/{PLACE}/download.xlsx")
        book = load_workbook(io.BytesIO(xlsx.content))
        cells = [c.value for ws in book for row in ws.iter_rows() for c in row]
        assert "'" + MARKUP_NAME in cells
        assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    finally:
        with demo.ws.transaction() as session:
            session.query(OrganisationName).filter(OrganisationName.name == MARKUP_NAME).delete()


# --- links ---------------------------------------------------------------------------------


def test_the_assurance_page_and_commissioners_home_link_to_it(demo, place_user, pcn_user):
    on = AS_OF.isoformat()
    assert f'href="/watchlist/{PCN}?on={on}"' in pcn_user.get(f"/assurance/{PCN}").text
    home = place_user.get("/").text
    link = re.search(rf'<a href="/watchlist/{PLACE}\?on={on}"[^>]*>(.*?)</a>', home, re.S)
    flagged = sum(1 for e in demo.library(PLACE) if e.flags)
    assert link and _text(link.group(1)) == f"Watch-list: {flagged} practices flagged"


def test_the_help_page_explains_the_new_terms(place_user):
    text = _text(place_user.get("/help").text)
    for term in (
        "Statistical process control",
        "XmR chart",
        "Special cause variation",
        "Common cause variation",
        "Trial limits",
        "Peers",
        "Quartile",
        "Funnel plot",
        "Watch-list",
    ):
        assert term in text, term
    assert 'id="watch-list"' in place_user.get("/help").text


# --- in a real browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(demo):
    from browser_support import LiveServer

    server = LiveServer(demo.app()).start()
    yield server
    server.stop()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_the_page_in_chromium_screenshots_and_accessibility(demo, live, browser, width):
    from browser_support import axe_violations, blocking, describe, screenshot, sign_in_api

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        login = demo.logins["havering.place"]
        sign_in_api(page, live.url, login.username, login.password)
        response = page.goto(f"{live.url}/watchlist/{PLACE}")
        page.wait_for_load_state("load")
        assert response.status == 200
        page.locator("#no-flags-details summary").click()
        assert page.locator("#no-flags-list").is_visible()
        screenshot(page, f"watchlist-{width}")
        found = blocking(axe_violations(page))
        assert not found, f"axe-core at {width}px:\n{describe(found)}"
    finally:
        context.close()


def test_a_workspace_with_registered_lists_only_flags_list_change_alone(web_demo):
    """The shared web demo holds registered lists but no other assurance observations: only
    rapid list change can be judged, and every other criterion says it was not assessed."""
    client = web_demo.client("havering.place")
    body = client.get(f"/api/watchlist/{PLACE}").json()
    assert body["practices"] > 0
    for p in body["flagged"]:
        assert [f["code"] for f in p["flags"]] == ["rapid_list_change"], p["code"]
    for p in _ranked(body):
        assert any("no CQC rating held" in r for r in p["not_assessed"]), p["code"]
    home = _text(client.get("/").text)
    n = len(body["flagged"])
    assert f"Watch-list: {n} practice{'' if n == 1 else 's'} flagged" in home


def test_the_list_is_judged_once_per_area_and_date_on_the_cached_figures(demo, monkeypatch):
    from pcnkit.web.views import watchlist as view

    calls = []
    real = watchlist.watchlist

    def counted(frame, practices, as_of, rules=None):
        calls.append((id(frame), as_of))
        return real(frame, practices, as_of, rules)

    monkeypatch.setattr(view.watchlist, "watchlist", counted)
    app = demo.app()
    place = demo.client("havering.place", app=app)
    assert place.get(f"/api/watchlist/{PCN}").status_code == 200
    assert demo.client("havering.south", app=app).get(f"/watchlist/{PCN}").status_code == 200
    assert place.get(f"/watchlist/{PCN}/download.csv").status_code == 200
    assert len(calls) == 1  # one judgement serves both users, the page and the download
    assert calls[0][0] == id(app.state.assurance[1].frame)  # the assurance pages' figures
    place.get(f"/api/watchlist/{PCN}?on=2020-08-31")
    assert [when for _, when in calls] == [AS_OF, dt.date(2020, 8, 31)]
