"""Pages of the alerts app: the case inbox and case page, rules, alerts, the taxonomy and
improvement items, settings and the closed-loop measures."""

from alerts.views.alerts import AlertDetailView, AlertListView
from alerts.views.cases import (
    CaseAssignView,
    CaseBulkAssignView,
    CaseContactView,
    CaseDetailView,
    CaseImprovementView,
    CaseInboxView,
    CaseNoteView,
    CaseResolveView,
    CaseStatusView,
    ContactCasesView,
    TouchpointCasesView,
)
from alerts.views.rules import (
    RuleCreateView,
    RuleDeleteView,
    RuleEditView,
    RuleListView,
    RulePreviewView,
)
from alerts.views.settings import CaseSettingsView, MeasuresView, MyAlertSettingsView
from alerts.views.taxonomy import (
    ImprovementDetailView,
    ImprovementListView,
    RootCauseDeactivateView,
    RootCauseEditView,
    RootCauseListView,
    RootCauseStarterView,
)

__all__ = [
    "AlertDetailView",
    "AlertListView",
    "CaseAssignView",
    "CaseBulkAssignView",
    "CaseContactView",
    "CaseDetailView",
    "CaseImprovementView",
    "CaseInboxView",
    "CaseNoteView",
    "CaseResolveView",
    "CaseSettingsView",
    "CaseStatusView",
    "ContactCasesView",
    "ImprovementDetailView",
    "ImprovementListView",
    "MeasuresView",
    "MyAlertSettingsView",
    "RootCauseDeactivateView",
    "RootCauseEditView",
    "RootCauseListView",
    "RootCauseStarterView",
    "RuleCreateView",
    "RuleDeleteView",
    "RuleEditView",
    "RuleListView",
    "RulePreviewView",
    "TouchpointCasesView",
]
