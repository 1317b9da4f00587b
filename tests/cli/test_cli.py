"""The `pcnkit` command end to end on the shipped demo extract."""

import csv
import datetime as dt
import io
import json

import pytest
from typer.testing import CliRunner

from pcnkit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "demo"
    result = runner.invoke(app, ["demo", "-w", str(folder), "--patients", "12000", "--no-serve"])
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_demo_shows_the_bhr_tree(demo_ws):
    _, output = demo_ws
    assert "Barking & Dagenham, Havering and Redbridge (BHR, grouping)" in output
    assert "HAVERING SOUTH PCN (U00367, PCN): 17 practices" in output
    assert output.count(", PCN)") == 15
    assert "Configuration check as at 2019-12-01" in output


def test_demo_rebuilds_its_own_workspace_but_refuses_another_folder(demo_ws, tmp_path):
    folder, _ = demo_ws
    assert (
        runner.invoke(
            app, ["demo", "-w", str(folder), "--patients", "12000", "--no-serve"]
        ).exit_code
        == 0
    )
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    result = runner.invoke(app, ["demo", "-w", str(other), "--no-population", "--no-serve"])
    assert result.exit_code != 0
    assert "not a demo workspace" in result.output
    assert (other / "notes.txt").read_text() == "keep me"


def test_check_as_json_and_csv(demo_ws):
    folder, _ = demo_ws
    args = ["registry", "check", "--area", "BHR", "--as-of", "2019-12-01", "-w", str(folder)]
    data = json.loads(runner.invoke(app, [*args, "--format", "json"]).output)
    assert data["as_of"] == "2019-12-01" and len(data["pcns"]) == 15
    assert data["counts"]["breach"] == sum(1 for f in data["findings"] if f["outcome"] == "breach")
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, [*args, "--format", "csv"]).output)))
    assert {"outcome", "check", "check_name", "code", "text"} <= set(rows[0])
    assert len(rows) == len(data["findings"])
    table = runner.invoke(app, [*args, "--check", "list_size"]).output
    assert "U86966" in table and "Nominated payee" not in table


def test_show_says_where_each_answer_came_from(demo_ws):
    folder, _ = demo_ws
    out = runner.invoke(
        app, ["registry", "show", "F82614", "--as-of", "2020-01-01", "-w", str(folder)]
    ).output
    # ODS dates the membership 1 October 2019; the Havering paper (July 2019) from the DES start.
    assert "HAVERING SOUTH PCN (U00367) from 2019-07-01 to 2020-03-31" in out
    assert "evidence: Local definitions, pcnkit demo (from BHR committee papers, 2019)" in out
    assert "NHS Digital, NHS Payments to General Practice 2019/20, row 43" in out
    assert "(ePCN), May 2022" in out and ".xlsx" not in out and ".csv" not in out
    # Mungo Park closed before QOF 2019/20 was counted: its patients are the last count (QOF
    # 1 January 2019), not the payments file's fractional quarter average.
    assert "registered patients 3,1" in out and "list sizes at 1 January 2019" in out
    pcn = runner.invoke(
        app, ["registry", "show", "U00367", "--as-of", "2019-12-01", "-w", str(folder)]
    ).output
    assert "clinical director: Dr J O'Moore" in pcn and "17 members" in pcn


def test_local_lists_add_an_adjusted_population(demo_ws, tmp_path):
    folder, _ = demo_ws
    lists = tmp_path / "lists.csv"
    lists.write_text("practice_code,as_of,registered,adjusted\nF82008,2019-01-01,14549,15012.4\n")
    result = runner.invoke(app, ["registry", "load", str(lists), "-w", str(folder)])
    assert result.exit_code == 0, result.output
    out = runner.invoke(
        app, ["registry", "show", "F82008", "--as-of", "2019-06-01", "-w", str(folder)]
    ).output
    assert "adjusted list 15,012.40 as at 2019-01-01 (List sizes supplied locally" in out
    assert "row 2)" in out and "lists.csv" not in out
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("practice_code,as_of,registered\nZZ9999,2019-01-01,100\n")
    result = runner.invoke(app, ["registry", "load", str(unknown), "-w", str(folder)])
    assert result.exit_code == 2 and "ZZ9999" in result.output and "row 2" in result.output


def test_pcnkit_home_is_the_default_workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("PCNKIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PCNKIT_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["registry", "find", "anything"])
    assert result.exit_code == 0
    assert (tmp_path / "home" / "pcnkit.db").exists()


def test_demo_prints_its_logins_and_they_work(tmp_path):
    from pcnkit.access.users import authenticate
    from pcnkit.store import open_workspace

    folder = tmp_path / "demo"
    output = runner.invoke(app, ["demo", "-w", str(folder), "--no-population", "--no-serve"]).output
    lines = (folder / "demo-logins.txt").read_text().splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "nel.icb",
        "havering.place",
        "havering.south",
        "haiderian.practice",
    ]
    ws = open_workspace(folder)
    for line in lines:
        username, password, role, scope, _ = line.split("\t")
        assert password in output
        with ws.transaction() as session:
            user = authenticate(session, username, password, dt.datetime.now())
        assert (user.role, user.scope_code) == (role, scope)
    ws.dispose()
