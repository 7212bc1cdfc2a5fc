"""The root-cause taxonomy, improvement items, service levels, a member's own alert settings and
the measures' date range."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.enums import ImprovementStatus, Priority
from alerts.forms.common import MemberChoiceField, members_into
from alerts.service_levels import DEFAULT_WORKDAYS, sla_hours

# --- root causes and improvements -------------------------------------------------------------


class RootCauseForm(forms.Form):
    category = forms.CharField(label=_("Category"), max_length=100)
    name = forms.CharField(label=_("Root cause"), max_length=200)
    controllable = forms.BooleanField(
        label=_("Controllable by us"),
        required=False,
        initial=True,
        help_text=_("Could we have prevented it ourselves?"),
    )


class RootCauseEditForm(RootCauseForm):
    is_active = forms.BooleanField(
        label=_("Active"), required=False, help_text=_("Inactive causes are not offered.")
    )


INDUSTRIES = [
    ("retail", _("Retail")),
    ("banking", _("Banking")),
    ("telecom", _("Telecom")),
]


class StarterListForm(forms.Form):
    industry = forms.ChoiceField(label=_("Industry"), choices=INDUSTRIES)


class ImprovementForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    root_cause = forms.ModelChoiceField(
        label=_("Root cause"),
        queryset=None,
        required=False,
        to_field_name="public_id",
        empty_label=_("None"),
    )
    owner = MemberChoiceField(label=_("Owner"), required=False, empty_label=_("Nobody yet"))
    status = forms.ChoiceField(label=_("Status"), choices=ImprovementStatus.choices)
    due_date = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, members, causes, **kwargs):
        super().__init__(*args, **kwargs)
        members_into(self, members, "owner")
        self.fields["root_cause"].queryset = causes

    @staticmethod
    def initial_for(item) -> dict:
        return {
            "title": item.title,
            "description": item.description,
            "root_cause": item.root_cause.public_id if item.root_cause_id else None,
            "owner": item.owner.public_id if item.owner_id else None,
            "status": item.status,
            "due_date": item.due_date,
        }


# --- settings ---------------------------------------------------------------------------------

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
PRIORITY_ORDER = [Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW]


class CaseSettingsForm(forms.Form):
    """Service levels per priority (business hours), the working week, holidays and people."""

    workdays = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    day_start = forms.TimeField(
        label=_("Working day starts"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    day_end = forms.TimeField(
        label=_("Working day ends"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    holiday_country = forms.CharField(
        label=_("Public holidays of"),
        min_length=2,
        max_length=2,
        help_text=_("A two-letter country code, e.g. FI, SE or DE."),
    )
    default_assignee = MemberChoiceField(
        label=_("Default assignee"),
        required=False,
        empty_label=_("Nobody"),
        help_text=_("Gets cases of touchpoints that have no owner."),
    )
    escalation_contact = MemberChoiceField(
        label=_("Escalation contact"),
        required=False,
        empty_label=_("Nobody"),
        help_text=_("Told when a case misses its service level and its owner has no contact."),
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        members_into(self, members, "default_assignee", "escalation_contact")
        for priority in PRIORITY_ORDER:
            label = Priority(priority).label
            self.fields[f"sla_{priority}_first"] = forms.FloatField(
                label=_("%(priority)s: first contact within (hours)") % {"priority": label},
                min_value=0.25,
                max_value=2000,
            )
            self.fields[f"sla_{priority}_resolution"] = forms.FloatField(
                label=_("%(priority)s: resolved within (hours)") % {"priority": label},
                min_value=0.25,
                max_value=2000,
            )

    def sla_rows(self) -> list[tuple[str, object, object]]:
        return [
            (Priority(p).label, self[f"sla_{p}_first"], self[f"sla_{p}_resolution"])
            for p in PRIORITY_ORDER
        ]

    @staticmethod
    def initial_for(settings) -> dict:
        initial = {
            "workdays": settings.workdays or DEFAULT_WORKDAYS,
            "day_start": settings.day_start,
            "day_end": settings.day_end,
            "holiday_country": settings.holiday_country,
            "default_assignee": (
                settings.default_assignee.public_id if settings.default_assignee_id else None
            ),
            "escalation_contact": (
                settings.escalation_contact.public_id if settings.escalation_contact_id else None
            ),
        }
        for priority in PRIORITY_ORDER:
            first, resolution = sla_hours(settings, priority)
            initial[f"sla_{priority}_first"] = first
            initial[f"sla_{priority}_resolution"] = resolution
        return initial

    def settings_changes(self) -> dict:
        data = self.cleaned_data
        hours = {}
        for priority in PRIORITY_ORDER:
            first = data[f"sla_{priority}_first"]
            resolution = data[f"sla_{priority}_resolution"]
            hours[str(priority)] = [first, resolution]
        return {
            "sla_hours": hours,
            "workdays": sorted(set(data["workdays"])),
            "day_start": data["day_start"],
            "day_end": data["day_end"],
            "holiday_country": data["holiday_country"],
            "default_assignee": data["default_assignee"],
            "escalation_contact": data["escalation_contact"],
        }


class MemberAlertSettingsForm(forms.Form):
    sms_phone = forms.CharField(
        label=_("Mobile number for SMS alerts"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("e.g. 040 123 4567 or +46 70 123 4567. Leave empty for no SMS alerts."),
    )
    escalation_contact = MemberChoiceField(
        label=_("My escalation contact"),
        required=False,
        empty_label=_("The organization's escalation contact"),
        help_text=_("Told when one of your cases misses its service level."),
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        members_into(self, members, "escalation_contact")


class MeasuresForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    @staticmethod
    def default_range(today: date) -> dict:
        return {"start": today - timedelta(days=29), "end": today}

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end must not be before the start."))
            elif (end - start).days > 731:
                self.add_error("end", _("Choose at most two years."))
        return data


def local_today(organization) -> date:
    return timezone.localtime(timezone.now(), organization.zone).date()
