"""The alert rule editor: every field of a rule, and its conversion to the service's arguments."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.enums import ConditionMetric, Operator, Priority, ReferenceMode, RuleKind
from alerts.models import AlertRule


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
