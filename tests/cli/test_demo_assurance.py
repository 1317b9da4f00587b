"""`pcnkit demo` loads the assurance publications shipped with the extract, after the registry:
every dataset stored, and England's online consultation series as NHS England published it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from pcnkit.assurance.observations import ENGLAND
from pcnkit.cli import app
from pcnkit.demo import ASSURANCE_FOLDER, demo_data
from pcnkit.store import open_workspace
from pcnkit.store.models import Observation, Organisation, SourceFile

runner = CliRunner()
ASSURANCE = demo_data() / ASSURANCE_FOLDER


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-assurance") / "demo"
    result = runner.invoke(app, ["demo", "-w", str(folder), "--no-population", "--no-serve"])
    assert result.exit_code == 0, result.output
    ws = open_workspace(folder)
    yield ws, result.output
    ws.dispose()


def _figure(session, file: str, code: str, measure: str, month: dt.date) -> Decimal | None:
    return session.scalar(
        select(Observation.value)
        .join(SourceFile, SourceFile.id == Observation.source_id)
        .where(
            SourceFile.name.endswith(file),
            Observation.org_code == code,
            Observation.measure == measure,
            Observation.start == month,
        )
    )


def test_the_demo_says_what_it_loaded(demo):
    _, output = demo
    found = re.search(r"Assurance data: (\d+) files, ([\d,]+) figures", output)
    assert found, output
    files = len(list(ASSURANCE.iterdir())) + len(list(demo_data().glob("PREVALENCE_*.csv")))
    assert int(found[1]) == files
    assert int(found[2].replace(",", "")) > 50_000


def test_every_dataset_of_the_extract_is_stored(demo):
    ws, _ = demo
    with ws.sessions() as s:
        stored = set(s.scalars(select(Observation.dataset).distinct()))
    assert stored >= {
        "oc-submissions",
        "cloud-telephony",
        "cqc-ratings",
        "practice-workforce",
        "pcn-workforce",
        "qof-cvd",
        "pcn-data-matrix",
    }


def test_the_qof_registers_are_stored_though_the_registry_read_the_same_files(demo):
    ws, _ = demo
    with ws.sessions() as s:
        registers = s.scalar(
            select(func.count())
            .select_from(Observation)
            .where(Observation.dataset == "qof-registers")
        )
    assert registers > 0


def test_england_online_consultation_figures_are_nhs_englands_table_1(demo):
    ws, _ = demo
    with ws.sessions() as s:
        # February 2026 workbook, Table 1: 8,615,369 submissions, 6,208 open practices
        feb = dt.date(2026, 2, 1)
        assert _figure(s, "oc_submissions_2026-02.xlsx", ENGLAND, "submissions", feb) == 8615369
        assert _figure(s, "oc_submissions_2026-02.xlsx", ENGLAND, "open_practices", feb) == 6208
        # March 2025 as first published, and as revised by every later workbook
        mar = dt.date(2025, 3, 1)
        assert _figure(s, "oc_submissions_2025-03.xlsx", ENGLAND, "submissions", mar) == 4724314
        assert _figure(s, "oc_submissions_2026-02.xlsx", ENGLAND, "submissions", mar) == 5196526


def test_a_bhr_practice_has_its_published_submissions(demo):
    ws, _ = demo
    wb = load_workbook(ASSURANCE / "oc_submissions_2026-02.xlsx", read_only=True)
    try:
        row = next(r for r in wb["Table 2"].iter_rows(values_only=True) if r[1] == "F82002")
    finally:
        wb.close()
    with ws.sessions() as s:
        value = _figure(s, "oc_submissions_2026-02.xlsx", "F82002", "submissions", row[0].date())
    assert value == row[12]


def test_the_assurance_load_leaves_the_registry_alone(demo, tmp_path):
    from pcnkit.demo import build_demo

    ws, _ = demo
    registry_only = build_demo(tmp_path / "registry-only")
    try:
        with ws.sessions() as s, registry_only.sessions() as r:
            count = select(func.count()).select_from(Organisation)
            assert s.scalar(count) == r.scalar(count)
    finally:
        registry_only.dispose()
