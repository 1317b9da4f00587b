"""`pcnkit users add | list | remove | audit` on a real workspace."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from pcnkit.cli import app
from pcnkit.demo import build_demo
from pcnkit.store.models import User

runner = CliRunner()


def test_add_list_remove_a_user(tmp_path, monkeypatch):
    folder = tmp_path / "demo"
    build_demo(folder).dispose()
    monkeypatch.setenv("NEW_PASSWORD", "a long enough password")
    w = ["-w", str(folder)]
    args = ["j.bloggs", "--role", "pcn", "--scope", "u00367", "--password-env", "NEW_PASSWORD"]
    added = runner.invoke(app, ["users", "add", *args, *w])
    assert added.exit_code == 0, added.output
    assert "pcn for U00367" in added.output
    listed = runner.invoke(app, ["users", "list", *w])
    assert "j.bloggs" in listed.output and "U00367" in listed.output
    assert "a long enough password" not in listed.output
    assert runner.invoke(app, ["users", "remove", "j.bloggs", *w]).exit_code == 0
    assert "j.bloggs" not in runner.invoke(app, ["users", "list", *w]).output


def test_bad_users_are_refused_with_a_reason_and_nothing_stored(tmp_path, monkeypatch):
    folder = tmp_path / "demo"
    ws = build_demo(folder)
    monkeypatch.setenv("NEW_PASSWORD", "a long enough password")
    monkeypatch.setenv("SHORT", "short")
    w = ["-w", str(folder)]
    cases = [  # role, scope, password variable, what the error says
        ("pcn", "F82002", "NEW_PASSWORD", "not a scope"),
        ("admin", "QMF", "NEW_PASSWORD", "not a role"),
        ("practice", "F82002", "SHORT", "12 characters"),
        ("pcn", "NOPE1", "NEW_PASSWORD", "NOPE1"),
    ]
    for role, scope, variable, reason in cases:
        args = ["x.y", "--role", role, "--scope", scope, "--password-env", variable]
        result = runner.invoke(app, ["users", "add", *args, *w])
        assert result.exit_code == 2, result.output
        assert reason in result.output
    with ws.sessions() as session:
        assert session.scalars(select(User)).all() == []
    unset = ["x.y", "--role", "pcn", "--scope", "U00367", "--password-env", "NOT_SET_ANYWHERE"]
    result = runner.invoke(app, ["users", "add", *unset, *w])
    assert result.exit_code == 2 and "NOT_SET_ANYWHERE is not set" in result.output
    removed = runner.invoke(app, ["users", "remove", "nobody", *w])
    assert removed.exit_code == 2 and "nobody" in removed.output
