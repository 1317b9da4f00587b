"""Issue 10 items 9 (inputs), 10, 12 and 14: implausible figures, all-or-nothing folder loads,
located errors instead of tracebacks, and the real ePCN's same-day handover.

Every refusal goes through `pcnkit registry load` (or `funding entitlements --lists`), exits 2,
names the file (and row and column where there is one) and leaves the store byte-identical."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rich.console import Console
from test_bad_input import replace, snapshot, write_like
from typer.testing import CliRunner

from conftest import load
from pcnkit import cli
from pcnkit.cli import registry, shell
from pcnkit.errors import InputError
from pcnkit.registry import kinds, queries
from pcnkit.registry.importers import list_basis, parse_file
from pcnkit.registry.plausible import PCN_REGISTERED, PRACTICE_REGISTERED

GP_REG = "gp-reg-pat-prac-all_2021-01.csv"
PAYMENTS = "nhs_payments_gp_22-23.csv"
D = dt.date


@pytest.fixture(scope="session")
def reg(fixtures) -> Path:
    return fixtures / "registry"


@pytest.fixture(scope="session")
def quirks(fixtures) -> Path:
    return fixtures / "registry_quirks"


@pytest.fixture
def run(workspace, monkeypatch):
    """`pcnkit registry load ARGS -w WORKSPACE` on the workspace's database (wide consoles, so
    long paths are not wrapped)."""
    monkeypatch.setattr(registry, "console", Console(width=10_000, no_color=True))
    monkeypatch.setattr(shell, "err", Console(stderr=True, width=10_000, no_color=True))

    def invoke(*args):
        argv = ["registry", "load", *map(str, args), "-w", str(workspace.path)]
        return CliRunner().invoke(cli.app, argv, env={"PCNKIT_DATABASE_URL": workspace.url})

    return invoke


def refused(run, workspace, reg, args, says):
    """Load the fixtures, then the bad input: exit 2, a located message, nothing changed."""
    load(workspace, reg)
    before = snapshot(workspace)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = " ".join(result.output.split())
    assert message.startswith(f"error: {args[0]}"), message
    for piece in says:
        assert piece in message, f"{piece!r} not in {message!r}"
    assert snapshot(workspace) == before
    return message


# ---- item 9: implausible list sizes -----------------------------------------------------------

LIST_4719 = b",ALL,ALL,4719\r\n"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (b"1e20", "1E+20 is not a valid number of patients for a practice's registered list"),
        (b"1e30", "1E+30 is not a valid number of patients"),
        (b"1e400", "1E+400 is not a valid number of patients"),
        (b"NaN", "'NaN' is not a number of patients"),
        (b"Infinity", "'Infinity' is not a number of patients"),
        (b"-1", "-1 is not a valid number of patients"),
        (b"1000001", "the plausible range is 0 to 1,000,000"),
        (b"4719.5", "4719.5 is not a whole number of patients"),
    ],
)
def test_implausible_registered_lists_are_refused(workspace, run, reg, tmp_path, value, says):
    bad = write_like(reg, tmp_path, GP_REG, replace(LIST_4719, b",ALL,ALL," + value + b"\r\n"))
    refused(run, workspace, reg, [bad], ["row 4", "column 'NUMBER_OF_PATIENTS'", says])


def test_a_weighted_list_of_1e400_in_a_payments_file_is_refused(workspace, run, reg, tmp_path):
    # F82031's weighted list (row 3); its registered list beside it, 4354, is a whole number
    bad = write_like(reg, tmp_path, PAYMENTS, replace(b",4354,4357.95,", b",4354,1e400,"))
    refused(
        run,
        workspace,
        reg,
        [bad],
        ["row 3", "column 'Number of Weighted Patients (Last Known Figure)'", "1E+400"],
    )


def test_payments_quarter_averages_load_and_are_recorded_as_averages(workspace, reg):
    """Payments files' registered lists are fractional averages: kept as published, and the
    load (and the stored source's type) says they are averages, not counts."""
    reports = {Path(r.file).name: r for r in load(workspace, reg)}
    assert reports[PAYMENTS].list_basis.averaged is True
    assert "average over the final quarter" in reports[PAYMENTS].list_basis.text
    assert reports[GP_REG].list_basis.averaged is False
    assert list_basis("nhs-payments").averaged and not list_basis("gp-reg-pat-prac-all").averaged
    with workspace.sessions() as s:
        figure = queries.list_size_at(s, "F82008", D(2023, 6, 1))
    assert figure.value == Decimal("13782.75")


def test_the_load_prints_that_payments_lists_are_averages(workspace, run, reg):
    result = run(reg / PAYMENTS, reg / "epraccur_2019-11.csv")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "(averages)" in out
    assert f"note: {PAYMENTS}: list sizes are the publisher's average over the final quarter" in out


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("practice_code,as_of,registered\nF82008,2020-01-01,1e400\n", "1E+400"),
        ("practice_code,as_of,registered\nF82008,2020-01-01,13000.5\n", "not a whole number"),
        ("practice_code,as_of,weighted\nF82008,2020-01-01,NaN\n", "'NaN' is not a number"),
        ("practice_code,as_of,adjusted\nF82008,2020-01-01,2e6\n", "0 to 1,500,000"),
    ],
)
def test_implausible_local_list_sizes_are_refused(workspace, run, reg, tmp_path, text, says):
    bad = tmp_path / "lists.csv"
    bad.write_text(text)
    refused(run, workspace, reg, [bad], ["row 2", says])


def test_the_plausible_ranges_are_stated_once():
    assert (PRACTICE_REGISTERED.low, PRACTICE_REGISTERED.high) == (0, 1_000_000)
    assert (PCN_REGISTERED.low, PCN_REGISTERED.high) == (0, 2_000_000)
    assert PRACTICE_REGISTERED.problem(Decimal("1e400")) is not None
    assert PRACTICE_REGISTERED.problem(Decimal("4719")) is None


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("U51307,1e400,42502", "1E+400 is not a valid number of patients for a PCN's registered"),
        ("U51307,2000001,42502", "the plausible range is 0 to 2,000,000"),
        ("U51307,49477,nan", "'NaN' is not a number of patients"),
        ("U51307,49477.5,42502", "49477.5 is not a whole number of patients"),
    ],
)
def test_funding_lists_overrides_refuse_implausible_figures(tmp_path, row, says):
    """`--lists` is read without a workspace; 1e400 crashed `funding entitlements` before."""
    lists = tmp_path / "lists.csv"
    lists.write_text(f"pcn_code,registered,weighted\n{row}\n")
    result = CliRunner().invoke(
        cli.app,
        ["funding", "entitlements", "--year", "2019/20", "--lists", str(lists)],
        env={"PCNKIT_HOME": str(tmp_path / "nowhere")},
    )
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"error: {lists}, row 2" in message
    assert says in message


# ---- item 10: a load is one unit ---------------------------------------------------------------


def _folder_with_a_damaged_file(reg: Path, tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "data"
    folder.mkdir()
    for p in reg.iterdir():
        if p.suffix in (".csv", ".xlsx"):
            (folder / p.name).write_bytes(p.read_bytes())
    (folder / "README.md").write_text("# what these files are\n")
    (folder / "PROVENANCE.tsv").write_text("local_path\tsource_repo\nx.csv\tsomewhere\n")
    damaged = folder / "ePCN_2022-05.xlsx"
    damaged.write_bytes(damaged.read_bytes()[:3000])  # cut short: not a readable zip
    return folder, damaged


def test_a_folder_with_a_damaged_file_stores_nothing(workspace, run, reg, tmp_path):
    folder, damaged = _folder_with_a_damaged_file(reg, tmp_path)
    empty = snapshot(workspace)
    result = run(folder)
    assert result.exit_code == 2, result.output
    assert f"error: {damaged}" in " ".join(result.output.split())
    assert snapshot(workspace) == empty


def test_skip_bad_stores_the_rest_lists_what_was_skipped_and_exits_3(workspace, run, reg, tmp_path):
    folder, damaged = _folder_with_a_damaged_file(reg, tmp_path)
    result = run(folder, "--skip-bad")
    assert result.exit_code == 3, result.output
    out = " ".join(result.output.split())
    assert f"skipped (not loaded): {damaged}: starts like an Excel workbook" in out
    assert "1 bad file(s) skipped" in out
    # the non-data files are ignored and named as such, not treated as damaged
    assert f"ignored {folder / 'README.md'}: not a registry file" in out
    assert f"ignored {folder / 'PROVENANCE.tsv'}: not a registry file" in out
    counts, contents = snapshot(workspace)
    assert counts["source_file"] == 9  # the ten fixtures but the damaged one
    assert not any("ePCN_2022-05" in row for row in contents["source_file"])


def test_skip_bad_also_leaves_out_a_file_refused_while_storing(workspace, run, reg, tmp_path):
    """A list for a practice nobody defined is found only while storing: with --skip-bad that
    file is left out and everything else is stored (the transaction is retried without it)."""
    lists = tmp_path / "lists.csv"
    lists.write_text("practice_code,as_of,registered\nZ99999,2020-01-01,5000\n")
    result = run(reg, lists, "--skip-bad")
    assert result.exit_code == 3, result.output
    out = " ".join(result.output.split())
    assert f"skipped (not loaded): {lists}, row 2" in out and "Z99999" in out
    assert snapshot(workspace)[0]["source_file"] == 10
    without = run(reg, lists)  # and without --skip-bad nothing more is stored
    assert without.exit_code == 2


def test_the_shared_data_folder_loads_and_ignores_its_notes(shared_data, tmp_path):
    """`pcnkit registry load ../shared/data` (README, PROVENANCE.tsv, PDFs and publications
    pcnkit does not read are ignored and listed) – parsing only, without a database."""
    from pcnkit.registry.importers import expand

    chosen, left_out = expand([shared_data])
    assert all(s.error is None for s in left_out)
    names = {s.path.name for s in left_out}
    assert {"README.md", "PROVENANCE.tsv", "ePCN_specification_2019.pdf"} <= names
    assert {s.path.name for s in chosen} >= {"ePCN_2019-12_psychty.xlsx", "epraccur_2019-11.csv"}


# ---- item 12: located errors instead of tracebacks ----------------------------------------------


def _rezip(source: Path, target: Path, change) -> Path:
    with zipfile.ZipFile(source) as archive:
        members = [(i.filename, archive.read(i)) for i in archive.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, change(name, data))
    target.write_bytes(buffer.getvalue())
    return target


def test_a_worksheet_cut_short_inside_a_valid_zip(workspace, run, reg, tmp_path):
    def cut(name, data):
        return data[: len(data) // 2] if name == "xl/worksheets/sheet2.xml" else data

    bad = _rezip(reg / "ePCN_2019-12.xlsx", tmp_path / "ePCN_2019-12.xlsx", cut)
    refused(run, workspace, reg, [bad], ["cannot be read as an Excel workbook", "truncated"])


def _edit_workbook(source: Path, target: Path, change) -> Path:
    wb = load_workbook(source)
    change(wb)
    wb.save(target)
    return target


def test_an_epcn_file_with_no_dates(workspace, run, reg, tmp_path):
    def undate(wb):
        for sheet, columns in (("PCNDetails", "EF"), ("PCN Core Partner Details", "IJ")):
            for row in wb[sheet].iter_rows(min_row=2):
                for cell in row:
                    if cell.column_letter in columns:
                        cell.value = None

    bad = _edit_workbook(reg / "ePCN_2022-05.xlsx", tmp_path / "epcn.xlsx", undate)  # no stamp
    refused(run, workspace, reg, [bad], ["holds no dates", "ePCN_2023-02.xlsx"])


def test_a_fractional_epcn_date_is_refused(workspace, run, reg, tmp_path):
    def fraction(wb):
        wb["PCN Core Partner Details"]["I3"] = 20191001.7

    bad = _edit_workbook(reg / "ePCN_2019-12.xlsx", tmp_path / "ePCN_2019-12.xlsx", fraction)
    refused(
        run,
        workspace,
        reg,
        [bad],
        [
            "[PCN Core Partner Details], row 3",
            "column 'Practice to PCN Relationship Start Date'",
            "'20191001.7' is not a date",
        ],
    )


def test_a_missing_epcn_column_is_named(workspace, run, reg, tmp_path):
    """Was: "has 11 columns; expected the 11"."""

    def drop(wb):
        wb["PCN Core Partner Details"].delete_cols(3)  # Practice Parent CCG Code

    bad = _edit_workbook(reg / "ePCN_2022-05.xlsx", tmp_path / "ePCN_2022-05.xlsx", drop)
    message = refused(
        run,
        workspace,
        reg,
        [bad],
        [
            "[PCN Core Partner Details], row 1",
            "does not have the ePCN Core Partner columns: missing 'Practice Parent CCG Code'.",
        ],
    )
    assert "expected the 11" not in message


HEAD = "pcnkit: definitions\nas_of: 2020-01-01\n"


def test_organisations_5_in_definitions(workspace, run, reg, tmp_path):
    bad = tmp_path / "local.yaml"
    bad.write_text(HEAD + "organisations: 5\n")
    refused(
        run,
        workspace,
        reg,
        [bad],
        ["row 3", "column 'organisations'", "must be a list of entries", "not 5"],
    )


@pytest.mark.parametrize(
    ("text", "row", "says"),
    [
        (HEAD + "memberships:\n  - {child: F82614, parent: [x}\n",
         4, "is not valid YAML"),
        ("pcnkit: definitions\nas_of: 2020-13-01\nroles: []\n",
         2, "no valid 'as_of' date"),
        (HEAD + "memberships:\n  - 7\n", 4,
         "an entry of 'memberships' is 7, not a mapping"),
        (HEAD + "memberships:\n  - child: F82614\n"
         "    parent: U00367\n    form: 2019-10-01\n", 6, "'form' is not a key"),
        (HEAD + "membership:\n  - {child: F82614, parent: U00367}\n",
         3, "'membership' is not a section"),
        (HEAD + "memberships:\n  - {child: F82614, child: F82008}\n",
         4, "'child' is given twice"),
        (HEAD + "roles:\n  - {pcn: U00367, role: clinical_director,"
         " holder: {a: 1}}\n", 4, "is a mapping; expected one value"),
    ],
    ids=["syntax", "as_of", "not a mapping", "unknown key", "unknown section", "duplicate key",
         "not a scalar"],
)  # fmt: skip
def test_definitions_errors_give_their_line(tmp_path, text, row, says):
    path = tmp_path / "local.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        parse_file(path)
    assert err.value.row == row, str(err.value)
    assert says in str(err.value)


def test_a_nul_byte_after_the_first_4_kib_is_refused(workspace, run, reg, tmp_path):
    """Was stored in the practice's name: the check only looked at the first 4 KiB."""
    raw = (reg / PAYMENTS).read_bytes()
    assert raw.index(b"BILLET LANE MEDICAL") > 4096
    bad = write_like(
        reg, tmp_path, PAYMENTS, replace(b"BILLET LANE MEDICAL", b"BILLET\0LANE MEDICAL")
    )
    refused(run, workspace, reg, [bad], ["row 5", "control character (U+0000)"])


def test_a_control_character_in_a_name_is_refused(workspace, run, reg, tmp_path):
    bad = write_like(
        reg, tmp_path, "epraccur_2019-11.csv", replace(b"BERWICK ROAD", b"BER\x1bWICK ROAD")
    )
    refused(run, workspace, reg, [bad], ["control character (U+001B)"])


def test_old_mac_line_endings_are_read(reg, tmp_path):
    path = write_like(reg, tmp_path, GP_REG, lambda raw: raw.replace(b"\r\n", b"\r"))
    assert len(parse_file(path).list_sizes) == 5


def test_an_epraccur_whose_columns_are_shifted_is_refused(reg, tmp_path):
    path = write_like(
        reg, tmp_path, "epraccur_2019-11.csv", lambda raw: raw.replace(b'"4",', b'"",')
    )
    with pytest.raises(InputError, match="holds no GP practices"):
        parse_file(path)


# ---- item 14: a same-day PCN handover in a real publication -----------------------------------


def test_a_same_day_handover_loads_and_is_reported(workspace, run, quirks):
    result = run(quirks)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert (
        f"finding: {quirks / 'ePCN_2023-02.xlsx'} [PCN Core Partner Details], rows 4 and 5: "
        "BERWICK SURGERY (F82649)'s membership of HAVERING SOUTH PCN (U00367) (row 4) ends on "
        "2023-02-01, the day its membership of HAVERING CREST PCN (U29424) (row 5) starts"
    ) in out
    with workspace.sessions() as s:
        assert queries.parent_at(s, "F82649", kinds.PCN, D(2023, 1, 31)).organisation.code == (
            "U00367"
        )
        assert queries.parent_at(s, "F82649", kinds.PCN, D(2023, 2, 1)).organisation.code == (
            "U29424"
        )
        # the ordinary change in the same file (end = start - 1) reads as before
        assert queries.parent_at(s, "F82675", kinds.PCN, D(2021, 4, 1)).organisation.code == (
            "U55939"
        )


def test_the_handover_finding_is_in_the_load_report(workspace, quirks):
    (report,) = load(workspace, quirks / "ePCN_2023-02.xlsx")
    assert len(report.findings) == 1 and "same-day handover" in report.findings[0]


def test_an_overlap_of_more_than_a_day_is_still_refused(workspace, run, reg, quirks, tmp_path):
    def two_days(wb):
        assert wb["PCN Core Partner Details"]["J4"].value == "20230201"
        wb["PCN Core Partner Details"]["J4"] = "20230202"

    bad = _edit_workbook(quirks / "ePCN_2023-02.xlsx", tmp_path / "ePCN_2023-02.xlsx", two_days)
    refused(
        run,
        workspace,
        reg,
        [bad],
        ["row 5", "F82649's membership of PCN U29424", "overlap by more than the day"],
    )


EPCN_FILES = sorted(
    p.name for p in (Path(__file__).resolve().parents[3] / "shared/data/pcn").glob("ePCN_*.xlsx")
)


@pytest.mark.england
@pytest.mark.parametrize("name", EPCN_FILES or ["(none)"])
def test_each_real_epcn_loads_alone(shared_data, sqlite_workspace, name):
    """Each real ePCN publication in ../shared/data loads on its own (the February 2023 one,
    with its same-day handover, belongs here when a copy is added to ../shared/data/pcn)."""
    (report,) = load(sqlite_workspace, shared_data / "pcn" / name)
    assert report.status == "loaded" and report.facts > 6000


@pytest.mark.england
def test_the_real_epraccur_loads_alone(shared_data, sqlite_workspace):
    (report,) = load(sqlite_workspace, shared_data / "ods" / "epraccur_2019-11.csv")
    assert report.organisations_new > 8000


def test_allocation_recipients_refuse_implausible_lists(tmp_path):
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("code,name,registered,weighted,normalised_weighted\nA,a,1e400,5,5\n")
    result = CliRunner().invoke(
        cli.app,
        ["funding", "allocate", "--recipients", str(recipients), "--method", "registered",
         "--pot", "1000"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"error: {recipients}, row 2, column 'registered': 1E+400 is not a valid" in message
