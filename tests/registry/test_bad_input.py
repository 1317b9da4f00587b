"""Bad input through `pcnkit registry load`: each is refused with a message naming the file, the
row and the column, and the workspace is left exactly as it was (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rich.console import Console
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from conftest import load
from pcnkit import cli
from pcnkit.cli import registry, shell
from pcnkit.errors import InputError
from pcnkit.registry.importers import parse_file

GP_REG = "gp-reg-pat-prac-all_2021-01.csv"


@pytest.fixture(scope="session")
def reg(fixtures) -> Path:
    return fixtures / "registry"


@pytest.fixture
def run(workspace, monkeypatch):
    """Run `pcnkit registry load ARGS -w WORKSPACE` on the workspace's database; the consoles are
    made wide so that long temporary paths are not wrapped in the middle."""
    monkeypatch.setattr(registry, "console", Console(width=10_000, no_color=True))
    monkeypatch.setattr(shell, "err", Console(stderr=True, width=10_000, no_color=True))
    runner = CliRunner()

    def invoke(*args):
        argv = ["registry", "load", *map(str, args), "-w", str(workspace.path)]
        return runner.invoke(cli.app, argv, env={"PCNKIT_DATABASE_URL": workspace.url})

    return invoke


def snapshot(ws) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Every table's row count, and the contents of the registry tables."""
    with ws.engine.connect() as c:
        tables = sorted(inspect(c).get_table_names())
        counts = {t: c.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in tables}
        contents = {
            t: sorted(repr(tuple(row)) for row in c.execute(text(f'SELECT * FROM "{t}"')))
            for t in ("source_file", "organisation", "membership_fact", "membership", "list_size")
        }
    return counts, contents


def write_like(reg: Path, tmp_path: Path, name: str, change: Callable[[bytes], bytes]) -> Path:
    """A copy of a fixture, under the same name (dates come from names), changed."""
    path = tmp_path / name
    path.write_bytes(change((reg / name).read_bytes()))
    return path


def replace(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def change(raw: bytes) -> bytes:
        assert raw.count(old) == 1, old
        return raw.replace(old, new)

    return change


def edit_workbook(reg: Path, tmp_path: Path, name: str, change) -> Path:
    wb = load_workbook(reg / name)
    change(wb)
    path = tmp_path / name
    wb.save(path)
    return path


@dataclass
class Case:
    """A bad file; `says` are the pieces the message must hold besides the file's path."""

    make: Callable[[Path, Path], list[object]]
    says: list[str]


def _truncated_csv(reg, tmp):
    # cut in the middle of the last row's POSTCODE: SEX, AGE and NUMBER_OF_PATIENTS are missing
    return [write_like(reg, tmp, GP_REG, lambda raw: raw[: raw.index(b"RM3 9SU") + 3])]


def _truncated_quoted_csv(reg, tmp):
    # cut inside a quoted field of epraccur's last row (the CSV reader hits end of data)
    name = "epraccur_2019-11.csv"
    return [write_like(reg, tmp, name, lambda raw: raw[: raw.index(b'"HAVERING HEALTH') + 9])]


def _truncated_xlsx(reg, tmp):
    name = "ePCN_2019-12.xlsx"
    return [write_like(reg, tmp, name, lambda raw: raw[: len(raw) // 2])]


def _utf16(reg, tmp):
    return [write_like(reg, tmp, GP_REG, lambda raw: raw.decode("ascii").encode("utf-16"))]


def _wrong_type(reg, tmp):
    return [write_like(reg, tmp, GP_REG, lambda raw: raw), "--type", "epraccur"]


def _duplicate_practice(reg, tmp):
    row = b"GP_PRAC_PAT_LIST,01JAN2021,GP,08F,E38000077,F82031,RM7 0XR,ALL,ALL,4620\r\n"
    return [write_like(reg, tmp, GP_REG, lambda raw: raw + row)]


def _unknown_pcn(reg, tmp):
    def change(wb):
        assert wb["PCN Core Partner Details"]["A3"].value == "F82031"
        wb["PCN Core Partner Details"]["E3"] = "U99999"

    return [edit_workbook(reg, tmp, "ePCN_2019-12.xlsx", change)]


def _overlapping_periods(reg, tmp):
    def change(wb):
        partners = wb["PCN Core Partner Details"]
        assert [c.value for c in partners[6]][:5] == [
            "F82649", "BERWICK SURGERY", "A3A8R", "NHS NORTH EAST LONDON CCG", "U00367",
        ]  # fmt: skip
        # Berwick Surgery (still in U00367 from 2019, row 6) also in Havering Crest from 2021
        partners.append(["F82649", "BERWICK SURGERY", "A3A8R", "NHS NORTH EAST LONDON CCG",
                         "U29424", "HAVERING CREST PCN", "A3A8R", "NHS NORTH EAST LONDON CCG",
                         "20210401", None, True])  # fmt: skip

    return [edit_workbook(reg, tmp, "ePCN_2022-05.xlsx", change)]


def _negative_list(reg, tmp):
    return [write_like(reg, tmp, GP_REG, replace(b",ALL,ALL,4719\r\n", b",ALL,ALL,-4719\r\n"))]


def _non_numeric_list(reg, tmp):
    name = "nhs_payments_gp_18-19.csv"
    return [write_like(reg, tmp, name, replace(b",Urban,,4696,4672.28,", b",Urban,,n/a,4672.28,"))]


def _malformed_date(reg, tmp):
    name = "epraccur_2019-11.csv"
    return [write_like(reg, tmp, name, replace(b'"RM13 7XR","19851129"', b'"RM13 7XR","1985112"'))]


def _empty(reg, tmp):
    return [write_like(reg, tmp, GP_REG, lambda raw: b"")]


def _header_only(reg, tmp):
    return [write_like(reg, tmp, GP_REG, lambda raw: raw[: raw.index(b"\r\n") + 2])]


CASES = {
    "truncated csv": Case(_truncated_csv, ["row 6", "column 'SEX'", "truncated"]),
    # The reader cannot tell which field was cut, so the row is named but not the column.
    "truncated quoted csv": Case(_truncated_quoted_csv, ["row 8", "truncated"]),
    "truncated xlsx": Case(_truncated_xlsx, ["Excel workbook", "truncated"]),
    "utf-16": Case(_utf16, ["UTF-16"]),
    "wrong type": Case(
        _wrong_type,
        [
            "was expected to be ODS epraccur",
            "looks like Patients Registered at a GP Practice (totals)",
        ],
    ),
    "duplicate practice": Case(
        _duplicate_practice, ["row 7", "column 'CODE'", "F82031 appears twice (rows 3 and 7)"]
    ),
    "unknown pcn": Case(
        _unknown_pcn,
        [
            "[PCN Core Partner Details]",
            "row 3",
            "column 'PCN Code'",
            "F82031 is mapped to PCN U99999, which is not in the 'PCN Details' sheet",
        ],
    ),
    "overlapping periods": Case(
        _overlapping_periods,
        [
            "[PCN Core Partner Details]",
            "row 8",
            "column 'Practice to PCN Relationship Start Date'",
            "F82649",
            "U29424",
            "U00367 at row 6",
            "overlap",
        ],
    ),
    "negative list size": Case(
        _negative_list, ["row 4", "column 'NUMBER_OF_PATIENTS'", "-4719 is not a valid number"]
    ),
    "non-numeric list size": Case(
        _non_numeric_list,
        [
            "row 5",
            "column 'Number of Registered Patients (Last Known Figure)'",
            "'n/a' is not a number",
        ],
    ),
    "malformed date": Case(
        _malformed_date, ["row 4", "column 'Open Date'", "'1985112' is not a date"]
    ),
    "empty file": Case(_empty, ["the file is empty"]),
    "header only": Case(_header_only, ["has a header but no data rows"]),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_file_is_refused_and_changes_nothing(case, workspace, run, reg, tmp_path):
    load(workspace, reg)
    before = snapshot(workspace)
    assert before[0]["organisation"] > 20 and before[0]["membership"] > 30

    args = CASES[case].make(reg, tmp_path)
    result = run(*args)

    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = result.output.strip()
    assert message.startswith("error: "), message
    assert f"error: {args[0]}" in message  # the file comes first, by its full path
    for piece in CASES[case].says:
        assert piece in message, f"{piece!r} not in {message!r}"
    assert snapshot(workspace) == before


def test_a_bad_file_among_good_ones_means_none_of_them_land(workspace, run, reg, tmp_path):
    empty = snapshot(workspace)
    assert set(empty[0].values()) <= {0, 1}  # only alembic_version holds a row
    good = sorted(p for p in reg.iterdir() if p.suffix in (".csv", ".xlsx"))
    bad = _negative_list(reg, tmp_path)[0]
    for order in ([*good, bad], [bad, *good], [*good[:3], bad, *good[3:]]):
        result = run(*order)
        assert result.exit_code == 2, result.output
        assert f"error: {bad}, row 4, column 'NUMBER_OF_PATIENTS'" in result.output
        assert snapshot(workspace) == empty
    assert run(*good).exit_code == 0  # ...and the good files alone do load
    assert snapshot(workspace)[0]["source_file"] == len(good)


OVERLAPPING_DEFINITIONS = """\
pcnkit: definitions
publisher: test
as_of: 2020-04-01
memberships:
  - {child: F82614, parent: U00367, from: 2019-10-01, to: 2020-03-31}
  - {child: F82614, parent: U29424, from: 2020-03-01}
"""


def test_a_failure_while_writing_rolls_back_every_file(workspace, run, reg, tmp_path):
    """The definitions file is parsed fine but is refused while being written, after the national
    files before it in the same load were written: none of them may remain."""
    empty = snapshot(workspace)
    definitions = tmp_path / "overlap.yaml"
    definitions.write_text(OVERLAPPING_DEFINITIONS)

    result = run(reg, definitions)

    assert result.exit_code == 2, result.output
    assert f"error: {definitions}, row 6: F82614 has overlapping membership periods" in (
        result.output
    )
    assert snapshot(workspace) == empty

    with pytest.raises(InputError) as err:  # the same through the library
        load(workspace, reg, definitions)
    assert (err.value.file, err.value.row) == (str(definitions), 6)
    assert snapshot(workspace) == empty


def test_loading_the_same_files_twice_changes_nothing_the_second_time(workspace, run, reg):
    first = run(reg)
    assert first.exit_code == 0, first.output
    assert "already loaded" not in first.output
    after_first = snapshot(workspace)
    assert after_first[0]["source_file"] == 10

    second = run(reg)

    assert second.exit_code == 0, second.output
    assert second.output.count("already loaded: skipped") == 10
    assert snapshot(workspace) == after_first
    reports = load(workspace, reg / GP_REG, reg / "ePCN_2022-05.xlsx")
    assert [r.status for r in reports] == ["already loaded: skipped"] * 2
    assert snapshot(workspace) == after_first


# ---- more of the same, through the library (SQLite only: parsing touches no database) --------


@pytest.mark.parametrize(
    ("name", "change", "row", "column", "says"),
    [
        ("epraccur_2019-11.csv", lambda raw: raw + raw[: raw.index(b"\r\n") + 2], 9,
         "Organisation Code", "F82008 appears twice (rows 1 and 9)"),
        ("nhs_payments_gp_22-23.csv", replace(b",Y00312,", b",F82031,"), 6, "Practice Code",
         "F82031 appears twice (rows 3 and 6)"),
        ("MAPPING_NHS_GEOGRAPHIES_1920.csv", replace(b",Y00312,", b",F82649,"), 6,
         "PRACTICE_CODE", "F82649 appears twice (rows 4 and 6)"),
        (GP_REG, replace(b"01JAN2021,GP,08F,E38000077,F82649,", b"01JAX2021,GP,08F,E38000077,"
         b"F82649,"), 4, "EXTRACT_DATE", "'01JAX2021' is not a date"),
        (GP_REG, replace(b"01JAN2021,GP,08F,E38000077,F82649,", b"01FEB2021,GP,08F,E38000077,"
         b"F82649,"), 4, "EXTRACT_DATE", "earlier rows are 2021-01-01"),
        ("nhs_payments_gp_18-19.csv", replace(b"RM13 7XJ,06/11/1995,", b"RM13 7XJ,06/13/1995,"), 4,
         "Practice Open Date", "month must be in 1..12"),
        ("nhs_payments_gp_22-23.csv", replace(b",Urban,,13782.75,", b",Urban,,-13782.75,"), 2,
         "Number of Registered Patients (Last Known Figure)", "-13782.75 is not a valid number"),
        ("nhs_choices_GP_2014-02.csv", replace(b"\xac51.552444458007813\xac", b"\xacn/k\xac"), 3,
         "Latitude", "'n/k' is not a number"),
    ],
    ids=["epraccur duplicate", "payments duplicate", "qof duplicate", "gp-reg bad date",
         "gp-reg two extract dates", "payments bad date", "payments negative list",
         "nhs choices bad latitude"],
)  # fmt: skip
def test_bad_rows_are_located(reg, tmp_path, name, change, row, column, says):
    path = write_like(reg, tmp_path, name, change)
    with pytest.raises(InputError) as err:
        parse_file(path)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), row, column)
    assert says in str(err.value)


def test_an_ended_relationship_that_ends_before_it_starts_is_located(reg, tmp_path):
    def change(wb):
        assert wb["PCN Core Partner Details"]["A5"].value == "F82614"
        wb["PCN Core Partner Details"]["J5"] = "20190930"

    path = edit_workbook(reg, tmp_path, "ePCN_2022-05.xlsx", change)
    with pytest.raises(InputError) as err:
        parse_file(path)
    assert (err.value.file, err.value.row, err.value.column) == (
        f"{path} [PCN Core Partner Details]", 5, "Practice to PCN Relationship End Date",
    )  # fmt: skip


def test_definitions_errors_name_the_line_and_key(tmp_path):
    path = tmp_path / "local.yaml"
    path.write_text(OVERLAPPING_DEFINITIONS.replace("from: 2020-03-01", "from: 2020-03-32"))
    with pytest.raises(InputError) as err:
        parse_file(path)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), 6, "memberships.from")


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            "roles:\n  - {pcn: F82614, role: clinical_director, holder: Dr X, from: 2019-07-01}",
            "gives a role to F82614, which is not a known PCN",
        ),
        (
            "roles:\n  - {pcn: U00367, role: nominated_payee, payee: Z99999, from: 2019-07-01}",
            "names payee Z99999, which is not a known organisation",
        ),
        (
            "exceptions:\n  - {org: Z99999, rule: list_size_minimum, reason: r, from: 2019-07-01}",
            "records an exception for Z99999, which is not a known organisation",
        ),
        (
            "mergers:\n  - {practice: F82614, into: U00367, date: 2019-07-01, note: n}",
            "records a merger naming U00367, which is not a known practice",
        ),
    ],
)
def test_a_row_naming_an_unknown_organisation_is_refused(workspace, reg, tmp_path, entry, problem):
    definitions = tmp_path / "local.yaml"
    definitions.write_text(f"pcnkit: definitions\npublisher: test\nas_of: 2020-04-01\n{entry}\n")
    with pytest.raises(InputError) as err:
        load(workspace, reg, definitions)
    assert (err.value.file, err.value.problem, err.value.row) == (str(definitions), problem, 5)
