"""The committee packs page and download, for each kind of user and against an attacker's
moves: another scope's codes, unknown packs, formats, dates and sections, markup in inputs."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from docx import Document as WordDocument


@pytest.fixture(scope="module")
def icb(pack_demo):
    return pack_demo.client("nel.icb")


def _pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_organisation_page_offers_the_packs(icb):
    page = icb.get("/org/BHR?on=2026-03-01")
    assert page.status_code == 200
    assert re.search(r'href="/packs/BHR\?on=2026-03-01"[^>]*>Download committee pack', page.text)
    packs = icb.get("/packs/BHR?on=2026-03-01")
    assert packs.status_code == 200
    assert 'id="pack-assurance-update"' in packs.text
    assert 'id="pack-funding-paper"' in packs.text
    assert 'id="pack-pcn-pack"' not in packs.text  # BHR is not a PCN
    api = icb.get("/api/packs/BHR?on=2026-03-01").json()
    assert [p["kind"] for p in api["packs"]] == ["assurance-update", "funding-paper"]


def test_a_commissioner_downloads_the_assurance_update_as_pdf(icb):
    got = icb.get(
        "/packs/BHR/download",
        params={"on": "2026-03-01", "kind": "assurance-update", "format": "pdf",
                "sections": ["structure", "assurance"]},
    )  # fmt: skip
    assert got.status_code == 200, got.text[:500]
    assert got.headers["content-type"] == "application/pdf"
    assert 'filename="assurance-update_BHR_2026-03-01.pdf"' in got.headers["content-disposition"]
    text = _pdf_text(got.content)
    assert "Primary care assurance update" in text and "(BHR)" in text


def test_a_commissioner_downloads_the_funding_paper_as_word(pack_demo):
    client = pack_demo.client("havering.place")
    got = client.get(
        "/packs/PL-HAV/download",
        params={"on": "2020-01-01", "kind": "funding-paper", "format": "docx", "year": "2019/20"},
    )
    assert got.status_code == 200, got.text[:500]
    assert got.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    word = WordDocument(io.BytesIO(got.content))
    assert "Network Contract DES funding paper" in "\n".join(p.text for p in word.paragraphs)
    assert word.tables, "the funding table is a Word table"


def test_a_pcn_user_gets_the_pcn_pack(pack_demo):
    client = pack_demo.client("havering.south")
    page = client.get("/packs/U00367?on=2020-01-01")
    assert page.status_code == 200 and 'id="pack-pcn-pack"' in page.text
    got = client.get(
        "/packs/U00367/download",
        params={"on": "2020-01-01", "kind": "pcn-pack", "format": "html", "sections": "members"},
    )
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/html")
    assert "PCN pack" in got.text and "U00367" in got.text


@pytest.mark.parametrize(
    ("user", "path", "status"),
    [
        ("havering.place", "/packs/BHR", 403),  # above the place's scope
        ("havering.south", "/packs/PL-HAV", 403),
        ("haiderian.practice", "/packs/U00367", 403),
        ("havering.place", "/packs/BHR/download?kind=assurance-update&format=pdf", 403),
        ("haiderian.practice", "/packs/F82002/download?kind=funding-paper&format=pdf", 403),
    ],
)
def test_another_scope_is_refused(pack_demo, user, path, status):
    got = pack_demo.client(user).get(path)
    assert got.status_code == status
    assert got.headers["content-type"].startswith("text/html")


def test_a_practice_user_has_its_own_update_only(pack_demo):
    client = pack_demo.client("haiderian.practice")
    page = client.get("/packs/F82002?on=2020-01-01")
    assert page.status_code == 200
    assert 'id="pack-assurance-update"' in page.text
    assert 'id="pack-funding-paper"' not in page.text and 'id="pack-pcn-pack"' not in page.text


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("kind=gossip&format=pdf", "no pack called"),
        ("kind=assurance-update&format=exe", "Choose PDF, Word or HTML"),
        ("kind=assurance-update&format=pdf&previous=yesterday", "is not a date"),
        ("kind=assurance-update&format=pdf&sections=%3Cscript%3E", "no section"),
        ("kind=funding-paper&format=pdf&year=2031/32", "no funding rules"),
        ("kind=funding-paper&format=pdf&inputs=..%2F..%2Fetc", "No published paper"),
    ],
)
def test_bad_requests_get_a_clear_page_not_a_file(icb, query, words):
    got = icb.get(f"/packs/BHR/download?on=2026-03-01&{query}")
    assert got.status_code in (400, 404), got.status_code
    assert got.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in got.headers
    assert words in got.text
    assert "<script>" not in got.text


@pytest.mark.parametrize("on", ["garbage", "0001-01-01", "2026-02-30"])
def test_a_download_for_a_bad_date_is_refused_not_made_for_another(icb, on):
    got = icb.get(f"/packs/BHR/download?kind=assurance-update&format=html&on={on}")
    assert got.status_code == 400
    assert "content-disposition" not in got.headers
    assert "As at" in got.text


def test_a_download_from_another_site_is_refused(icb):
    got = icb.get(
        "/packs/BHR/download?kind=assurance-update&format=html&on=2026-03-01",
        headers={"sec-fetch-site": "cross-site"},
    )
    assert got.status_code == 403 and "content-disposition" not in got.headers


def test_a_published_paper_chosen_on_the_web_sets_its_year(pack_demo):
    client = pack_demo.client("havering.place")
    page = client.get("/packs/PL-HAV?on=2020-01-01")
    assert 'value="havering-2019-20"' in page.text
    got = client.get(
        "/packs/PL-HAV/download",
        params={"on": "2020-01-01", "kind": "funding-paper", "format": "html",
                "inputs": "havering-2019-20", "sections": "table"},
    )  # fmt: skip
    assert got.status_code == 200, got.text[:300]
    assert "_as-published.html" in got.headers["content-disposition"]
    assert "Primary Care Network Development in Havering (July 2019)" in got.text
    wrong = client.get(
        "/packs/PL-HAV/download",
        params={"on": "2020-01-01", "kind": "funding-paper", "format": "html",
                "inputs": "havering-2019-20", "year": "2025/26"},
    )  # fmt: skip
    assert wrong.status_code == 400 and "is a 2019/20 paper" in wrong.text
    assert "/funding/published" not in wrong.text  # no server path


def test_blank_sections_give_the_whole_pack(pack_demo):
    client = pack_demo.client("havering.south")
    got = client.get(
        "/packs/U00367/download?on=2020-01-01&kind=pcn-pack&format=html&sections=&sections=+"
    )
    assert got.status_code == 200
    for title in ("Member practices", "Funding and ARRS headroom", "Case-finding list sizes"):
        assert title in got.text
