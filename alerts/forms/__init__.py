"""Forms of the alerts pages. They only validate and shape input: the services in
`alerts.services` save, and their refusals come back through `add_service_error`."""

from alerts.forms.cases import (
    TABS,
    AssignForm,
    BulkAssignForm,
    CaseFilterForm,
    ContactRecordForm,
    ImprovementLinkForm,
    NoteForm,
    ResolveForm,
    StatusForm,
)
from alerts.forms.common import MemberChoiceField, add_service_error
from alerts.forms.rules import RuleForm
from alerts.forms.settings import (
    WEEKDAYS,
    CaseSettingsForm,
    ImprovementForm,
    MeasuresForm,
    MemberAlertSettingsForm,
    RootCauseEditForm,
    RootCauseForm,
    StarterListForm,
    local_today,
)

__all__ = [
    "TABS",
    "WEEKDAYS",
    "AssignForm",
    "BulkAssignForm",
    "CaseFilterForm",
    "CaseSettingsForm",
    "ContactRecordForm",
    "ImprovementForm",
    "ImprovementLinkForm",
    "MeasuresForm",
    "MemberAlertSettingsForm",
    "MemberChoiceField",
    "NoteForm",
    "ResolveForm",
    "RootCauseEditForm",
    "RootCauseForm",
    "RuleForm",
    "StarterListForm",
    "StatusForm",
    "add_service_error",
    "local_today",
]
