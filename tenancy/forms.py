import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.enums import Language
from tenancy.models import MAX_EMBED_ORIGINS, Organization, web_origin

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

    embed_allowed_origins = forms.CharField(
        label=_("Websites allowed to embed your surveys"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "One address a line, like https://shop.example. Only pages of these websites can "
            "show your surveys with the embed script."
        ),
    )

    class Meta:
        model = Organization
        fields = [
            "name",
            "time_zone",
            "default_language",
            "languages",
            "brand_color",
            "embed_allowed_origins",
            "store_respondent_metadata",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and not self.is_bound:
            self.initial["embed_allowed_origins"] = "\n".join(
                self.instance.embed_allowed_origins or []
            )

    def clean_embed_allowed_origins(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["embed_allowed_origins"].splitlines()]
        origins: list[str] = []
        for line in filter(None, lines):
            origin = web_origin(line)
            if origin is None:
                raise forms.ValidationError(
                    _("%(value)s is not a website address like https://shop.example."),
                    params={"value": line},
                )
            if origin not in origins:
                origins.append(origin)
        if len(origins) > MAX_EMBED_ORIGINS:
            raise forms.ValidationError(
                _("List at most %(n)s websites."), params={"n": MAX_EMBED_ORIGINS}
            )
        return origins
