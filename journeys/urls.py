from django.urls import path

from journeys import views

app_name = "journeys"

ORG = "o/<slug:org_slug>/"
J = ORG + "journeys/<str:public_id>/"
S = ORG + "stages/<str:public_id>/"
T = ORG + "touchpoints/<str:public_id>/"
P = ORG + "measurement-plans/<str:public_id>/"

urlpatterns = [
    path(ORG + "journeys/", views.JourneyListView.as_view(), name="journeys"),
    path(ORG + "journeys/new/", views.JourneyCreateView.as_view(), name="journey_create"),
    path(J, views.JourneyMapView.as_view(), name="journey"),
    path(J + "edit/", views.JourneyEditView.as_view(), name="journey_edit"),
    path(J + "copy/", views.JourneyCopyView.as_view(), name="journey_copy"),
    path(J + "archive/", views.JourneyArchiveView.as_view(), name="journey_archive"),
    path(J + "restore/", views.JourneyRestoreView.as_view(), name="journey_restore"),
    path(J + "delete/", views.JourneyDeleteView.as_view(), name="journey_delete"),
    path(J + "stages/new/", views.StageCreateView.as_view(), name="stage_create"),
    path(S + "edit/", views.StageEditView.as_view(), name="stage_edit"),
    path(S + "move/", views.StageMoveView.as_view(), name="stage_move"),
    path(S + "delete/", views.StageDeleteView.as_view(), name="stage_delete"),
    path(S + "touchpoints/new/", views.TouchpointCreateView.as_view(), name="touchpoint_create"),
    path(T, views.TouchpointDetailView.as_view(), name="touchpoint"),
    path(T + "edit/", views.TouchpointEditView.as_view(), name="touchpoint_edit"),
    path(T + "move/", views.TouchpointMoveView.as_view(), name="touchpoint_move"),
    path(T + "archive/", views.TouchpointArchiveView.as_view(), name="touchpoint_archive"),
    path(T + "restore/", views.TouchpointRestoreView.as_view(), name="touchpoint_restore"),
    path(T + "delete/", views.TouchpointDeleteView.as_view(), name="touchpoint_delete"),
    path(T + "plans/new/", views.MeasurementPlanCreateView.as_view(), name="plan_create"),
    path(P + "edit/", views.MeasurementPlanEditView.as_view(), name="plan_edit"),
    path(P + "delete/", views.MeasurementPlanDeleteView.as_view(), name="plan_delete"),
]
