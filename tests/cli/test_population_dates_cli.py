"""Issue 10 item 3 on the command line: `population pack` and `population cohort` answer as at
the population's extract date by default, and say so when --as-of chooses another date."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pcnkit.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("popdates") / "demo"
    result = invoke("demo", "-w", folder, "--patients", 3000, "--no-serve")
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize(
    "args",
    [
        ("pack", "--pcn", "U00367", "--format", "json"),
        ("cohort", "smr", "--pcn", "U00367", "--format", "json"),
    ],
)
def test_another_date_is_named_as_not_the_data_date(demo, args):
    plain = invoke("population", *args, "-w", demo)
    assert plain.exit_code == 0, plain.output
    assert "warning" not in plain.output
    other = invoke("population", *args, "--as-of", "2025-08-01", "-w", demo)
    assert other.exit_code == 0, other.output
    assert "the patients are as at 2020-01-01" in other.output
    assert "--as-of 2025-08-01" in other.output
