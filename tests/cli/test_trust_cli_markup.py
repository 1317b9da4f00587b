"""Issue 10, item 5: text from the database or the command line is never read as Rich console
markup. A failed sign-in as "[/x]" used to make `pcnkit users audit` crash for good (the
audit log is append-only)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from pcnkit.cli import app
from pcnkit.demo import build_demo
from pcnkit.store.models import Organisation, OrganisationName
from pcnkit.web.app import create_app

runner = CliRunner()
MARKUP = ["[/x]", "[bold]bold[/bold]", "[/]", "[link=https://evil.example]x"]


def _failed_sign_in(client: TestClient, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    data = {"username": username, "password": "wrong", "csrf_token": token, "next": "/"}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 401


def test_the_audit_log_shows_markup_like_usernames_literally(tmp_path):
    folder = tmp_path / "demo"
    ws = build_demo(folder)
    client = TestClient(create_app(ws))
    for name in MARKUP:
        _failed_sign_in(client, name)
    w = ["-w", str(folder)]
    result = runner.invoke(app, ["users", "audit", *w])
    assert result.exit_code == 0, result.output
    for name in MARKUP:
        assert name in result.output, name
    only = runner.invoke(app, ["users", "audit", "--user", "[/x]", *w])
    assert only.exit_code == 0 and "[/x]" in only.output
    # An error message quoting what was typed prints it literally too (exit 2, not a crash).
    missing = runner.invoke(app, ["users", "remove", "[/x]", *w])
    assert missing.exit_code == 2 and "'[/x]'" in missing.output


def test_users_and_organisation_names_print_literally(tmp_path, monkeypatch):
    folder = tmp_path / "demo"
    ws = build_demo(folder)
    with ws.transaction() as session:
        pcn = session.scalar(select(Organisation).where(Organisation.code == "U00367"))
        pcn.name = "[/x] PCN [red]"
        session.execute(
            update(OrganisationName)
            .where(OrganisationName.org_id == pcn.id)
            .values(name="[/x] PCN [red]")
        )
    monkeypatch.setenv("NEW_PASSWORD", "quiet harbour lantern 42")
    w = ["-w", str(folder)]
    add = ["[bold]j.bloggs", "--role", "pcn", "--scope", "U00367", "--password-env", "NEW_PASSWORD"]
    added = runner.invoke(app, ["users", "add", *add, *w])
    assert added.exit_code == 0, added.output
    assert "Added [bold]j.bloggs" in added.output
    listed = runner.invoke(app, ["users", "list", *w])
    assert listed.exit_code == 0 and "[bold]j.bloggs" in listed.output
    for command in (["registry", "find", "U00367"], ["registry", "show", "U00367"]):
        shown = runner.invoke(app, [*command, *w])
        assert shown.exit_code == 0, shown.output
        assert "[/x] PCN [red]" in shown.output
    moved = runner.invoke(
        app, ["users", "set-role", "[bold]j.bloggs", "--role", "practice", "--scope", "F82002", *w]
    )
    assert moved.exit_code == 0, moved.output
    assert "[bold]j.bloggs is now practice for F82002; signed out" in moved.output
