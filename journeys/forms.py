from django import forms
from django.utils.translation import gettext_lazy as _

from journeys.enums import Channel, Direction, KpiKind, Metric, plannable_metric_choices
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint


class ServiceModelForm(forms.ModelForm):
    """A model form that only validates: services save, so the instance must stay untouched
    (the service compares old and new values for the audit log). Services check uniqueness and
    membership and report them on their fields."""

    def _post_clean(self):
        pass


class JourneyForm(ServiceModelForm):
    class Meta:
        model = Journey
        fields = ["name", "segment", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class JourneyCopyForm(forms.Form):
    name = forms.CharField(label=_("Name of the copy"), max_length=200)
    segment = forms.CharField(
        label=_("Segment"),
        max_length=200,
        required=False,
        help_text=_("The customer group the copy describes, e.g. B2B key accounts."),
    )


class StageForm(ServiceModelForm):
    class Meta:
        model = Stage
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=Direction.choices)


DIGITAL_CHOICES = [
    ("", _("Decide from the channel")),
    ("digital", _("Digital")),
    ("physical", _("Physical")),
]


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return f"{user.full_name} ({user.email})" if user.full_name else user.email


class TouchpointForm(ServiceModelForm):
    """Touchpoint fields; `stages` (on edit) offers the journey's stages to move it between."""

    kind = forms.ChoiceField(
        label=_("Digital or physical"), choices=DIGITAL_CHOICES, required=False
    )
    owner = OwnerChoiceField(
        label=_("Owner"),
        queryset=None,
        required=False,
        to_field_name="public_id",
        empty_label=_("Nobody yet"),
        help_text=_("The member alerts and follow-up cases go to."),
    )
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=None, to_field_name="public_id")

    class Meta:
        model = Touchpoint
        fields = [
            "name",
            "stage",
            "channel",
            "kind",
            "is_key",
            "owner",
            "external_ref",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, owners, stages=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        if stages is None:
            del self.fields["stage"]
        else:
            self.fields["stage"].queryset = stages
            self.fields["stage"].empty_label = None
        self.fields["channel"].choices = Channel.choices
        if self.instance.pk:
            self.initial["kind"] = "digital" if self.instance.is_digital else "physical"

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        kind = data.pop("kind")
        data["is_digital"] = {"digital": True, "physical": False}.get(kind)
        if data["is_digital"] is None and self.instance.pk:
            data["is_digital"] = self.instance.is_digital
        return data


class MeasurementPlanForm(ServiceModelForm):
    class Meta:
        model = MeasurementPlan
        fields = [
            "metric",
            "kpi_kind",
            "baseline_value",
            "baseline_date",
            "target_value",
            "target_date",
        ]
        widgets = {
            "baseline_date": forms.DateInput(attrs={"type": "date"}),
            "target_date": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {
            "baseline_value": _("Where the touchpoint stands today, in the metric's own scale."),
            "target_value": _("Where it should be by the target date."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = plannable_metric_choices()
        # A plan kept from before its metric lost its scorer stays editable as it is.
        current = self.instance.metric if self.instance.pk else None
        if current and current not in dict(choices):
            choices.append((current, Metric(current).label))
        self.fields["metric"].choices = choices
        self.fields["kpi_kind"].choices = KpiKind.choices
