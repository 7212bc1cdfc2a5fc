from django.urls import path

from alerts import views

app_name = "alerts"

ORG = "o/<slug:org_slug>/"
CASES = ORG + "cases/"
CASE = CASES + "<str:public_id>/"
RULES = ORG + "alerts/rules/"

# Fixed paths are listed before the `<public_id>` patterns that would match them too.
urlpatterns = [
    path(CASES, views.CaseInboxView.as_view(), name="cases"),
    path(CASES + "bulk-assign/", views.CaseBulkAssignView.as_view(), name="cases_bulk_assign"),
    path(CASES + "root-causes/", views.RootCauseListView.as_view(), name="root_causes"),
    path(
        CASES + "root-causes/starter/",
        views.RootCauseStarterView.as_view(),
        name="root_causes_load_starter",
    ),
    path(
        CASES + "root-causes/<str:public_id>/",
        views.RootCauseEditView.as_view(),
        name="root_cause_edit",
    ),
    path(
        CASES + "root-causes/<str:public_id>/deactivate/",
        views.RootCauseDeactivateView.as_view(),
        name="root_cause_deactivate",
    ),
    path(CASES + "improvements/", views.ImprovementListView.as_view(), name="improvements"),
    path(
        CASES + "improvements/<str:public_id>/",
        views.ImprovementDetailView.as_view(),
        name="improvement",
    ),
    path(CASES + "settings/", views.CaseSettingsView.as_view(), name="case_settings"),
    path(
        CASES + "my-alert-settings/",
        views.MyAlertSettingsView.as_view(),
        name="my_alert_settings",
    ),
    path(CASES + "measures/", views.MeasuresView.as_view(), name="measures"),
    # Under the touchpoint's and the contact's own addresses: their pages load these.
    path(
        ORG + "touchpoints/<str:public_id>/cases/",
        views.TouchpointCasesView.as_view(),
        name="touchpoint_cases",
    ),
    path(
        ORG + "contacts/<str:public_id>/cases/",
        views.ContactCasesView.as_view(),
        name="contact_cases",
    ),
    path(CASE, views.CaseDetailView.as_view(), name="case"),
    path(CASE + "assign/", views.CaseAssignView.as_view(), name="case_assign"),
    path(CASE + "status/", views.CaseStatusView.as_view(), name="case_status"),
    path(CASE + "resolve/", views.CaseResolveView.as_view(), name="case_resolve"),
    path(CASE + "note/", views.CaseNoteView.as_view(), name="case_note"),
    path(CASE + "contact/", views.CaseContactView.as_view(), name="case_contact"),
    path(CASE + "improvement/", views.CaseImprovementView.as_view(), name="case_improvement"),
    path(ORG + "alerts/", views.AlertListView.as_view(), name="alerts"),
    path(RULES, views.RuleListView.as_view(), name="rules"),
    path(RULES + "new/", views.RuleCreateView.as_view(), name="rule_create"),
    path(RULES + "preview/", views.RulePreviewView.as_view(), name="rule_preview"),
    path(RULES + "<str:public_id>/", views.RuleEditView.as_view(), name="rule_edit"),
    path(RULES + "<str:public_id>/delete/", views.RuleDeleteView.as_view(), name="rule_delete"),
    path(ORG + "alerts/<str:public_id>/", views.AlertDetailView.as_view(), name="alert"),
]
