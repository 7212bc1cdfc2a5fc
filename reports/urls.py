"""Report pages under /o/<org>/. The overview answers at the organization's own address:
cxplatform/urls.py includes these urls before tenancy's, whose `tenancy:home` name (used by the
navigation) reverses to the same path."""

from django.urls import path

from reports.views.campaigns import CampaignResultsView
from reports.views.dashboards import (
    JourneyHeatmapView,
    OverviewView,
    RankingView,
    TouchpointDashboardView,
)
from reports.views.results import ResponseDetailView, SurveyResponsesView, SurveyResultsView

app_name = "reports"

ORG = "o/<slug:org_slug>/"
R = ORG + "reports/"

urlpatterns = [
    path(ORG, OverviewView.as_view(), name="overview"),
    path(R + "touchpoints/<str:public_id>/", TouchpointDashboardView.as_view(), name="touchpoint"),
    path(R + "journeys/<str:public_id>/", JourneyHeatmapView.as_view(), name="journey"),
    path(R + "ranking/", RankingView.as_view(), name="ranking"),
    path(R + "surveys/<str:public_id>/", SurveyResultsView.as_view(), name="survey_results"),
    path(
        R + "surveys/<str:public_id>/responses/",
        SurveyResponsesView.as_view(),
        name="survey_responses",
    ),
    path(R + "responses/<str:public_id>/", ResponseDetailView.as_view(), name="response"),
    path(R + "campaigns/<str:public_id>/", CampaignResultsView.as_view(), name="campaign"),
]

# Exports, scheduled digests and read-only share links.
from reports.views import digests as digest_views  # noqa: E402
from reports.views import exports as export_views  # noqa: E402
from reports.views import sharing as sharing_views  # noqa: E402

urlpatterns += [
    path(R + "exports/", export_views.ExportListView.as_view(), name="exports"),
    path(R + "exports/<str:public_id>/", export_views.ExportJobView.as_view(), name="export"),
    path(
        R + "exports/<str:public_id>/download/",
        export_views.ExportJobDownloadView.as_view(),
        name="export_download",
    ),
    path(R + "digests/", digest_views.DigestListView.as_view(), name="digests"),
    path(
        R + "digests/<str:public_id>/edit/",
        digest_views.DigestEditView.as_view(),
        name="digest_edit",
    ),
    path(
        R + "digests/<str:public_id>/delete/",
        digest_views.DigestDeleteView.as_view(),
        name="digest_delete",
    ),
    path(R + "share-links/", sharing_views.ShareLinkListView.as_view(), name="share_links"),
    path(
        R + "share-links/<str:public_id>/revoke/",
        sharing_views.ShareLinkRevokeView.as_view(),
        name="share_link_revoke",
    ),
    path(
        "share/<str:token>/", sharing_views.SharedDashboardView.as_view(), name="shared_dashboard"
    ),
]
