from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from accounts.views import HomeView
from cxplatform import health, monitoring

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("livez", health.livez, name="livez"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cxplatform.api_urls")),
    path("", include("accounts.urls")),
    path("", include("reports.urls")),  # first: its overview is the page at /o/<org>/
    path("", include("tenancy.urls")),
    path("", include("journeys.urls")),
    path("", include("surveys.urls")),
    path("", include("distribution.urls")),
    path("", include("alerts.urls")),
    path("", include("webhooks.urls")),
]

handler400 = "core.api.bad_request"
handler403 = "core.api.permission_denied"
handler404 = "core.api.not_found"
handler500 = "core.api.server_error"
