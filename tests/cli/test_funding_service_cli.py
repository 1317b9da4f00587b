"""`pcnkit funding iif` and `pcnkit funding obligations` on the BHR demo workspace."""

import json

import pytest
from typer.testing import CliRunner

from pcnkit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("service") / "demo"
    result = runner.invoke(app, ["demo", "-w", str(folder), "--no-population", "--no-serve"])
    assert result.exit_code == 0
    return folder


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_iif_table_with_key_and_estimate_label(ws):
    out = invoke(
        "funding",
        "iif",
        "U00367",
        "--year",
        "2021/22",
        "--achievement",
        "VI-01=83",
        "--denominator",
        "VI-01=6000",
        "-w",
        ws,
    )
    assert out.exit_code == 0, out.output
    text = out.output
    assert "VI-01" in text and "VI-02" in text and "180" in text  # patients needed
    assert "ESTIMATE" in text and "Status key" in text and "Total at stake" in text
    assert "unconfirmed" in text


def test_iif_json_with_a_given_average_is_no_estimate(ws):
    out = invoke(
        "funding",
        "iif",
        "U00367",
        "--year",
        "2021/22",
        "--average-list",
        "50000",
        "--format",
        "json",
        "-w",
        ws,
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert "given by the user" in doc["list_size_adjustment"]
    vi01 = next(r for r in doc["indicators"] if r["indicator"] == "VI-01")
    assert vi01["at_stake"] is not None and vi01["status"] == "S"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--achievement", "XX-01=50"], "no IIF indicator XX-01"),
        (["--achievement", "VI-01"], "is not indicator=value"),
        (["--denominator", "VI-01=1.5"], "not a whole number"),
        (["--average-list", "lots"], "not a number"),
    ],
)
def test_iif_bad_input_exits_2(ws, args, message):
    out = invoke("funding", "iif", "U00367", "--year", "2021/22", "-w", ws, *args)
    assert out.exit_code == 2 and message in out.output


def test_obligations_by_month_across_the_october_2022_change(ws):
    sept = invoke("funding", "obligations", "--year", "2022/23", "--month", "2022-09", "-w", ws)
    octo = invoke("funding", "obligations", "--year", "2022/23", "--month", "2022-10", "-w", ws)
    assert sept.exit_code == 0 and octo.exit_code == 0, sept.output + octo.output
    assert "Extended hours access" in sept.output and "Enhanced access" not in sept.output
    assert "pcnkit's assumption" in octo.output
    rows = invoke(
        "funding",
        "obligations",
        "--year",
        "2022/23",
        "--month",
        "2022-10",
        "--format",
        "csv",
        "-w",
        ws,
    ).output
    # 2022/23 states an estimate of the adjusted population (as the entitlement lines use it)
    assert "PCN adjusted population ESTIMATED as registered list x 1.006" in rows
    assert all(",0," not in line for line in rows.splitlines()[1:])  # never zero minutes
    bad = invoke("funding", "obligations", "--year", "2022/23", "--month", "2023-05", "-w", ws)
    assert bad.exit_code == 2
