"""Attacks replayed against the merged build (issue 10), each one that got through once.

1. A name holding a carriage return (`"\\r=2+2"`, `"x\\r=HYPERLINK(...)"`): the CSV writer ends
   its lines with "\\n" and quoted only fields holding "\\n", so a lone "\\r" was written bare;
   Excel and LibreOffice end the row there and read the rest ("=2+2,...") as a new row whose
   first cell is a live formula.
"""

from __future__ import annotations

import csv
import io

from pcnkit.spreadsheet import FORMULA_START, SafeWriter, csv_download


def _cells_as_a_spreadsheet_reads_them(text: str) -> list[str]:
    """Every cell, with a bare carriage return ending a row as Excel does (newline="")."""
    return [v for row in csv.reader(io.StringIO(text, newline="")) for v in row]


def test_csv_carriage_return_in_a_name_cannot_start_a_row_with_a_formula() -> None:
    names = ["\r=2+2", "Surgery\r=HYPERLINK(\"http://x\")", "a\r\n@SUM(1)", "plain"]
    data = csv_download(["code", "name", "amount"], [
        {"code": f"F{i}", "name": n, "amount": -12} for i, n in enumerate(names)
    ])
    text = data.decode("utf-8").lstrip("\ufeff")
    assert "\r" not in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + len(names)  # no row split by a carriage return
    for value in _cells_as_a_spreadsheet_reads_them(text):
        assert not value.startswith(FORMULA_START) or value == "-12", value
    assert [r[2] for r in rows[1:]] == ["-12"] * len(names)  # numbers stay numbers
    assert rows[1][1] == "'\n=2+2"


def test_safe_writer_quotes_every_line_break() -> None:
    out = io.StringIO()
    SafeWriter(out).writerow(["x\r=1+1", 3])
    assert out.getvalue() == '"x\n=1+1",3\n'


# 2. A list size written with a thousands comma and no quotes: `U00367,F82002,1,000,6000`
#    has one field more than the header, every value moves one column along, and the run paid
#    the practice for 1 patient (weighted 0) with exit 0 and nothing said.


def test_lists_row_with_an_unquoted_thousands_comma_is_a_located_error(tmp_path) -> None:
    import datetime as dt

    import pytest

    from pcnkit.errors import InputError
    from pcnkit.funding.populations import from_csv

    path = tmp_path / "lists.csv"
    path.write_text(
        "pcn_code,practice_code,registered,weighted\n"
        "U00367,F82002,1,000,6000\n"
        "U00367,F82006,5000,5000\n"
    )
    with pytest.raises(InputError) as caught:
        from_csv(path, dt.date(2020, 4, 1), dt.date(2020, 1, 1))
    message = str(caught.value)
    assert "row 2" in message and "thousands comma" in message
    # a trailing empty field (a spreadsheet's export) is still read
    path.write_text("pcn_code,practice_code,registered,weighted\nU00367,F82002,6000,6000,\n")
    pops = from_csv(path, dt.date(2020, 4, 1), dt.date(2020, 1, 1))
    assert pops.practices["F82002"].values["registered"] == 6000


def test_funding_run_refuses_the_shifted_row_and_stores_nothing(tmp_path) -> None:
    from typer.testing import CliRunner

    from pcnkit.cli import app

    lists = tmp_path / "lists.csv"
    lists.write_text("pcn_code,registered,weighted\nU00367,64,669,60000\n")
    result = CliRunner().invoke(
        app,
        ["funding", "entitlements", "--year", "2020/21", "--lists", str(lists), "-w",
         str(tmp_path / "ws")],
    )
    assert result.exit_code == 2, result.output
    assert "row 2" in result.output
