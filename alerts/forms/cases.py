"""The case inbox's filters and bulk assign, and the action forms of the case page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.enums import (
    CASE_BACKWARD_MOVES,
    CASE_FORWARD_MOVES,
    CaseStatus,
    ContactMethod,
    ContactOutcome,
    Priority,
)
from alerts.forms.common import MemberChoiceField, members_into

# --- the case inbox ---------------------------------------------------------------------------

TABS = {
    "mine": _("Mine"),
    "team": _("Team"),
    "unassigned": _("Unassigned"),
}
STATUS_FILTERS = [
    ("open", _("Open (new or in progress)")),
    ("all", _("Any status")),
    *CaseStatus.choices,
]


class CaseFilterForm(forms.Form):
    tab = forms.ChoiceField(choices=list(TABS.items()), required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_FILTERS, required=False)
    touchpoint = forms.ModelChoiceField(
        label=_("Touchpoint"),
        queryset=None,
        required=False,
        to_field_name="public_id",
        empty_label=_("Any touchpoint"),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=[("", _("Any priority")), *Priority.choices], required=False
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(
        label=_("Number or title"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def __init__(self, *args, touchpoints, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["touchpoint"].queryset = touchpoints


class BulkAssignForm(forms.Form):
    """The inbox's bulk action: the ticked `cases` (public ids; the view looks them up in the
    organization, so another organization's ids find nothing) and the member to give them to."""

    assignee = MemberChoiceField(
        label=_("Assign the chosen cases to"), required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        members_into(self, members, "assignee")

    def clean(self):
        data = super().clean()
        ids = [value for value in self.data.getlist("cases") if value][:500]
        if not ids:
            raise forms.ValidationError(_("Choose at least one case."))
        data["cases"] = ids
        return data


# --- the case page ----------------------------------------------------------------------------


class CaseActionForm(forms.Form):
    """The case page holds several forms at once: each gets ids of its own (names stay plain)."""

    id_prefix = "case"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class AssignForm(CaseActionForm):
    id_prefix = "assign"

    assignee = MemberChoiceField(label=_("Assignee"), required=False, empty_label=_("Nobody"))

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        members_into(self, members, "assignee")


class StatusForm(CaseActionForm):
    """Moves other than resolving (which has its own form); going back needs a note."""

    id_prefix = "status"

    status = forms.ChoiceField(label=_("New status"), choices=[])
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the case goes back (is reopened)."),
    )

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        forward = CASE_FORWARD_MOVES[current] - {CaseStatus.RESOLVED}
        backward = CASE_BACKWARD_MOVES[current]
        choices = []
        for value, label in CaseStatus.choices:
            if value in forward:
                choices.append((value, label))
            elif value in backward:
                choices.append(
                    (value, _("%(status)s (going back: needs a note)") % {"status": label})
                )
        self.fields["status"].choices = choices

    @property
    def has_moves(self) -> bool:
        return bool(self.fields["status"].choices)


class ResolveForm(CaseActionForm):
    """Resolving: a root cause from the taxonomy (a select grouped by category), whether it
    was controllable, and the action taken."""

    id_prefix = "resolve"

    root_cause = forms.ChoiceField(label=_("Root cause"), choices=[])
    controllable = forms.ChoiceField(
        label=_("Could we have prevented it?"),
        choices=[
            ("", _("As the root cause says")),
            ("yes", _("Yes, it was in our control")),
            ("no", _("No, it was outside our control")),
        ],
        required=False,
    )
    action_taken = forms.CharField(
        label=_("Action taken"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, cause_groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.causes = {cause.public_id: cause for _c, causes in cause_groups for cause in causes}
        self.fields["root_cause"].choices = [
            ("", _("Choose the root cause")),
            *[
                (category, [(cause.public_id, cause.name) for cause in causes])
                for category, causes in cause_groups
            ],
        ]

    def clean_root_cause(self):
        return self.causes.get(self.cleaned_data["root_cause"])

    def clean_controllable(self):
        return {"yes": True, "no": False}.get(self.cleaned_data.get("controllable") or "")


class NoteForm(CaseActionForm):
    id_prefix = "note"

    text = forms.CharField(
        label=_("Note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ContactRecordForm(CaseActionForm):
    id_prefix = "contact"

    contacted_at = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    method = forms.ChoiceField(label=_("How"), choices=ContactMethod.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ImprovementLinkForm(CaseActionForm):
    id_prefix = "improvement"

    improvement = forms.ModelChoiceField(
        label=_("Improvement item"),
        queryset=None,
        required=False,
        to_field_name="public_id",
        empty_label=_("None"),
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["improvement"].queryset = items
