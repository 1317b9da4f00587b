"""Issue 10, item 6 (search), on SQLite and PostgreSQL: `%` and `_` are ordinary characters,
and the user's scope is applied before the number of results is limited."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from conftest import load
from pcnkit.access import users
from pcnkit.demo import demo_data
from pcnkit.registry import kinds
from pcnkit.store.models import Organisation
from pcnkit.web.app import create_app

PASSWORD = "quiet harbour lantern 42"


def test_search_is_literal_and_scoped_before_it_is_limited(workspace):
    load(workspace, demo_data())
    with workspace.transaction() as session:
        # 300 organisations that match "haiderian" and sort before any practice, none of them
        # within a practice user's scope.
        session.add_all(
            Organisation(code=f"ZZ{n:03}", kind=kinds.ICB, name=f"Haiderian filler {n:03}")
            for n in range(300)
        )
        session.add(Organisation(code="ZZ100%", kind=kinds.ICB, name="Odd 100% name"))
        users.add_user(session, "find.user", PASSWORD, "practice", "F82002", dt.datetime.now())
        users.add_user(session, "find.icb", PASSWORD, "commissioner", "QMF", dt.datetime.now())
    client = TestClient(create_app(workspace, default_as_of=dt.date(2020, 1, 1)))
    login = {"username": "find.user", "password": PASSWORD}
    assert client.post("/api/login", json=login).status_code == 200

    def codes(q: str) -> list[str]:
        answer = client.get("/api/find", params={"q": q})
        assert answer.status_code == 200, answer.text
        return [r["code"] for r in answer.json()["results"]]

    assert codes("haiderian") == ["F82002"]
    assert codes("%") == [] and codes("_") == [] and codes("%_%") == []
    assert codes("f82%") == []
    assert codes("F8200_") == []
    assert codes("haiderian medical") == ["F82002"]
