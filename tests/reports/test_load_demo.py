import pytest
from django.core.management import call_command

from accounts.models import User
from core.scoping import tenant_scope
from journeys.models import Journey
from metrics.kpis import kpi_list
from metrics.models import DailyRollup
from surveys.models import Response
from tenancy.models import Organization

pytestmark = pytest.mark.django_db


def test_demo_gives_a_signed_in_owner_a_year_of_measured_journeys(client):
    call_command("load_demo")
    organization = Organization.objects.get(slug="demo")
    signed_in = client.post(
        "/accounts/login/", {"username": "owner@demo.example", "password": "demo-owner-2026"}
    )
    assert signed_in.status_code == 302
    with tenant_scope(organization):
        assert Journey.objects.count() >= 2
        responses = Response.objects.count()
        assert responses > 10_000
        first, last = (
            Response.objects.order_by(f).values_list("submitted_at", flat=True)[0]
            for f in ("submitted_at", "-submitted_at")
        )
        assert (last - first).days >= 300
        assert DailyRollup.objects.exists()
        kpis = kpi_list(organization=organization)
        assert any(kpi.status == "on_target" for kpi in kpis)
        assert any(kpi.status == "below" for kpi in kpis)

    call_command("load_demo")  # a second run (every `make run`) adds nothing
    with tenant_scope(organization):
        assert Response.objects.count() == responses
    assert User.objects.filter(email__endswith="@demo.example").count() == 4
    assert client.get("/o/demo/journeys/").status_code == 200
