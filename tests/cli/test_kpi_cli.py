"""`pcnkit kpi` end to end: real NHS files in, figures out, bad files refused, nothing stored."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from pcnkit.cli import app
from pcnkit.store import open_workspace
from pcnkit.store.models import Observation

runner = CliRunner()


@pytest.fixture(scope="module")
def kpi_ws(tmp_path_factory, shared_data):
    """The BHR demo registry (no population) with one online consultation workbook, one
    telephony workbook and the CQC ratings loaded through `pcnkit kpi load`."""
    folder = tmp_path_factory.mktemp("kpi") / "ws"
    built = runner.invoke(app, ["demo", "-w", str(folder), "--no-population", "--no-serve"])
    assert built.exit_code == 0, built.output
    files = [
        shared_data / "access" / "online_consultation" / "oc_submissions_2026-01.xlsx",
        shared_data / "access" / "online_consultation" / "oc_submissions_2026-02.xlsx",
        shared_data / "access" / "telephony" / "cloud_telephony_2026-02.xlsx",
        shared_data / "cqc" / "cqc_ratings_practice_2016-2024_heec.csv",
    ]
    loaded = runner.invoke(app, ["kpi", "load", *map(str, files), "-w", str(folder)])
    assert loaded.exit_code == 0, loaded.output
    return folder, loaded.output


def _count(folder) -> int:
    ws = open_workspace(folder)
    try:
        with ws.sessions() as session:
            return session.scalar(select(func.count()).select_from(Observation))
    finally:
        ws.dispose()


def test_load_names_each_publication_and_its_findings(kpi_ws):
    _, output = kpi_ws
    assert "oc_submissions_2026-02.xlsx: NHS England" in output
    assert "cloud_telephony_2026-02.xlsx" in output
    assert "cqc_ratings_practice_2016-2024_heec.csv" in output
    assert "note:" in output  # the workbooks' findings are printed, not swallowed


def test_loading_the_same_files_again_stores_nothing_new(kpi_ws, shared_data):
    folder, _ = kpi_ws
    before = _count(folder)
    again = runner.invoke(
        app,
        [
            "kpi",
            "load",
            str(shared_data / "cqc" / "cqc_ratings_practice_2016-2024_heec.csv"),
            "-w",
            str(folder),
        ],
    )
    assert again.exit_code == 0, again.output
    assert "already loaded: skipped" in again.output
    assert _count(folder) == before


def test_a_damaged_file_in_a_load_stores_nothing(kpi_ws, shared_data, tmp_path):
    folder, _ = kpi_ws
    before = _count(folder)
    good = shared_data / "workforce" / "pcn_workforce_individual_2020-03.csv"
    broken = tmp_path / "oc.xlsx"
    data = (
        shared_data / "access" / "online_consultation" / "oc_submissions_2025-06.xlsx"
    ).read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    result = runner.invoke(app, ["kpi", "load", str(good), str(broken), "-w", str(folder)])
    assert result.exit_code == 2
    assert "oc.xlsx" in result.output and "truncated or damaged" in result.output
    assert _count(folder) == before


def test_a_file_that_is_not_an_assurance_publication_is_refused(kpi_ws, shared_data):
    folder, _ = kpi_ws
    registry_file = shared_data / "ods" / "epraccur_2019-11.csv"
    result = runner.invoke(app, ["kpi", "load", str(registry_file), "-w", str(folder)])
    assert result.exit_code == 2
    assert "is not an assurance publication pcnkit reads" in result.output


def test_show_gives_havering_south_its_online_consultation_access(kpi_ws):
    folder, _ = kpi_ws
    result = runner.invoke(
        app,
        ["kpi", "show", "U00367", "--as-of", "2026-03-01", "--format", "json", "-w", str(folder)],
    )
    assert result.exit_code == 0, result.output
    tiles = {t["indicator"]: t for t in json.loads(result.output)}
    access = tiles["oc_patients_with_access"]
    assert access["period"] == "February 2026"
    assert 0 < access["value"] <= 100
    assert access["target"] == 75.0
    assert "Submissions via Online Consultation Systems" in access["sources"]
    # England is NHS England's published figure: 62,826,801 of 63,794,229 patients (Table 1)
    assert access["england"] == pytest.approx(62826801 / 63794229 * 100, abs=0.01)
    # an indicator with no data in this workspace says so instead of showing 0
    fte = tiles["workforce_gp_fte_per_10000"]
    assert fte["value"] is None and "no figures" in fte["reason"]


def test_show_table_leads_with_what_needs_attention_and_never_prints_zero_for_missing(kpi_ws):
    folder, _ = kpi_ws
    result = runner.invoke(app, ["kpi", "show", "BHR", "--as-of", "2026-03-01", "-w", str(folder)])
    assert result.exit_code == 0, result.output
    assert "as at 2026-03-01" in result.output
    assert "not calculated" in result.output


def test_spc_csv_has_the_series_with_limits(kpi_ws):
    folder, _ = kpi_ws
    result = runner.invoke(
        app,
        [
            "kpi",
            "spc",
            "telephony_answered",
            "F82002",
            "--as-of",
            "2026-03-01",
            "--format",
            "csv",
            "-w",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output.lstrip("\ufeff"))))
    assert [r["period"] for r in rows] == ["February 2026"]


def test_compare_lists_members_and_unknown_codes_fail_cleanly(kpi_ws):
    folder, _ = kpi_ws
    ok = runner.invoke(
        app,
        [
            "kpi",
            "compare",
            "oc_patients_with_access",
            "U00367",
            "--as-of",
            "2026-03-01",
            "-w",
            str(folder),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "Members (worst pull first)" in ok.output
    bad = runner.invoke(app, ["kpi", "compare", "no_such_kpi", "U00367", "-w", str(folder)])
    assert bad.exit_code == 2 and "No indicator is called 'no_such_kpi'" in bad.output
    bad = runner.invoke(app, ["kpi", "show", "ZZZ999", "-w", str(folder)])
    assert bad.exit_code == 2 and "ZZZ999" in bad.output


def test_list_marks_every_indicator_unreviewed(tmp_path):
    result = runner.invoke(app, ["kpi", "list", "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output.lstrip("\ufeff"))))
    assert len(rows) >= 40
    assert {r["review"] for r in rows} == {"NO INDEPENDENT REVIEW RECORDED"}
    cqc = next(r for r in rows if r["id"] == "cqc_good_outstanding_practices")
    assert cqc["targets"].startswith("95 (")


def test_xlsx_needs_no_formula_escape_for_numbers(kpi_ws, tmp_path):
    folder, _ = kpi_ws
    target = tmp_path / "t.xlsx"
    result = runner.invoke(
        app,
        [
            "kpi",
            "show",
            "U00367",
            "--as-of",
            "2026-03-01",
            "--format",
            "xlsx",
            "-o",
            str(target),
            "-w",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    sheet = load_workbook(target).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["indicator", "title", "period", "value"]
    shutil.rmtree(tmp_path, ignore_errors=True)
