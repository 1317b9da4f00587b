"""The CLI's one error wrapper and its one --workspace option."""

import os
import subprocess
import sys

import pytest
import typer
from rich.console import Console

from pcnkit.cli import shell
from pcnkit.errors import BadValue, PcnkitError


@pytest.fixture
def stderr(monkeypatch):
    console = Console(stderr=False, width=200, no_color=True, markup=False, record=True)
    monkeypatch.setattr(shell, "err", console)
    return console


def test_a_library_error_ends_the_command_with_status_2(stderr):
    with pytest.raises(typer.Exit) as ended, shell.user_errors():
        raise PcnkitError("no such area [bold]X[/]")
    assert ended.value.exit_code == 2
    assert "error: no such area [bold]X[/]" in stderr.export_text()


def test_a_bad_value_is_worded_as_its_option(stderr):
    with pytest.raises(typer.Exit), shell.user_errors():
        raise BadValue("top_slice", "'x' is not a figure", "Write e.g. 15%")
    assert "error: --top-slice: 'x' is not a figure. Write e.g. 15%" in stderr.export_text()


def test_only_the_named_kinds_of_other_error_end_the_command(stderr):
    with pytest.raises(typer.Exit), shell.user_errors(ValueError):
        raise ValueError("not a number")
    assert "error: not a number" in stderr.export_text()
    with pytest.raises(KeyError), shell.user_errors(ValueError):
        raise KeyError("a bug stays a traceback")


def test_a_block_without_an_error_runs_to_its_end(stderr):
    done = []
    with shell.user_errors():
        done.append(1)
    assert done == [1]
    assert stderr.export_text() == ""


def test_every_command_takes_the_workspace_the_same_way():
    from typer.main import get_command

    from pcnkit.cli import app

    def walk(command, path=()):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, (*path, name))
        else:
            yield path, command

    seen = 0
    for path, command in walk(get_command(app)):
        for param in command.params:
            if param.name == "workspace" and path != ("demo",):
                seen += 1
                assert param.opts == ["--workspace", "-w"], path
                assert param.help == "Workspace folder (or PCNKIT_HOME).", path
                assert param.default is None, path
    assert seen >= 20


def test_python_dash_m_pcnkit_is_the_pcnkit_command():
    result = subprocess.run(
        [sys.executable, "-m", "pcnkit", "registry", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: pcnkit registry" in result.stdout
    assert "Practices, PCNs, places and ICSs over time." in result.stdout


@pytest.mark.parametrize("argv", [["registry", "check"], ["registry", "load", "/no/such.csv"]])
def test_every_workspace_a_command_opens_is_closed_when_it_ends(argv, tmp_path, monkeypatch):
    """Success or error, a command's database connections are disposed of, not left for the
    garbage collector (on PostgreSQL they would linger as open connections)."""
    from typer.testing import CliRunner

    from pcnkit.cli import app
    from pcnkit.store import db

    disposed = []
    real = db.Workspace.dispose
    monkeypatch.setattr(db.Workspace, "dispose", lambda ws: (disposed.append(ws.path), real(ws)))
    result = CliRunner().invoke(app, [*argv, "-w", str(tmp_path / "ws")])
    assert result.exit_code in (0, 2), result.output
    assert disposed == [tmp_path / "ws"]
    assert shell._opened == []
