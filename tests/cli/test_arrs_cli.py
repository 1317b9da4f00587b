"""`pcnkit funding arrs` for every PCN (with or without a staff roster) and `pcnkit funding
arrs-utilisation`, on the BHR demo workspace. The actual payments come from
`pcnkit.funding.actuals.paid`, replaced here by made-up figures (or taken away)."""

from __future__ import annotations

import csv
import io
import json
import sys
import types
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from pcnkit.cli import app

runner = CliRunner()
SOUTH, CRANBROOK, WEST = "U00367", "U51307", "U11211"  # Havering South, Cranbrook, B&D West
ROSTER = "pcn_code,role,wte,start,end,annual_cost,name,planned\n"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("arrs") / "demo"
    done = runner.invoke(app, ["demo", "-w", str(folder), "--no-population", "--no-serve"])
    assert done.exit_code == 0, done.output
    return folder


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def arrs_csv(ws, *args) -> list[dict]:
    result = invoke(
        "funding", "arrs", "--year", "2019/20", "--area", "BHR", "-w", ws, "--format", "csv", *args
    )
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def test_without_a_roster_every_pcn_has_its_whole_budget_as_headroom(ws):
    rows = arrs_csv(ws)
    assert len(rows) == 15
    for r in rows:
        assert r["headroom"] == r["budget"] and r["claimable"] == "0.00"
        assert r["staff"] == "no staff recorded"
    south = next(r for r in rows if r["pcn_code"] == SOUTH)
    assert south["budget"] == "107884.50"  # over 100,000 patients: two of each role
    assert next(r for r in rows if r["pcn_code"] == CRANBROOK)["budget"] == "53942.25"
    table = " ".join(
        invoke("funding", "arrs", "--year", "2019/20", "--area", "BHR", "-w", ws).output.split()
    )
    assert "15 of 15 PCNs with no staff recorded" in table
    assert "this does not say no staff are in post" in table


def test_a_header_only_roster_is_accepted(ws, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(ROSTER)
    result = invoke(
        "funding", "arrs", "--year", "2019/20", "--area", "BHR", "-w", ws, "--staff", path,
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["staff"] == [] and len(data["pcns"]) == 15
    assert all(p["headroom"] == p["budget"] for p in data["pcns"])


def test_pcns_with_staff_keep_their_claims_and_the_rest_appear(ws, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(
        ROSTER
        + f"{SOUTH},social_prescribing_link_worker,1.0,2019-07-01,,34113,a,no\n"
        + f"{SOUTH},clinical_pharmacist,1.0,2019-07-01,,91868,b,no\n"
        + "U99999,clinical_pharmacist,1.0,2019-07-01,,91868,elsewhere,no\n"
    )
    result = invoke(
        "funding", "arrs", "--year", "2019/20", "--area", "BHR", "-w", ws, "--staff", path,
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    pcns = {p["pcn_code"]: p for p in json.loads(result.output)["pcns"]}
    assert len(pcns) == 15 and "U99999" not in pcns  # outside BHR: not counted here
    # one of each role, 9 months: £25,584.75 + £28,357.50 of a £107,884.50 budget
    assert Decimal(pcns[SOUTH]["claimable"]) == Decimal("53942.25")
    assert Decimal(pcns[SOUTH]["headroom"]) == Decimal("53942.25")
    assert pcns[SOUTH]["staff"] == "2 posts recorded"
    assert pcns[CRANBROOK]["staff"] == "no staff recorded"
    assert pcns[CRANBROOK]["headroom"] == pcns[CRANBROOK]["budget"]
    table = " ".join(
        invoke(
            "funding", "arrs", "--year", "2019/20", "--area", "BHR", "-w", ws, "--staff", path
        ).output.split()
    )
    assert "1 roster row(s) name PCNs outside BHR" in table


@pytest.fixture
def actuals(monkeypatch):
    """Made-up PCN Workforce payments in place of the actual-payments import."""
    calls = []

    def paid(session, year, column="PCN Workforce", area=None):
        calls.append((year, column, area))
        return {SOUTH: Decimal("80913.38"), CRANBROOK: None, WEST: Decimal("60000")}

    module = types.ModuleType("pcnkit.funding.actuals")
    module.paid = paid
    monkeypatch.setitem(sys.modules, "pcnkit.funding.actuals", module)
    return calls


def utilisation_csv(ws, *args) -> tuple[list[dict], str]:
    args = ("funding", "arrs-utilisation", "--year", "2019/20", "--area", "BHR", "-w", ws, *args)
    result = invoke(*args, "--format", "csv")
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output))), " ".join(invoke(*args).output.split())


def test_utilisation_per_pcn_and_for_the_area(ws, actuals, shared_data):
    census = shared_data / "workforce" / "pcn_workforce_individual_2020-03.csv"
    rows, table = utilisation_csv(ws, "--census", census)
    assert actuals == [("2019/20", "PCN Workforce", "BHR")] * 2
    by = {r["pcn_code"]: r for r in rows}
    assert len(by) == 15
    south = by[SOUTH]
    assert (south["budget"], south["paid"], south["used"]) == ("107884.50", "80913.38", "0.7500")
    assert south["unclaimed"] == "26971.12" and south["ics"] == "QMF"
    assert by[WEST]["over_claimed"] == "6057.75" and by[WEST]["unclaimed"] == "0.00"
    assert by[CRANBROOK]["used"] == "" and "paid outside GP practices" in by[CRANBROOK]["reason"]
    assert by[CRANBROOK]["budget"] == "53942.25"
    assert "no actual payment recorded" in by["U20290"]["reason"]
    assert "All PCNs of BHR: 2 PCNs counted, used 87.08% of £161,826.75" in table
    assert "£26,971.12 left unclaimed" in table
    assert "actual payment not known: 1; no actual payment recorded: 12" in table
    assert "roles in post as at 31 March 2020, in 2019/20" in table


def test_without_actual_payments_it_says_so(ws, monkeypatch):
    monkeypatch.setitem(sys.modules, "pcnkit.funding.actuals", None)  # import fails
    result = invoke("funding", "arrs-utilisation", "--year", "2020/21", "-w", ws)
    assert result.exit_code == 2
    assert "actual payments are not loaded" in result.output


def test_an_empty_year_of_actuals_says_so(ws, monkeypatch):
    module = types.ModuleType("pcnkit.funding.actuals")
    module.paid = lambda session, year, column="PCN Workforce", area=None: {}
    monkeypatch.setitem(sys.modules, "pcnkit.funding.actuals", module)
    result = invoke("funding", "arrs-utilisation", "--year", "2020/21", "-w", ws)
    assert result.exit_code == 2
    assert "actual payments are not loaded for 2020/21" in " ".join(result.output.split())


def test_a_bad_census_row_is_located(ws, actuals, tmp_path, shared_data):
    real = shared_data / "workforce" / "pcn_workforce_individual_2020-03.csv"
    lines = real.read_text(encoding="cp1252").splitlines()
    lines[3] = lines[3].replace(",0.48,", ",lots,")
    bad = tmp_path / "census.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="cp1252")
    result = invoke("funding", "arrs-utilisation", "--year", "2019/20", "-w", ws, "--census", bad)
    assert result.exit_code == 2
    assert "census.csv, row 4, column 'FTE'" in " ".join(result.output.split())
