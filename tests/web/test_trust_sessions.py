"""Issue 10, items 1 and 2, played as the attacks, on SQLite and PostgreSQL: a removed user's
session must never come back as someone else, and wrong passwords sent at the same moment must
all count towards the lock-out."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import load
from pcnkit.access import audit, users
from pcnkit.access.users import MAX_FAILURES, REFUSED
from pcnkit.demo import demo_data
from pcnkit.store.models import AuditEvent, User
from pcnkit.web.app import create_app
from pcnkit.web.security import COOKIE

PASSWORD = "quiet harbour lantern 42"


@pytest.fixture
def registry_ws(workspace):
    """The demo's registry (BHR) on each engine, no users."""
    load(workspace, demo_data())
    return workspace


def _add(ws, name: str, role: str = "practice", scope: str = "F82002") -> int:
    with ws.transaction() as session:
        return users.add_user(session, name, PASSWORD, role, scope, dt.datetime.now()).id


def _signed_in(app, name: str) -> TestClient:
    client = TestClient(app)
    answer = client.post("/api/login", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return client


def _with_cookie(app, cookie: str) -> TestClient:
    client = TestClient(app)
    client.cookies.set(COOKIE, cookie)
    return client


def test_a_removed_users_cookie_never_signs_in_as_the_next_user(registry_ws):
    app = create_app(registry_ws, default_as_of=dt.date(2020, 1, 1))
    first = _add(registry_ws, "leaver.one")
    stolen = _signed_in(app, "leaver.one").cookies.get(COOKIE)
    assert _with_cookie(app, stolen).get("/api/me").status_code == 200
    with registry_ws.transaction() as session:
        users.remove_user(session, "leaver.one")
    # The highest id was deleted: SQLite without AUTOINCREMENT would hand it out again.
    second = _add(registry_ws, "joiner.two", role="pcn", scope="U00367")
    assert second > first, "a user id was reused"
    attacker = _with_cookie(app, stolen)
    assert attacker.get("/api/me").status_code == 401
    assert attacker.get("/api/population/U00367/lists/smr").status_code == 401
    # ...and nothing was written in the new user's name.
    with registry_ws.sessions() as session:
        names = session.scalars(select(AuditEvent.username)).all()
    assert "joiner.two" not in names
    assert _signed_in(app, "joiner.two").get("/api/me").json()["user"]["username"] == ("joiner.two")


def test_changing_a_role_ends_the_users_sessions_without_removing_them(registry_ws):
    app = create_app(registry_ws, default_as_of=dt.date(2020, 1, 1))
    user_id = _add(registry_ws, "mover.one")
    old = _signed_in(app, "mover.one").cookies.get(COOKIE)
    with registry_ws.transaction() as session:
        moved = users.set_role(session, "mover.one", "pcn", "U00367")
    assert moved.id == user_id and (moved.role, moved.scope_code) == ("pcn", "U00367")
    assert _with_cookie(app, old).get("/api/me").status_code == 401
    me = _signed_in(app, "mover.one").get("/api/me").json()
    assert me["scope"]["code"] == "U00367"


def test_a_new_password_ends_the_users_sessions(registry_ws):
    app = create_app(registry_ws, default_as_of=dt.date(2020, 1, 1))
    _add(registry_ws, "renewer.one")
    old = _signed_in(app, "renewer.one").cookies.get(COOKIE)
    with registry_ws.transaction() as session:
        users.set_password(session, "renewer.one", "another quiet harbour 43")
    assert _with_cookie(app, old).get("/api/me").status_code == 401


# --- item 2: concurrent wrong passwords against a served app ----------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(registry_ws):
    """The app served by uvicorn on a local port (requests run in its thread pool, truly at
    the same time), with its base URL."""
    app = create_app(registry_ws, default_as_of=dt.date(2020, 1, 1))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield registry_ws, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_concurrent_wrong_passwords_lock_the_account(served):
    ws, base = served
    _add(ws, "target.one")
    attempts = 4 * MAX_FAILURES
    gate = threading.Barrier(attempts)

    def wrong(i: int) -> int:
        with httpx.Client(base_url=base, timeout=60) as client:
            gate.wait()
            body = {"username": "target.one", "password": f"wrong guess number {i}"}
            return client.post("/api/login", json=body).status_code

    with ThreadPoolExecutor(attempts) as pool:
        answers = list(pool.map(wrong, range(attempts)))
    assert answers == [401] * attempts
    with ws.sessions() as session:
        user = session.scalar(select(User).where(User.username == "target.one"))
        details = session.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.username == "target.one", AuditEvent.action == audit.SIGN_IN_REFUSED
            )
        ).all()
    assert len(details) == attempts  # every attempt audited
    assert user.locked_until is not None, f"not locked after {attempts} concurrent failures"
    # The failures counted before the lock are exactly the limit: none was lost.
    assert details.count("wrong password; account now locked") >= 1
    # Locked: even the right password is refused, with the same words as a wrong one.
    with httpx.Client(base_url=base) as client:
        right = client.post("/api/login", json={"username": "target.one", "password": PASSWORD})
    assert right.status_code == 401 and right.json()["detail"] == REFUSED


def test_wrong_passwords_across_two_server_processes_lock_the_account(registry_ws, tmp_path):
    """`pcnkit serve --workers 2`: two processes, each with its own connections, count the same
    account's failures; the concurrent attempts still lock it."""
    _add(registry_ws, "target.three")
    port = _free_port()
    env = {**os.environ, "PCNKIT_DATABASE_URL": registry_ws.url}
    pcnkit = str(Path(sys.executable).with_name("pcnkit"))
    server = subprocess.Popen(
        [pcnkit, "serve", "-w", str(tmp_path / "served"), "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, "pcnkit serve stopped"
            assert time.monotonic() < deadline, "pcnkit serve did not start"
            try:
                if httpx.get(f"{base}/help", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        attempts = 4 * MAX_FAILURES
        gate = threading.Barrier(attempts)

        def wrong(i: int) -> int:
            # a new connection each: uvicorn's workers share the socket, so both take some
            with httpx.Client(base_url=base, timeout=120) as client:
                gate.wait()
                body = {"username": "target.three", "password": f"wrong guess number {i}"}
                return client.post("/api/login", json=body).status_code

        with ThreadPoolExecutor(attempts) as pool:
            answers = list(pool.map(wrong, range(attempts)))
    finally:
        server.terminate()
        server.wait(30)
    assert answers == [401] * attempts
    with registry_ws.sessions() as session:
        user = session.scalar(select(User).where(User.username == "target.three"))
    assert user.locked_until is not None, f"not locked after {attempts} concurrent failures"


def test_failures_are_counted_by_the_database_not_read_and_written_back(registry_ws):
    """Two sessions that both read the user before either writes: both failures count."""
    _add(registry_ws, "target.two")
    now = dt.datetime(2026, 1, 5, 9, 0)
    first, second = registry_ws.sessions(), registry_ws.sessions()
    try:
        for session in (first, second):
            session.scalar(select(User).where(User.username == "target.two"))
        for session in (first, second):
            with pytest.raises(users.LoginRefused):
                users.authenticate(session, "target.two", "not it at all", now)
            session.commit()
    finally:
        first.close()
        second.close()
    with registry_ws.sessions() as session:
        count = session.scalar(select(User.failed_logins).where(User.username == "target.two"))
    assert count == 2


# --- migration 0005 carries existing users across ---------------------------------------------


def test_migration_0005_keeps_users_and_gives_each_a_session_key(db_url):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, text

    from pcnkit.store.db import MIGRATIONS, make_engine

    engine = make_engine(db_url)

    def to(revision: str, down: bool = False) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, revision)

    to("0004")
    with engine.begin() as c:
        for name in ("old.one", "old.two"):
            c.execute(
                text(
                    "INSERT INTO app_user (username, password_hash, role, scope_code, created_at,"
                    " failed_logins, session_epoch) VALUES (:n, 'h', 'practice', 'F82002',"
                    " :t, 0, 3)"
                ),
                {"n": name, "t": dt.datetime(2025, 1, 1)},
            )
    to("0005")
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, username, session_key FROM app_user ORDER BY id")).all()
    assert [r.username for r in rows] == ["old.one", "old.two"]
    assert len({r.session_key for r in rows}) == 2 and all(len(r.session_key) >= 32 for r in rows)
    assert "session_epoch" not in {col["name"] for col in inspect(engine).get_columns("app_user")}
    with engine.begin() as c:
        c.execute(text("DELETE FROM app_user WHERE username = 'old.two'"))
        c.execute(
            text(
                "INSERT INTO app_user (username, password_hash, role, scope_code, created_at,"
                " failed_logins, session_key) VALUES ('new.one', 'h', 'pcn', 'U00367', :t, 0, 'k')"
            ),
            {"t": dt.datetime(2025, 1, 2)},
        )
        new_id = c.execute(text("SELECT id FROM app_user WHERE username = 'new.one'")).scalar()
    assert new_id > rows[-1].id  # the deleted highest id is not handed out again
    to("0004", down=True)
    to("head")
    engine.dispose()
