"""Every API error, whatever raised it, has the shape {"message", "code", "extra"}."""

import pytest
from django.urls import include, path
from rest_framework import serializers
from rest_framework.response import Response

from core.exceptions import ApplicationError, ConflictError, NotFoundError
from tenancy import policies
from tenancy.api import OrganizationAPIView
from tests.conftest import api_client_with_key

pytestmark = pytest.mark.django_db

SHAPE = {"message", "code", "extra"}


class ProbeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    score = serializers.IntegerField(min_value=0, max_value=10)


class ProbeView(OrganizationAPIView):
    """A writing endpoint that validates input and lets services refuse, like every app's API."""

    policy = policies.SURVEYS

    def post(self, request, org_slug):
        serializer = ProbeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refusal = serializer.validated_data["name"]
        if refusal == "taken":
            raise ApplicationError(
                "That name is taken.", code="name_taken", extra={"field": "name"}
            )
        if refusal == "gone":
            raise NotFoundError()
        if refusal == "clash":
            raise ConflictError("Changed meanwhile.", code="conflict")
        return Response(serializer.validated_data, status=201)


urlpatterns = [
    path("api/v1/orgs/<slug:org_slug>/probe/", ProbeView.as_view()),
    path("", include("cxplatform.urls")),
]


@pytest.fixture
def api(write_api, personas):
    return write_api


@pytest.mark.urls(__name__)
def test_a_validation_error_names_each_field(api):
    response = api.post(
        "/api/v1/orgs/acme/probe/", {"name": "far too long", "score": 11}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) == SHAPE
    assert body["code"] == "invalid"
    assert set(body["extra"]["fields"]) == {"name", "score"}
    assert all(isinstance(m, str) for m in body["extra"]["fields"]["score"])


@pytest.mark.urls(__name__)
def test_a_missing_field_is_a_validation_error_too(api):
    body = api.post("/api/v1/orgs/acme/probe/", {}, format="json").json()
    assert set(body) == SHAPE
    assert set(body["extra"]["fields"]) == {"name", "score"}


@pytest.mark.urls(__name__)
def test_malformed_json_answers_400_in_the_same_shape(api):
    response = api.post(
        "/api/v1/orgs/acme/probe/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()) == SHAPE


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("name", "status", "code", "extra"),
    [
        ("taken", 400, "name_taken", {"field": "name"}),
        ("gone", 404, "not_found", {}),
        ("clash", 409, "conflict", {}),
    ],
)
def test_a_services_refusal_keeps_its_code_and_extra(api, name, status, code, extra):
    response = api.post("/api/v1/orgs/acme/probe/", {"name": name, "score": 1}, format="json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["extra"] == extra
    assert set(response.json()) == SHAPE


@pytest.mark.urls(__name__)
def test_the_probe_accepts_good_input(api):
    response = api.post("/api/v1/orgs/acme/probe/", {"name": "ok", "score": 3}, format="json")
    assert response.status_code == 201


def test_a_404_through_the_api_has_the_error_format(write_api, personas):
    for url in ("/api/v1/orgs/nobody/", "/api/v1/orgs/rival/", "/api/v1/orgs/acme/nothing-here/"):
        response = write_api.get(url)
        assert response.status_code == 404, url
        assert set(response.json()) == SHAPE, url
        assert response.json()["code"] == "not_found"


def test_pages_that_do_not_exist_still_answer_with_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unknown_organization_and_another_tenants_organization_look_the_same(
    write_api, personas
):
    unknown = write_api.get("/api/v1/orgs/nobody/")
    foreign = write_api.get("/api/v1/orgs/rival/")
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json() == foreign.json()


def test_401_and_403_have_the_error_format(org, personas, read_api):
    unauthenticated = api_client_with_key("cxk_00000000.not-a-key").get("/api/v1/orgs/acme/")
    assert unauthenticated.status_code == 401
    assert set(unauthenticated.json()) == SHAPE
    assert unauthenticated["WWW-Authenticate"] == "Bearer"

    forbidden = read_api.get("/api/v1/orgs/acme/activity/")
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "permission_denied"
    assert set(forbidden.json()) == SHAPE


def test_a_malformed_authorization_header_has_the_error_format(org):
    response = api_client_with_key("no-dot-in-this-key").get("/api/v1/orgs/acme/")
    assert response.status_code == 401
    assert set(response.json()) == SHAPE
