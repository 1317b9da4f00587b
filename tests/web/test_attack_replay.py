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
    names = ["\r=2+2", 'Surgery\r=HYPERLINK("http://x")', "a\r\n@SUM(1)", "plain"]
    data = csv_download(
        ["code", "name", "amount"],
        [{"code": f"F{i}", "name": n, "amount": -12} for i, n in enumerate(names)],
    )
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
        [
            "funding",
            "entitlements",
            "--year",
            "2020/21",
            "--lists",
            str(lists),
            "-w",
            str(tmp_path / "ws"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "row 2" in result.output


# 3. Funding by date: a PCN that exists only from 2025 (U24998) reaches F82002 on 1 August
#    2025 and read F82002's 2019/20 entitlements, ledger and downloads (paid while it belonged
#    to Havering South) by asking for year=2019/20 with on=2025-08-01: the contract year's data
#    was decided at the date typed, the same mix of dates as issue 10 item 3.


def _api_user(web_demo, name: str, role: str, scope_code: str):
    import datetime as dt

    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from pcnkit.access import users
    from pcnkit.store.models import User

    password = "quiet harbour lantern 42"
    with web_demo.ws.transaction() as session:
        if session.scalar(select(User).where(User.username == name)) is None:
            users.add_user(session, name, password, role, scope_code, dt.datetime.now())
    client = TestClient(web_demo.app())
    answer = client.post("/api/login", json={"username": name, "password": password})
    assert answer.status_code == 200, answer.text
    return client


def test_a_later_pcn_cannot_read_a_practice_funding_year_from_before_it_existed(web_demo):
    later = _api_user(web_demo, "attack.liberty", "pcn", "U24998")
    on_2025 = {"on": "2025-08-01"}
    # the practice is a member on the date chosen: its own year is open
    assert later.get("/api/funding/F82002", params=on_2025).status_code == 200
    old_year = {**on_2025, "year": "2019/20"}
    for path, extra in [
        ("/api/funding/F82002", {}),
        ("/funding/F82002", {}),
        ("/funding/F82002/download.xlsx", {}),
        ("/funding/F82002/download.csv", {"part": "ledger"}),
        ("/funding/F82002/download.csv", {"part": "entitlements"}),
    ]:
        answer = later.get(path, params={**old_year, **extra})
        assert answer.status_code == 403, (path, answer.status_code)
    assert "2019/20" in later.get("/api/funding/F82002", params=old_year).json()["detail"]
    # its own PCN stays open in any year (an empty year, not a refusal)
    assert later.get("/api/funding/U24998", params=old_year).status_code == 200


def test_a_pcn_keeps_its_own_members_funding_for_the_year_they_were_members(web_demo):
    south = _api_user(web_demo, "attack.south", "pcn", "U00367")
    # F82022 belonged to Havering South in 2019/20 and in 2025: open both ways
    for params in ({"on": "2025-08-01", "year": "2019/20"}, {"on": "2020-01-01"}):
        assert south.get("/api/funding/F82022", params=params).status_code == 200, params
    # a practice outside the PCN in both years stays refused
    answer = south.get("/api/funding/F82001", params={"on": "2020-01-01", "year": "2025/26"})
    assert answer.status_code == 403


def test_a_refused_list_is_audited_in_one_readable_sentence(web_demo):
    from sqlalchemy import select

    from pcnkit.access import audit
    from pcnkit.store.models import AuditEvent

    client = _api_user(web_demo, "attack.practice", "practice", "F82002")
    answer = client.get("/api/population/F82006/lists/smr", headers={"Sec-Fetch-Site": "none"})
    assert answer.status_code == 403
    with web_demo.ws.sessions() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.username == "attack.practice")
            .where(AuditEvent.action == audit.LIST_REFUSED)
            .order_by(AuditEvent.id.desc())
        ).first()
    assert event is not None and "F82006" in event.subject
    assert ".;" not in event.detail and "scope decided as at" in event.detail
