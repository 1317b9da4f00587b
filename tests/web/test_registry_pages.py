"""Organisation pages over HTTP (issue 10 items 15, 16, 19, 20, 22 and 24): empty states, no
organisation before it existed, whole patients with their source, members' patients and totals,
findings by outcome and PCN, a key for every status word, and no file names or doubled kinds."""

from __future__ import annotations

import re

from html_tables import tables_of

ICS, PLACE, PCN = "QMF", "PL-HAV", "U00367"


def table_rows(html: str, table_id: str) -> list[dict[str, str]]:
    header, *rows = tables_of(html)[table_id]
    return [dict(zip(header, row, strict=True)) for row in rows]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_pcn_before_it_existed_says_so_on_the_page_and_in_json(web_demo):
    client = web_demo.client("havering.south")
    page = client.get(f"/org/{PCN}?on=2019-06-01")
    assert page.status_code == 200
    assert 'id="empty-state"' in page.text
    assert "This PCN did not exist on 1 June 2019" in _text(page.text)
    data = client.get(f"/api/org/{PCN}?on=2019-06-01").json()
    assert data["empty_state"].startswith("This PCN did not exist on 1 June 2019")
    assert data["members"] == []


def test_a_pcn_in_august_2019_lists_its_members_from_the_des_start(web_demo):
    client = web_demo.client("havering.south")
    data = client.get(f"/api/org/{PCN}?on=2019-08-01").json()
    assert data["empty_state"] is None and len(data["members"]) == 17
    assert data["began"] == "2019-07-01" and data["open_date"] == "2019-10-01"
    page = _text(client.get(f"/org/{PCN}?on=2019-08-01").text)
    assert "ODS records 1 October 2019" in page and "from BHR committee papers" in page
    icb = web_demo.client("nel.icb").get("/api/org/U86966?on=2019-08-01").json()
    assert len(icb["members"]) == 4
    july = [m for m in icb["member_history"] if m["start"] == "2019-07-01"]
    assert len(july) >= 4
    assert all("when the Network Contract DES began" in m["basis"] for m in july)


def test_the_ics_does_not_list_a_ccg_that_did_not_exist_yet(web_demo):
    client = web_demo.client("nel.icb")
    data = client.get(f"/api/org/{ICS}?on=2020-01-01").json()
    assert {m["code"] for m in data["members"]} == {"07L", "08F", "08N"}
    nel = next(m for m in data["member_history"] if m["code"] == "A3A8R")
    assert nel["start"] == "2021-04-01" and not nel["member_on_date"]


def test_place_and_ics_members_show_whole_patients_and_a_total(web_demo):
    client = web_demo.client("nel.icb")
    for code in (PLACE, ICS):
        page = client.get(f"/org/{code}?on=2020-01-01").text
        rows = table_rows(page, "members-table")
        assert rows[-1]["Member"].startswith("Total")
        for row in rows:
            figure = row["Registered patients"]
            assert re.fullmatch(r"[\d,]+", figure), (code, row)  # whole patients, never "–"
            assert row["Source"] and ".csv" not in row["Source"]
        total = sum(int(r["Registered patients"].replace(",", "")) for r in rows[:-1])
        if code == PLACE:  # a place's members are its PCNs and its CCG: each counted once
            pcns = [r for r in rows[:-1] if r["Kind"] == "PCN"]
            total = sum(int(r["Registered patients"].replace(",", "")) for r in pcns)
        assert total == int(rows[-1]["Registered patients"].replace(",", ""))


def test_patients_are_whole_and_mixed_sources_are_said(web_demo):
    client = web_demo.client("havering.south")
    page = client.get(f"/org/{PCN}?on=2020-01-01").text
    total = re.search(r"id='registered-total'>([^<]+)<", page).group(1)
    assert re.fullmatch(r"[\d,]+", total)
    text = _text(page)
    assert "mixed sources:" in text and "for 16 practices" in text
    assert not re.search(r"\d,\d{3}\.\d", text)  # no 109,782.25


def test_findings_separate_a_breach_from_missing_data_and_link_each_pcn(web_demo):
    client = web_demo.client("nel.icb")
    page = client.get("/org/BHR?on=2019-12-01").text
    summary = _text(re.search(r'id="findings-summary">(.*?)</ul>', page, re.S).group(1))
    assert "1 rule breached" in summary and "26 not recorded" in summary
    groups = re.findall(r'<h3 class="pcnkit-finding-group">(.*?)</h3>', page, re.S)
    assert "/org/U86966" in groups[0]  # the breach first, linked to its PCN
    rows = table_rows(page, "findings-U86966")
    assert rows[0]["Outcome"] == "Rule breached" and rows[0]["Check"] == "PCN list size"
    assert "nominated_payee" not in page and "clinical_director" not in _text(page)


def test_every_status_word_has_a_key_and_no_file_names_or_doubled_kinds(web_demo):
    client = web_demo.client("nel.icb")
    for url in (f"/org/{ICS}", f"/org/{PCN}", "/org/F82002", f"/org/{PLACE}"):
        page = client.get(f"{url}?on=2020-01-01").text
        text = _text(page)
        assert "(STP) (STP)" not in text, url
        assert not re.search(r"\w+\.(csv|xlsx|yaml)\b", text), url
        key = _text(re.search(r'id="status-key">(.*?)</dl>', page, re.S).group(1))
        for word in ("Member on the date", "Rule breached", "Not recorded", "To review"):
            assert word in key, (url, word)


def test_the_place_keeps_its_practices_when_a_new_pcn_forms(web_demo):
    """Havering Liberty PCN (U24998, 2025) is in Havering place: the place commissioner still
    opens F82002, which moved into it, and the place page still counts its five practices."""
    client = web_demo.client("havering.place")
    assert client.get("/org/F82002?on=2025-08-01").status_code == 200
    data = client.get(f"/api/org/{PLACE}?on=2025-08-01").json()
    assert "U24998" in {m["code"] for m in data["members"]}
