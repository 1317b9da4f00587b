"""The web demo fixture signs users in through the real form."""


def test_signed_in_pcn_user_sees_their_pcn(web_demo):
    client = web_demo.client("havering.south")
    page = client.get("/org/U00367")
    assert page.status_code == 200
    assert "F82002" in page.text


def test_pcn_page_shows_its_registered_total_as_markup_not_text(web_demo):
    page = web_demo.client("havering.south").get("/org/U00367").text
    assert "<strong id='registered-total'>" in page
    assert "&lt;strong" not in page


def test_api_docs_are_served_without_a_cdn(web_demo):
    client = web_demo.client("havering.south")
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "GET /api/funding/{code}" in page.text
    assert "cdn" not in page.text.lower()
    spec = client.get("/api/openapi.json").json()
    assert "/api/population/{code}/lists/{list_id}" in spec["paths"]
