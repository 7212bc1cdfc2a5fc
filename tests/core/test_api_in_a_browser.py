"""An API list opened in a browser answers JSON (there is no browsable API), never a 500."""

import pytest

pytestmark = pytest.mark.django_db

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("path", ["journeys/", "surveys/", "responses/", "contacts/", "cases/"])
def test_a_browser_gets_json(read_api, personas, path):
    response = read_api.get(f"/api/v1/orgs/acme/{path}", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "results" in response.json()


def test_asking_for_html_only_is_406_in_the_error_format(read_api, personas):
    response = read_api.get("/api/v1/orgs/acme/journeys/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert set(response.json()) == {"message", "code", "extra"}
    assert response.json()["code"] == "not_acceptable"


def test_the_api_documentation_pages_still_render(client):
    assert client.get("/api/v1/docs/").status_code == 200
    assert client.get("/api/v1/redoc/").status_code == 200
    assert client.get("/api/v1/schema/").status_code == 200
