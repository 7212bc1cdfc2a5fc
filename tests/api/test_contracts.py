"""Contracts every API route keeps, read from the URL configuration so a new endpoint is covered
the day it is added: a read key may not write (403), and the answer is in the error format.
(Another organization's key gets 404 everywhere: tests/test_tenant_isolation.py.)"""

import pytest

from tests.test_tenant_isolation import API_DETAILS, API_URLS, _fill, acme_objects  # noqa: F401

pytestmark = pytest.mark.django_db

# Starting an export is reading the data out, allowed to analysts and so to read keys.
READ_KEY_MAY_WRITE = {"/api/v1/orgs/acme/exports/"}
SHAPE = {"message", "code", "extra"}


def test_routes_to_check_include_writes_of_every_kind():
    assert "/api/v1/orgs/acme/responses/bulk/" in API_URLS
    assert any(template.endswith("/cases/{id}/status/") for template in API_DETAILS)


@pytest.mark.parametrize("url", sorted(set(API_URLS) - READ_KEY_MAY_WRITE))
def test_read_key_gets_403_on_every_write(read_api, url):
    response = read_api.post(url, {}, format="json")
    assert response.status_code == 403, response.content[:200]
    assert set(response.json()) == SHAPE
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("template", API_DETAILS)
def test_read_key_gets_403_on_every_object_write(acme_objects, read_api, template):  # noqa: F811
    url = _fill(template, acme_objects)
    if template.startswith(tuple(READ_KEY_MAY_WRITE)):
        pytest.skip("exports are read-only objects (405 to every key)")
    if url is None:
        pytest.skip(f"no object of that kind made here: {template}")
    for method in ("post", "put", "patch", "delete"):
        response = getattr(read_api, method)(url, {}, format="json")
        assert response.status_code == 403, (method, response.content[:200])
        assert set(response.json()) == SHAPE


def test_read_key_may_start_an_export(read_api):
    assert read_api.post("/api/v1/orgs/acme/exports/", {}, format="json").status_code == 202
