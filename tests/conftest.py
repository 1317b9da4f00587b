"""Shared fixtures: workspaces on SQLite and on a real PostgreSQL server, and the data paths."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pcnkit.registry.actions import apply_batches
from pcnkit.registry.importers import expand, parse_file
from pcnkit.store import open_workspace

# The browser tests' `server` and `browser` fixtures (tests/web/browser_support.py; tests/web is on
# the path through pyproject.toml's `pythonpath`). A tests/web/conftest.py would instead replace
# this module as `conftest` for the tests that import `load` from it.
pytest_plugins = ["browser_support"]

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED_DATA.is_dir(), f"{SHARED_DATA} is missing: clone the repo beside ../shared"
    return SHARED_DATA


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server for the whole run (PCNKIT_TEST_POSTGRES_URL reuses an existing one)."""
    given = os.environ.get("PCNKIT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    from pgserver import PostgresServer

    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A fresh, empty database on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pcnkit.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def workspace(tmp_path, db_url):
    ws = open_workspace(tmp_path / "ws", url=db_url)
    yield ws
    ws.dispose()


@pytest.fixture
def sqlite_workspace(tmp_path):
    ws = open_workspace(tmp_path / "ws", url=f"sqlite:///{tmp_path / 'only.db'}")
    yield ws
    ws.dispose()


def load(ws, *paths: Path):
    """Load files or folders into a workspace the way `pcnkit registry load` does."""
    chosen, _ = expand(list(paths))
    batches = [parse_file(s.path, None, s) for s in chosen]
    with ws.transaction() as session:
        return apply_batches(session, batches)


@pytest.fixture(scope="session")
def england(tmp_path_factory, shared_data):
    """Every England file in ../shared/data loaded once into a SQLite workspace."""
    folder = tmp_path_factory.mktemp("england")
    ws = open_workspace(folder, url=f"sqlite:///{folder / 'pcnkit.db'}")
    reports = load(ws, shared_data)
    yield ws, reports
    ws.dispose()


@pytest.fixture(scope="session")
def bhr_specs(tmp_path_factory):
    """BHR's practices as synthetic-population specs at 2% of their real lists and registers
    (about 17,000 patients), as at 1 January 2020 (the QOF 2019/20 lists)."""
    import datetime as dt

    from pcnkit.demo import demo_data
    from pcnkit.population.synthetic import specs_from_registry

    folder = tmp_path_factory.mktemp("bhr-specs")
    ws = open_workspace(folder / "ws", url=f"sqlite:///{folder / 'only.db'}")
    try:
        load(ws, demo_data())
        with ws.sessions() as session:
            return specs_from_registry(
                session,
                "BHR",
                dt.date(2020, 1, 1),
                demo_data() / "PREVALENCE_1920.csv",
                scale=0.02,
            )
    finally:
        ws.dispose()


# --- the web application -------------------------------------------------------------------


# How many synthetic patients the web tests' population holds (see WebDemo and tests/README.md).
WEB_DEMO_PATIENTS = 20_000


class WebDemo:
    """The web tests' universe: the BHR demo workspace built as `pcnkit demo` builds it, with a
    smaller synthetic population. tests/README.md describes what it holds.

    - Registry: the real extract shipped in `pcnkit/data/demo` (ODS, ePCN, payments, QOF,
      GP appointments mapping, CCG → ICB lookup and BHR's local definitions): the BHR grouping,
      its three places and federations, four sub-ICB locations, ICS QMF; 15 PCNs and 122
      practices on 1 January 2020, 16 and 114 on 1 August 2025 (F82002 moved from Havering
      South, U00367, to Havering Liberty, U24998).
    - Funding: 2019/20 entitlements, the illustrative ARRS roster
      (`funding/arrs-staff-2019-20.csv`) and every 2019/20 month paid into the ledger.
    - Population: `WEB_DEMO_PATIENTS` synthetic patients spread over the 118 BHR practices open
      with a list on 1 January 2020, by their real lists (seed 2019), stratified with a
      rising-risk quota of 50 per 10,000.
    - Users (fresh passwords each run, in `logins`): nel.icb (commissioner, QMF),
      havering.place (commissioner, PL-HAV), havering.south (PCN user, U00367) and
      haiderian.practice (practice user, F82002).
    - Dates: pages default to `as_of`, 1 January 2020.
    """

    def __init__(self, folder: Path) -> None:
        import datetime as dt

        from pcnkit.demo import (
            DEMO_AREA,
            DEMO_POPULATION_AS_OF,
            DEMO_SEED,
            build_demo,
            demo_data,
            demo_ledger,
            demo_staff,
            demo_users,
        )
        from pcnkit.population import stratify
        from pcnkit.population.engine import PopulationStore
        from pcnkit.population.workspace import generate_population, population_folder

        self.folder = folder
        self.as_of = dt.date(2020, 1, 1)
        self.ws = build_demo(folder)
        generate_population(
            folder,
            DEMO_AREA,
            DEMO_SEED,
            DEMO_POPULATION_AS_OF,
            demo_data() / "PREVALENCE_1920.csv",
            WEB_DEMO_PATIENTS,
            replace=True,
        )
        with PopulationStore(population_folder(folder)) as store:
            stratify.stratify(store, quota_per_10000=50)
        with self.ws.transaction() as session:
            self.logins = {x.username: x for x in demo_users(session, folder)}
            demo_staff(session, folder)
            demo_ledger(session)

    def app(self):
        from pcnkit.web.app import create_app

        return create_app(self.ws, default_as_of=self.as_of)

    def client(self, username: str | None = None, app=None):
        """A TestClient, signed in as `username` through the real login form."""
        import re

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


@pytest.fixture(scope="session")
def web_demo(tmp_path_factory) -> WebDemo:
    demo = WebDemo(tmp_path_factory.mktemp("web") / "demo")
    yield demo
    demo.ws.dispose()


class PackDemo(WebDemo):
    """The committee packs' workspace (tests/reports): `WebDemo` with the demo's assurance
    publications loaded as `pcnkit demo` loads them (figures to March 2026)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        from pcnkit.demo import demo_assurance, demo_published

        demo_assurance(self.ws)
        demo_published(self.ws)


@pytest.fixture(scope="session")
def pack_demo(tmp_path_factory) -> PackDemo:
    demo = PackDemo(tmp_path_factory.mktemp("packs") / "demo")
    yield demo
    demo.ws.dispose()
