"""Forms of the alerts pages. They only validate and shape input: the services in
`alerts.services` save, and their refusals come back through `add_service_error`."""

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.enums import (
    CASE_BACKWARD_MOVES,
    CASE_FORWARD_MOVES,
    CaseStatus,
    ConditionMetric,
    ContactMethod,
    ContactOutcome,
    ImprovementStatus,
    Operator,
    Priority,
    ReferenceMode,
    RuleKind,
)
from alerts.models import AlertRule
from alerts.service_levels import DEFAULT_WORKDAYS, sla_hours
from core.exceptions import ApplicationError
from core.forms import add_application_error


def add_service_error(form: forms.Form, error: ApplicationError) -> None:
    """A service's refusal on the form: each message of `extra["fields"]` on its field (or
    above the form when the form has no such field); otherwise as `core.forms` does."""
    fields = error.extra.get("fields")
    if not isinstance(fields, dict) or not fields:
        add_application_error(form, error)
        return
    placed = False
    for name, messages in fields.items():
        target = name if name in form.fields else None
        placed |= target is not None
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            form.add_error(target, str(message))
    if not placed:
        form.add_error(None, error.message)


class MemberChoiceField(forms.ModelChoiceField):
    """A member by public id, shown by name and email."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "public_id")
        kwargs.setdefault("queryset", None)
        super().__init__(*args, **kwargs)

    def label_from_instance(self, user) -> str:
        return f"{user.full_name} ({user.email})" if user.full_name else user.email


def _members(form: forms.Form, members, *names: str) -> None:
    for name in names:
        form.fields[name].queryset = members


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
        _members(self, members, "assignee")

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
        _members(self, members, "assignee")


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


# --- rules ------------------------------------------------------------------------------------


def _pairs_text(value: dict) -> str:
    return "\n".join(f"{name}={text}" for name, text in (value or {}).items())


def _parse_pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise forms.ValidationError(
                _("Line %(number)s: write name=value."), params={"number": number}
            )
        if len(name) > 64 or len(value) > 200:
            raise forms.ValidationError(
                _("Line %(number)s is too long."), params={"number": number}
            )
        pairs[name] = value
    if len(pairs) > 20:
        raise forms.ValidationError(_("At most 20 conditions."))
    return pairs


def _model_default(field: str):
    return AlertRule._meta.get_field(field).default


AGGREGATE_FIELDS = (
    "window_minutes",
    "reference_mode",
    "reference_rate",
    "baseline_margin",
    "alpha",
    "min_n",
    "drop_points",
    "volume_ratio",
)


class RuleForm(forms.Form):
    """Every field of an alert rule; `rule_fields()` gives the service's keyword arguments."""

    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    # Scope
    journey = forms.ModelChoiceField(
        label=_("Journey"),
        queryset=None,
        required=False,
        to_field_name="public_id",
        empty_label=_("Any journey"),
    )
    touchpoint = forms.ModelChoiceField(
        label=_("Touchpoint"),
        queryset=None,
        required=False,
        to_field_name="public_id",
        empty_label=_("Any touchpoint"),
    )
    survey = forms.ModelChoiceField(
        label=_("Survey"),
        queryset=None,
        required=False,
        to_field_name="public_id",
        empty_label=_("Any survey"),
    )
    hidden_fields = forms.CharField(
        label=_("Hidden fields"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "mono"}),
        help_text=_("One condition a line as name=value, e.g. store=Kamppi."),
    )
    contact_attributes = forms.CharField(
        label=_("Contact attributes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "mono"}),
        help_text=_("One condition a line as name=value, e.g. tier=gold. Response rules only."),
    )
    # Condition
    metric = forms.ChoiceField(label=_("Metric"), choices=ConditionMetric.choices)
    question_key = forms.CharField(
        label=_("Question key"),
        max_length=64,
        required=False,
        help_text=_("Leave empty for every question of the metric."),
    )
    operator = forms.ChoiceField(label=_("Answer is"), choices=Operator.choices)
    threshold = forms.IntegerField(
        label=_("Value"), required=False, min_value=-1000, max_value=1000
    )
    keywords = forms.CharField(
        label=_("Words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For open answers: one word or phrase a line (or separated by commas)."),
    )
    # Aggregate rules
    window_minutes = forms.IntegerField(
        label=_("Window (minutes)"),
        required=False,
        min_value=1,
        max_value=10 * 24 * 60,
        help_text=_("1440 is a day; kiosks use 15 to 120."),
    )
    reference_mode = forms.ChoiceField(
        label=_("Compare with"), choices=ReferenceMode.choices, required=False
    )
    reference_rate = forms.DecimalField(
        label=_("Reference share of negative answers"),
        required=False,
        max_digits=5,
        decimal_places=4,
        help_text=_("A share from 0 to 0.99, e.g. 0.05 for 5 %."),
    )
    baseline_margin = forms.DecimalField(
        label=_("Margin over the baseline"),
        required=False,
        max_digits=5,
        decimal_places=4,
        help_text=_("Added to the share of the 28 days before, e.g. 0.05 for 5 points."),
    )
    alpha = forms.DecimalField(
        label=_("Significance (alpha)"),
        required=False,
        max_digits=6,
        decimal_places=5,
        help_text=_("Fires only when p is at most this; 0.001 keeps false alarms rare."),
    )
    min_n = forms.IntegerField(
        label=_("Minimum answers in the window"), required=False, min_value=0, max_value=1_000_000
    )
    drop_points = forms.DecimalField(
        label=_("NPS drop (points)"), required=False, max_digits=5, decimal_places=1
    )
    volume_ratio = forms.DecimalField(
        label=_("Volume below (share of usual)"),
        required=False,
        max_digits=4,
        decimal_places=3,
        help_text=_("e.g. 0.2: fewer than a fifth of the usual responses."),
    )
    # Actions
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    open_case = forms.BooleanField(label=_("Open a follow-up case"), required=False)
    notify_email = forms.BooleanField(label=_("Email the owner"), required=False)
    notify_sms = forms.BooleanField(
        label=_("Text the owner"),
        required=False,
        help_text=_("To the number in the owner's own alert settings."),
    )
    slack_webhook_url = forms.URLField(
        label=_("Slack incoming webhook"), max_length=500, required=False, assume_scheme="https"
    )
    teams_webhook_url = forms.URLField(
        label=_("Microsoft Teams incoming webhook"),
        max_length=500,
        required=False,
        assume_scheme="https",
    )
    recovery_message = forms.BooleanField(
        label=_("Send the customer a recovery message"),
        required=False,
        help_text=_("Once per response, in their language, only with their consent."),
    )
    cooldown_minutes = forms.IntegerField(
        label=_("Cooldown (minutes)"), min_value=0, max_value=10 * 24 * 60
    )

    SCOPE = ("journey", "touchpoint", "survey", "hidden_fields", "contact_attributes")
    CONDITION = ("metric", "question_key", "operator", "threshold", "keywords")
    AGGREGATE = AGGREGATE_FIELDS
    ACTIONS = (
        "priority",
        "open_case",
        "notify_email",
        "notify_sms",
        "slack_webhook_url",
        "teams_webhook_url",
        "recovery_message",
        "cooldown_minutes",
    )

    def __init__(self, *args, journeys, touchpoints, surveys, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["journey"].queryset = journeys
        self.fields["touchpoint"].queryset = touchpoints
        self.fields["survey"].queryset = surveys
        for name in AGGREGATE_FIELDS:
            self.fields[name].widget.attrs["data-aggregate"] = ""

    @classmethod
    def initial_for(cls, rule: AlertRule | None) -> dict:
        if rule is None:
            rule = AlertRule(metric=ConditionMetric.CSAT, operator=Operator.LTE, threshold=2)
            rule.kind = RuleKind.RESPONSE
        initial = {
            name: getattr(rule, name)
            for name in (
                "name",
                "kind",
                "is_active",
                "metric",
                "question_key",
                "operator",
                "threshold",
                *AGGREGATE_FIELDS,
                *cls.ACTIONS,
            )
        }
        for name in ("journey", "touchpoint", "survey"):
            value = getattr(rule, name) if getattr(rule, f"{name}_id") else None
            initial[name] = value.public_id if value is not None else None
        initial["hidden_fields"] = _pairs_text(rule.hidden_fields)
        initial["contact_attributes"] = _pairs_text(rule.contact_attributes)
        initial["keywords"] = "\n".join(rule.keywords or [])
        return initial

    def clean_hidden_fields(self):
        return _parse_pairs(self.cleaned_data.get("hidden_fields", ""))

    def clean_contact_attributes(self):
        return _parse_pairs(self.cleaned_data.get("contact_attributes", ""))

    def clean_keywords(self):
        text = self.cleaned_data.get("keywords", "")
        words = [word.strip() for line in text.splitlines() for word in line.split(",")]
        return [word for word in words if word]

    def rule_fields(self) -> dict:
        """The service's keyword arguments; empty aggregate settings take the model defaults."""
        data = dict(self.cleaned_data)
        for name in AGGREGATE_FIELDS:
            if data.get(name) in (None, "") and name != "reference_rate":
                data[name] = _model_default(name)
        if data.get("reference_rate") == "":
            data["reference_rate"] = None
        for name in ("alpha", "baseline_margin", "drop_points", "volume_ratio"):
            if data[name] is not None and not isinstance(data[name], Decimal):
                data[name] = Decimal(str(data[name]))
        return data

    def unsaved_rule(self, organization) -> AlertRule:
        """An AlertRule of `organization` built from the form, not saved (for the preview)."""
        return AlertRule(organization=organization, **self.rule_fields())

    def fieldsets(self) -> list[tuple[str, list, str]]:
        """(legend, bound fields, data attribute) per part of the form, for the template."""
        return [
            (_("Rule"), [self[name] for name in ("name", "kind", "is_active")], ""),
            (_("Where it applies"), [self[name] for name in self.SCOPE], ""),
            (_("Condition on an answer"), [self[name] for name in self.CONDITION], ""),
            (
                _("Aggregate settings (not used by rules on each response)"),
                [self[name] for name in self.AGGREGATE],
                "aggregate",
            ),
            (_("What to do"), [self[name] for name in self.ACTIONS], ""),
        ]


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
        _members(self, members, "owner")
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
        _members(self, members, "default_assignee", "escalation_contact")
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
        _members(self, members, "escalation_contact")


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
