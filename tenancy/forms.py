import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.enums import Language
from tenancy.models import Organization

COMMON_TIME_ZONES = sorted(zoneinfo.available_timezones())


class OrganizationSettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=[(tz, tz) for tz in COMMON_TIME_ZONES]
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages offered to respondents"),
        choices=Language.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    brand_color = forms.RegexField(
        label=_("Brand colour"),
        regex=r"^#[0-9a-fA-F]{6}$",
        widget=forms.TextInput(attrs={"type": "color"}),
        error_messages={"invalid": _("Use a colour like #1f5f8b.")},
    )

    class Meta:
        model = Organization
        fields = [
            "name",
            "time_zone",
            "default_language",
            "languages",
            "brand_color",
            "store_respondent_metadata",
        ]
