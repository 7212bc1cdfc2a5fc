"""/api/v1/: every path below orgs/<org_slug>/ is scoped to that organization."""

from csp.constants import SELF
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from alerts.api import API_ROUTES as ALERT_ROUTES
from distribution.api import API_ROUTES as DISTRIBUTION_ROUTES
from journeys.api import API_ROUTES as JOURNEY_ROUTES
from metrics import api as metrics_api
from reports.api import API_ROUTES as REPORT_ROUTES
from reports.api_sharing import API_ROUTES as SHARING_ROUTES
from surveys.api import API_ROUTES as SURVEY_ROUTES
from surveys.import_api import ROUTES as RESPONSE_IMPORT_ROUTES
from tenancy import api as tenancy_api
from webhooks.api import API_ROUTES as WEBHOOK_ROUTES

router = SimpleRouter()
router.register("members", tenancy_api.MembershipViewSet, basename="member")
router.register("activity", tenancy_api.ActivityViewSet, basename="activity")
for prefix, viewset, basename in [
    *JOURNEY_ROUTES,
    *SURVEY_ROUTES,
    *RESPONSE_IMPORT_ROUTES,
    *DISTRIBUTION_ROUTES,
]:
    router.register(prefix, viewset, basename=basename)
for prefix, viewset, basename in ALERT_ROUTES:
    router.register(prefix, viewset, basename=basename)
for prefix, viewset, basename in WEBHOOK_ROUTES:
    router.register(prefix, viewset, basename=basename)
for prefix, viewset, basename in [*REPORT_ROUTES, *SHARING_ROUTES]:
    router.register(prefix, viewset, basename=basename)

org_patterns = [
    path("", tenancy_api.OrganizationDetailAPI.as_view(), name="organization-detail"),
    path("metrics/", metrics_api.MetricSeriesAPI.as_view(), name="metric-series"),
    path("kpis/", metrics_api.KpiListAPI.as_view(), name="kpi-list"),
    *router.urls,
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view loads Swagger UI's set-up as a script file: the CSP allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Redoc builds its search index in a blob: worker and shows its logo from its own site.
    path(
        "redoc/",
        csp_update({"worker-src": [SELF, "blob:"], "img-src": ["https://cdn.redoc.ly"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
    path("orgs/<slug:org_slug>/", include(org_patterns)),
]
