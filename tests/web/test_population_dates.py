"""Issue 10 items 3 and 26: patient-level answers are dated by their data.

The demo's population is an extract as at 1 January 2020. Between then and 1 August 2025
Havering practices moved between PCNs: F82002 (and others) left Havering South (U00367) for
U24998, a PCN with no members before 2025; F82675 joined Havering South from U29424. A user who
chooses 1 August 2025 must get the patients registered on 1 January 2020 in the practices that
were their organisation's then, on the page, its JSON twin and the CSV download, and be told.
Then the same attack the other way round: a store dated 2025 read by choosing 2020.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import time

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from html_tables import tables_of
from web_login import sign_in

from pcnkit.access.users import add_user
from pcnkit.population.pack import practices_in
from pcnkit.population.workspace import population_folder
from pcnkit.store import open_workspace
from pcnkit.web.app import create_app

EXTRACT = dt.date(2020, 1, 1)
LATER = "2025-08-01"
SOUTH, NEW_PCN = "U00367", "U24998"
MOVED_OUT, MOVED_IN = "F82002", "F82675"  # left SOUTH for NEW_PCN; joined SOUTH from U29424
PSEUDONYM = re.compile(r"SYN[0-9A-F]{16}")
PASSWORD = "a long pass phrase for the new pcn"


@pytest.fixture(scope="module")
def app(web_demo):
    with web_demo.ws.transaction() as session:
        add_user(session, "new.pcn", PASSWORD, "pcn", NEW_PCN, dt.datetime.now())
    return web_demo.app()


@pytest.fixture(scope="module")
def south(web_demo, app):
    return web_demo.client("havering.south", app)


@pytest.fixture(scope="module")
def new_pcn(app):
    return sign_in(TestClient(app), "new.pcn", PASSWORD)


def _members(web_demo, code: str, when) -> list[str]:
    with web_demo.ws.sessions() as session:
        return practices_in(session, code, when)


def test_the_registry_really_moved_these_practices(web_demo):
    later = dt.date.fromisoformat(LATER)
    assert MOVED_OUT in _members(web_demo, SOUTH, EXTRACT)
    assert MOVED_OUT in _members(web_demo, NEW_PCN, later)
    assert _members(web_demo, NEW_PCN, EXTRACT) == []
    assert MOVED_IN in _members(web_demo, SOUTH, later)
    assert MOVED_IN not in _members(web_demo, SOUTH, EXTRACT)


def test_a_pcn_formed_later_cannot_read_earlier_patients_by_choosing_its_date(new_pcn):
    for path in ("/population/{}/lists/smr", "/api/population/{}/lists/smr"):
        response = new_pcn.get(path.format(NEW_PCN), params={"on": LATER})
        assert response.status_code == 200
        assert MOVED_OUT not in response.text
        assert not PSEUDONYM.search(response.text)
    page = new_pcn.get(f"/population/{NEW_PCN}/lists/smr", params={"on": LATER}).text
    assert "had no practices on 1 January 2020" in page
    assert "patient-list" not in page
    data = new_pcn.get(f"/api/population/{NEW_PCN}/lists/smr", params={"on": LATER}).json()
    assert data["rows"] == [] and data["practices"] == [] and data["total"] == 0
    assert data["data_as_of"] == "2020-01-01"
    download = new_pcn.get(f"/population/{NEW_PCN}/lists/smr.csv", params={"on": LATER})
    assert download.status_code == 200
    assert list(csv.DictReader(io.StringIO(download.text))) == []
    # nor by naming the practice, nor by filtering to it
    for path in (f"/population/{MOVED_OUT}/lists/smr", f"/population/{MOVED_OUT}/lists/smr.csv"):
        assert new_pcn.get(path, params={"on": LATER}).status_code == 403
    filtered = new_pcn.get(
        f"/api/population/{NEW_PCN}/lists/smr", params={"on": LATER, "practice": MOVED_OUT}
    )
    assert filtered.status_code == 400
    # the pack (aggregates of those patients) is dated the same way
    pack = new_pcn.get(f"/api/population/{NEW_PCN}", params={"on": LATER}).json()
    assert pack["available"] is False and "no practices on 1 January 2020" in pack["problem"]


def test_a_pcn_choosing_a_later_date_sees_its_practices_as_they_were_in_the_data(web_demo, south):
    expected = _members(web_demo, SOUTH, EXTRACT)
    page = south.get(f"/population/{SOUTH}/lists/smr", params={"on": LATER})
    assert page.status_code == 200
    practices = {r[1] for r in tables_of(page.text)["patient-list"][1:]}
    assert MOVED_IN not in practices and practices <= set(expected)
    assert "Patients as at 1 January 2020" in page.text
    assert "The date asked for is 1 August 2025" in page.text
    assert '<p id="date-note"><strong>Patients as at 1 January 2020.</strong>' in page.text
    assert "as at 1 August 2025" not in page.text
    data = south.get(f"/api/population/{SOUTH}/lists/smr", params={"on": LATER}).json()
    assert data["practices"] == expected and data["data_as_of"] == "2020-01-01"
    assert "1 August 2025" in data["date_note"]
    rows = list(
        csv.DictReader(
            io.StringIO(south.get(f"/population/{SOUTH}/lists/smr.csv", params={"on": LATER}).text)
        )
    )
    assert rows and {r["practice"] for r in rows} <= set(expected)
    assert MOVED_OUT in {r["practice"] for r in rows}
    # the practice that joined later is not theirs in the data
    assert south.get(f"/population/{MOVED_IN}/lists/smr", params={"on": LATER}).status_code == 403
    pack = south.get(f"/api/population/{SOUTH}", params={"on": LATER}).json()
    assert pack["practices"] == expected and pack["data_as_of"] == "2020-01-01"
    same_day = south.get(f"/api/population/{SOUTH}", params={"on": "2020-01-01"}).json()
    assert same_day["date_note"] is None
    assert pack["tables"] == same_day["tables"]


def test_the_audit_names_the_data_date(web_demo, south):
    from sqlalchemy import select

    from pcnkit.store.models import AuditEvent

    south.get(f"/population/{SOUTH}/lists/ehch", params={"on": LATER})
    with web_demo.ws.sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert "patients as at 2020-01-01" in event.detail
    assert "date chosen 2025-08-01" in event.detail


@pytest.fixture(scope="module")
def later_store(web_demo, tmp_path_factory):
    """A copy of the demo workspace whose population says it is an extract as at 1 August
    2025 (the same rows, re-dated in every file's metadata)."""
    folder = tmp_path_factory.mktemp("later") / "demo"
    shutil.copytree(web_demo.folder, folder)
    for path in population_folder(folder).rglob("*.parquet"):
        table = pq.read_table(path)
        meta = dict(table.schema.metadata or {})
        if b"pcnkit.as_of" in meta:
            meta[b"pcnkit.as_of"] = LATER.encode()
            pq.write_table(table.replace_schema_metadata(meta), path)
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    yield ws
    ws.dispose()


def test_a_later_store_cannot_be_read_with_an_earlier_membership(web_demo, later_store):
    app = create_app(later_store, default_as_of=EXTRACT)
    south = sign_in(TestClient(app), "havering.south", web_demo.logins["havering.south"].password)
    with later_store.sessions() as session:
        expected = practices_in(session, SOUTH, dt.date.fromisoformat(LATER))
    data = south.get(f"/api/population/{SOUTH}/lists/smr", params={"on": "2020-01-01"}).json()
    assert data["data_as_of"] == LATER
    assert data["practices"] == expected
    assert MOVED_OUT not in {r["practice"] for r in data["rows"]}
    refused = south.get(f"/population/{MOVED_OUT}/lists/smr.csv", params={"on": "2020-01-01"})
    assert refused.status_code == 403
    assert "1 August 2025" in refused.text


def test_a_new_date_does_not_recompute_the_pack(web_demo, south):
    """Item 26: the pack is cached by the extract date, so another chosen date is cheap."""
    south.get(f"/population/{SOUTH}", params={"on": "2020-01-01"})
    timings = []
    for on in ("2020-03-01", "2021-06-15", "2023-02-01", LATER):
        started = time.perf_counter()
        assert south.get(f"/population/{SOUTH}", params={"on": on}).status_code == 200
        timings.append(time.perf_counter() - started)
    assert max(timings) < 0.5, timings
