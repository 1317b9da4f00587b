"""`pcnkit funding outcomes`: an outcome scheme applied to an area, as a table, CSV or JSON,
and bad scheme or values files refused with exit code 2 and the file, key or row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import load
from pcnkit.assurance.observations import ObservationBatch, ObservationRecord
from pcnkit.assurance.store import store_batches
from pcnkit.cli import app
from pcnkit.dates import Period
from pcnkit.demo import demo_data
from pcnkit.store.db import open_workspace

runner = CliRunner()

REGISTRY = """\
pcnkit: definitions
publisher: test
as_of: 2024-01-01
organisations:
  - {code: A00001, kind: practice, name: Alpha Surgery}
  - {code: A00002, kind: practice, name: Beta Surgery}
  - code: U00001
    kind: pcn
    name: North PCN
    members:
      - {code: A00001, from: 2023-01-01}
      - {code: A00002, from: 2023-01-01}
"""
SCHEME = """\
pcnkit: outcome-scheme
name: Test scheme
source: Developing primary care in Barnet (2012)
period: {start: 2024-04-01, end: 2025-03-31}
sign_up: {basis: registered, rate: "1.50", status: C, source: the agreement}
collective:
  basis: registered
  rate: "2"
  status: U
  source: the agreement
  targets:
    - {indicator: telephony_answered, at_least: "60", share: "0.5", status: C, source: agreed}
    - {indicator: frail_admissions, at_most: "20", share: "0.5", status: C, source: agreed}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A workspace: two practices (1,000 and 9,000 patients) in North PCN, whose calls were
    answered 220 times in 400 (55%) in February 2025."""
    base = tmp_path_factory.mktemp("outcomes")
    (base / "defs.yaml").write_text(REGISTRY)
    (base / "lists.csv").write_text(
        "practice_code,as_of,registered\nA00001,2024-01-15,1000\nA00002,2024-01-15,9000\n"
    )
    ws = open_workspace(base / "ws")
    try:
        load(ws, base / "defs.yaml", base / "lists.csv")
        feb = Period(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
        batch = ObservationBatch(
            "telephony.csv",
            "test",
            "cloud-telephony",
            "Cloud Based Telephony data in General Practice",
            "c" * 64,
            feb.start,
            "NHS England",
        )
        for code, inbound, answered in (("A00001", 100, 70), ("A00002", 300, 150)):
            batch.observations += [
                ObservationRecord(code, "practice", "inbound", feb, D(inbound), row=2),
                ObservationRecord(code, "practice", "answered", feb, D(answered), row=2),
            ]
        batch.rows = len(batch.observations)
        with ws.transaction() as session:
            store_batches(session, [batch])
    finally:
        ws.dispose()
    (base / "scheme.yaml").write_text(SCHEME)
    (base / "values.csv").write_text(
        "org_code,indicator,period_end,value\nU00001,frail_admissions,2025-03-31,18.5\n"
    )
    return base


def outcomes(folder: Path, *args):
    return runner.invoke(
        app,
        [
            "funding",
            "outcomes",
            "--area",
            "U00001",
            "--as-of",
            "2025-03-31",
            "-w",
            str(folder / "ws"),
            *[str(a) for a in args],
        ],
    )


def test_the_table_shows_each_payment_its_working_and_the_total(folder):
    result = outcomes(folder, "--scheme", folder / "scheme.yaml", "--values", folder / "values.csv")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "£1,500.00" in out and "£13,500.00" in out and "£10,000.00" in out
    assert "Calls answered 55%, February 2025 (at least 60%): not met, short by 5" in out
    assert "Total: £25,000.00" in out
    assert "Figures not confirmed: Collective outcome payment rate" in out


def test_csv_gives_every_line_with_its_formula_and_reasons(folder):
    result = outcomes(
        folder,
        "--scheme",
        folder / "scheme.yaml",
        "--values",
        folder / "values.csv",
        "--format",
        "csv",
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    collective = next(r for r in rows if r["payment"] == "collective")
    assert collective["amount"] == "10000.00" and collective["share"] == "0.5"
    assert collective["reason"] == "part released: not met for Calls answered"
    assert "not met, short by 5 percentage points" in collective["targets"]
    assert "values.csv, row 2" in collective["targets"]
    assert collective["confirmed"] == "False" and collective["status"] == "U"


def test_json_without_the_values_says_the_collective_payment_cannot_be_calculated(folder):
    result = outcomes(folder, "--scheme", folder / "scheme.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    collective = next(x for x in data["lines"] if x["payment"] == "collective")
    assert collective["amount"] is None
    assert collective["reason"].startswith(
        "cannot be calculated: frail_admissions has no value for North PCN (U00001) in "
        "1 April 2024 to 31 March 2025"
    )
    assert data["total"] == "15000.00" and data["incomplete"]


def test_the_example_scheme_runs_and_reports_against_seed_001s_budget(folder):
    example = demo_data() / "funding" / "outcomes-barnet-model-2025-26.yaml"
    result = outcomes(folder, "--scheme", example, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["budget"].startswith(
        "Scheme budget £2,900,000.00 for 2012/13 in Barnet (of £11,700,000.00 over three years"
    )
    # the example's figures have no assurance values here: not calculable, never £0
    collective = next(x for x in data["lines"] if x["payment"] == "collective")
    assert collective["amount"] is None and "has no value" in collective["reason"]


@pytest.mark.parametrize(
    "text, expected",
    [
        (SCHEME.replace('rate: "2"', "rate: 2.5"), "column 'scheme.collective.rate'"),
        (SCHEME.replace("source: agreed}\n", "source: agreed, share: 1}\n", 1), "share"),
        (SCHEME.replace("pcnkit: outcome-scheme\n", ""), "pcnkit: outcome-scheme"),
    ],
)
def test_a_bad_scheme_exits_2_naming_the_file_and_key(folder, tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = outcomes(folder, "--scheme", path)
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "bad.yaml" in out and expected in out


def test_a_bad_values_file_exits_2_naming_the_row(folder, tmp_path):
    path = tmp_path / "values.csv"
    path.write_text("org_code,indicator,period_end,value\nU00001,frail_admissions,2025-03-31,x\n")
    result = outcomes(folder, "--scheme", folder / "scheme.yaml", "--values", path)
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "values.csv, row 2, column 'value'" in out
