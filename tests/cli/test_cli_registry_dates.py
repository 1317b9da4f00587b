"""`pcnkit registry show / check / find` for issue 10 items 15, 16, 19, 20 and 22: empty states,
merger dates, whole patients with their source, findings by outcome and PCN, plain names."""

from __future__ import annotations

import csv
import io
import re

import pytest
from typer.testing import CliRunner

from pcnkit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-dates") / "demo"
    result = runner.invoke(
        app, ["demo", "-w", str(folder), "--no-population", "--no-serve", "--as-of", "2019-12-01"]
    )
    assert result.exit_code == 0, result.output
    return folder, result.output


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), terminal_width=200)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_show_says_when_a_pcn_did_not_exist_and_dates_members_from_july_2019(ws):
    folder, _ = ws
    before = _run("registry", "show", "U00367", "--as-of", "2019-06-01", "-w", str(folder))
    assert (
        "This PCN did not exist on 1 June 2019: the earliest the data shows it is 1 July 2019."
        in before
    )
    august = _run("registry", "show", "U00367", "--as-of", "2019-08-01", "-w", str(folder))
    assert "17 members on 2019-08-01" in august
    assert "began 2019-07-01 (recorded open date 2019-10-01)" in august


def test_show_gives_whole_patients_one_ccg_merger_date_and_no_file_names(ws):
    folder, _ = ws
    pcn = _run("registry", "show", "U00367", "--as-of", "2020-01-01", "-w", str(folder))
    assert "registered patients 109,782 in 17 open practices" in pcn
    assert "mixed sources:" in pcn and not re.search(r"\d,\d{3}\.\d", pcn)
    assert "NHS HAVERING CCG (08F) from 2019-07-01 to 2021-03-31" in pcn
    assert "(A3A8R) from 2021-04-01 to now" in pcn
    practice = _run("registry", "show", "F82002", "--as-of", "2020-01-01", "-w", str(folder))
    assert "NHS HAVERING CCG (08F) from 2013-04-01 to 2021-03-31" in practice
    assert "(A3A8R) from 2021-04-01 to now" in practice
    for out in (pcn, practice):
        assert not re.search(r"\w+\.(csv|xlsx|yaml)\b", out)
    ics = _run("registry", "show", "QMF", "--as-of", "2020-01-01", "-w", str(folder))
    assert "A3A8R" not in ics.split("members on 2020-01-01")[1]


def test_check_puts_the_breach_first_and_names_checks_plainly(ws):
    folder, demo_output = ws
    assert "1 rule breached (PCN list size 1); 26 not recorded" in " ".join(demo_output.split())
    args = ["registry", "check", "--area", "BHR", "--as-of", "2019-12-01", "-w", str(folder)]
    table = _run(*args)
    assert (
        "Findings: 1 rule breached (PCN list size 1); 26 not recorded (Clinical director 11, "
        "Nominated payee 15); 6 to review" in table
    )
    # grouped by PCN, the breach's PCN first
    assert table.index("BARKING & DAGENHAM EAST PCN (U86966) ┏") < table.index(
        "FAIRLOP PCN (U03653) ┏"
    )
    assert "clinical_director" not in table and "nominated_payee" not in table
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, [*args, "--format", "csv"]).output)))
    assert rows[0]["outcome"] == "breach" and rows[0]["check_name"] == "PCN list size"
    assert rows[0]["pcn_name"] == "BARKING & DAGENHAM EAST PCN"


def test_find_shows_kinds_in_words(ws):
    folder, _ = ws
    out = _run("registry", "find", "havering", "-w", str(folder))
    assert "sub_icb" not in out and "sub-ICB location" in out


def test_rebuild_re_derives_an_older_workspace(ws):
    """A workspace loaded before these rules (evidence naming files, ODS dates) is brought up to
    date by `pcnkit registry rebuild`, without reloading anything."""
    import sqlite3

    folder, _ = ws
    db = sqlite3.connect(folder / "pcnkit.db")
    with db:
        db.execute("UPDATE membership SET basis = 'ePCN_2019-12_psychty.xlsx row 11'")
        db.execute("UPDATE membership SET start = '2019-10-01' WHERE start = '2019-07-01'")
    db.close()
    stale = _run("registry", "show", "U00367", "--as-of", "2019-08-01", "-w", str(folder))
    assert ".xlsx" in stale and "17 members" not in stale
    assert "memberships re-derived" in _run("registry", "rebuild", "-w", str(folder))
    fresh = _run("registry", "show", "U00367", "--as-of", "2019-08-01", "-w", str(folder))
    assert ".xlsx" not in fresh and "17 members on 2019-08-01" in fresh
