"""`pcnkit funding ...` end to end on the BHR demo workspace, including bad input."""

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from pcnkit.cli import app

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "funding"
REQUIRED = {
    "pcn_code",
    "pcn_name",
    "payee_code",
    "stream",
    "basis",
    "population",
    "rate",
    "months",
    "amount",
    "rule_id",
    "rule_version",
    "confirmed",
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("funding") / "demo"
    assert (
        runner.invoke(app, ["demo", "-w", str(folder), "--no-population", "--no-serve"]).exit_code
        == 0
    )
    return folder


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def bhr(command, ws, *args):
    """`pcnkit funding <command>` for 2019/20 and the BHR area of the workspace."""
    return invoke("funding", command, "--year", "2019/20", "--area", "BHR", "-w", ws, *args)


def ledger_rows(ws):
    with sqlite3.connect(ws / "pcnkit.db") as db:
        return db.execute("select count(*) from payment_line").fetchone()[0]


def test_demo_shows_the_bhr_funding(ws):
    out = invoke("demo", "-w", ws, "--no-population", "--no-serve").output
    assert "Network Contract DES 2019/20: what the BHR PCNs are owed" in out
    assert "Havering" in out and "Extended hours access (not confirmed: no source found)" in out


def test_entitlements_csv_has_the_promised_columns(ws):
    out = bhr("entitlements", ws, "--format", "csv").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert set(rows[0]) >= REQUIRED
    core = [r for r in rows if r["pcn_code"] == "U51307" and r["stream"] == "core_pcn_funding"]
    assert core[0]["amount"] == "74211.00" and core[0]["rule_id"] == "2019/20/core_pcn_funding"
    assert {r["confirmed"] for r in rows if r["stream"] == "extended_hours"} == {"False"}


def test_entitlements_xlsx_formats_money_as_money(ws, tmp_path):
    target = tmp_path / "e.xlsx"
    result = bhr("entitlements", ws, "--format", "xlsx", "--output", target)
    assert result.exit_code == 0, result.output
    book = load_workbook(target)
    assert book.active.title == "About"  # the workbook opens on its cover sheet
    sheet = book.worksheets[1]
    header = [c.value for c in sheet[1]]
    amount = sheet.cell(row=2, column=header.index("amount") + 1)
    assert isinstance(amount.value, float) and "£" in amount.number_format


def test_schedule_json_and_scenario_difference(ws):
    out = bhr("schedule", ws, "--payee", "U51307", "--format", "json").output
    payments = json.loads(out)["payments"]
    assert payments[0]["payment_month"] == "2019-07"
    table = bhr("entitlements", ws, "--scenario", FIXTURES / "havering-paper-2019-20.yaml").output
    assert "scenario: Havering paper, July 2019" in table
    assert "differs from the official rules by" in table


def test_a_run_is_written_once(ws):
    """The demo has paid 2019/20 to June 2020: paying June again writes nothing, and July is
    refused (it used to append a claw-back of every payment since, issue 10 item 8)."""
    before = ledger_rows(ws)
    again = bhr("run", ws, "--month", "2020-06")
    assert again.exit_code == 0 and "Nothing to pay" in again.output
    july = bhr("run", ws, "--month", "2019-07")
    assert july.exit_code == 2 and "earlier than the latest month paid" in july.output
    assert ledger_rows(ws) == before


def test_allocate_reproduces_nw_london(tmp_path):
    recipients = tmp_path / "ccgs.csv"
    recipients.write_text(
        "code,name,weighted\nBRE,Brent,352645\nCLO,Central London,211494\nEAL,Ealing,395282\n"
        "HF,Hammersmith & Fulham,201477\nHAR,Harrow,235622\nHIL,Hillingdon,293953\n"
        "HOU,Hounslow,296114\nWLO,West London,232712\n"
    )
    out = invoke(
        "funding",
        "allocate",
        "--recipients",
        recipients,
        "--method",
        "weighted",
        "--pot",
        "2448000",
        "--top-slice",
        "Population health=15%",
        "--top-slice",
        "Once for NW London=5%",
        "--unit",
        "100",
        "--format",
        "csv",
    ).output
    rows = {r["code"] or r["name"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["BRE"]["share"] == "311200.00" and rows["WLO"]["share"] == "205400.00"
    assert rows["Population health"]["share"] == "367200.00"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--pot", "1000", "--top-slice", "a=120%"], "--top-slice: top-slice 'a' is 120%"),
        (["--pot", "1000", "--rate", "3"], "--rate: a rate is only used by the per_head"),
        (["--pot", "1000", "--unit", "0.001"], "--unit: the rounding unit 0.001 is finer"),
        (["--pot", "1000", "--residual", "nearest"], "--residual: 'nearest' is not a residual"),
        (["--pot", "-1"], "--pot: the pot -1 is negative"),
    ],
)
def test_allocate_errors_name_the_option(tmp_path, args, words):
    """The library names its arguments (top_slices, rate...); the CLI words them as options."""
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("code,name,registered\nA,Alpha,1000\nB,Beta,2000\n")
    result = invoke(
        "funding", "allocate", "--recipients", recipients, "--method", "registered", *args
    )
    assert result.exit_code == 2
    assert words in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["entitlements", "--year", "2018/19"], ["no funding rules for 2018/19", "2019/20"]),
        (
            ["entitlements", "--year", "2019/20", "--lists", "{no_registered}"],
            ["no column 'registered'"],
        ),
        (
            ["entitlements", "--year", "2019/20", "--lists", "{negative}"],
            ["row 2", "registered", "not a valid number of patients"],
        ),
        (
            ["entitlements", "--year", "2019/20", "--lists", "{blank}"],
            ["row 2", "weighted", "is blank"],
        ),
        (
            ["entitlements", "--year", "2019/20", "--lists", "{unknown_pcn}"],
            ["row 2", "PCN U99999 is not in the registry"],
        ),
        (
            ["run", "--year", "2019/20", "--month", "2021-01", "--area", "BHR"],
            ["2021-01 is not a payment month of 2019/20"],
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(ws, tmp_path, args, words):
    files = {
        "no_registered": "pcn_code,weighted\nU51307,42502\n",
        "negative": "pcn_code,registered,weighted\nU51307,-5,42502\n",
        "blank": "pcn_code,registered,weighted\nU51307,49477,\n",
        "unknown_pcn": "pcn_code,registered,weighted\nU99999,49477,42502\n",
    }
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    args = [a.format(**{k: tmp_path / f"{k}.csv" for k in files}) for a in args]
    before = ledger_rows(ws)
    result = invoke("funding", *args, "-w", ws)
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output
    assert ledger_rows(ws) == before


def test_allocate_table_shows_shares_as_money(tmp_path):
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("code,name,registered\nA,Alpha,1000\nB,Beta,2000\n")
    args = ["--recipients", recipients, "--method", "registered", "--pot", "1000000"]
    result = invoke("funding", "allocate", *args, "--top-slice", "X=50%")
    assert result.exit_code == 0, result.output
    assert "£166,666.67" in result.output and "£500,000.00" in result.output
    assert "166666.67" not in result.output
