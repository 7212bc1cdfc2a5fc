"""Pages where CX managers set the sending settings and a survey's invitation email texts.

Everyone who may read the organization's distribution pages sees them; only those who may send
invitations (`policies.CONTACTS.write`) get the forms.
"""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError
from core.forms import add_service_errors
from distribution.services import configuration
from distribution.services.messaging import public_url, render_survey_email
from surveys.selectors import access_survey
from tenancy import policies
from tenancy.enums import Language
from tenancy.views import OrganizationView

# The preview has no invitation, so its links carry a sample token that opens no survey.
PREVIEW_TOKEN = "previewToken"
PREVIEW_FORMATS = ("html", "text")


# --- sending settings --------------------------------------------------------------------------


def _days_field(name: str, label, help_text) -> forms.IntegerField:
    low, high = configuration.DAY_BOUNDS[name]
    return forms.IntegerField(label=label, min_value=low, max_value=high, help_text=help_text)


class DistributionSettingsForm(forms.Form):
    survey_throttle_days = _days_field(
        "survey_throttle_days",
        gettext_lazy("Days before the same survey again"),
        gettext_lazy(
            "A contact who was sent this survey within this many days is skipped when it is sent "
            "to them again. 0 turns the rule off."
        ),
    )
    quarantine_days = _days_field(
        "quarantine_days",
        gettext_lazy("Days before any survey again"),
        gettext_lazy(
            "A contact who was sent any of your surveys within this many days is skipped, so "
            "nobody is asked too often. 0 turns the rule off."
        ),
    )
    link_expiry_days = _days_field(
        "link_expiry_days",
        gettext_lazy("Days a survey link works"),
        gettext_lazy(
            "A personal survey link stops taking answers this many days after its invitation "
            "was due to be sent; a reminder gives it this many days again. Invitations already "
            "made keep their links."
        ),
    )
    sms_sender = forms.CharField(
        label=gettext_lazy("SMS sender"),
        required=False,
        max_length=20,
        help_text=gettext_lazy(
            "What phones show as the sender: a phone number in international form "
            "(+358 40 123 4567) or a name of 1–11 letters and digits (AcmeOy). Answers and STOP "
            "replies reach you only when the sender is a phone number. Empty: the service's "
            "own number."
        ),
    )

    @classmethod
    def initial_for(cls, current) -> dict:
        return {name: getattr(current, name) for name in configuration.SETTINGS_FIELDS}


class DistributionSettingsView(OrganizationView):
    """The organization's contact-frequency rules, link expiry and SMS sender."""

    policy = policies.CONTACTS
    template_name = "distribution/sending_settings.html"

    def _render(self, request, form=None, status: int = 200):
        current = configuration.distribution_settings_get(organization=self.organization)
        can_write = self.actor.can(policies.CONTACTS.write)
        if can_write and form is None:
            form = DistributionSettingsForm(initial=DistributionSettingsForm.initial_for(current))
        context = {
            "settings": current,
            "form": form,
            "can_write": can_write,
            "help": {
                name: field.help_text
                for name, field in DistributionSettingsForm.base_fields.items()
            },
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        return self._render(request)

    def post(self, request, **kwargs):
        form = DistributionSettingsForm(request.POST)
        if form.is_valid():
            try:
                configuration.distribution_settings_update(
                    actor=self.actor, organization=self.organization, **form.cleaned_data
                )
            except ApplicationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Sending settings saved."))
                return redirect("distribution:sending_settings", org_slug=self.organization.slug)
        return self._render(request, form, status=400)


# --- a survey's invitation email ---------------------------------------------------------------


class SurveyEmailForm(forms.Form):
    """Subject and introduction per language, named `subject_fi`, `intro_sv`...; the default
    texts are the placeholders, since an empty field means "use the default"."""

    def __init__(self, *args, texts: list[configuration.EmailTexts], **kwargs):
        super().__init__(*args, **kwargs)
        self.texts = texts
        for each in texts:
            name, code = each.name, each.language
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": name},
                required=False,
                max_length=configuration.SUBJECT_MAX,
                initial=each.subject,
                widget=forms.TextInput(attrs={"lang": code, "placeholder": each.default_subject}),
            )
            self.fields[f"intro_{code}"] = forms.CharField(
                label=_("Introduction (%(language)s)") % {"language": name},
                required=False,
                max_length=configuration.INTRO_MAX,
                initial=each.intro,
                widget=forms.Textarea(
                    attrs={"rows": 5, "lang": code, "placeholder": each.default_intro}
                ),
            )

    def language_columns(self) -> list[dict]:
        return [
            {
                "texts": each,
                "fields": [self[f"subject_{each.language}"], self[f"intro_{each.language}"]],
            }
            for each in self.texts
        ]


class SurveyEmailView(OrganizationView):
    """A survey's invitation email: its own subject and introduction in fi, sv and en, and a
    preview rendered exactly as an email is (saved texts, a sample link)."""

    policy = policies.CONTACTS
    template_name = "distribution/survey_email.html"

    def _preview(self, request, survey) -> dict:
        language = request.GET.get("language", "")
        if language not in configuration.LANGUAGES:
            language = survey.default_language
        kind = request.GET.get("format", "")
        kind = kind if kind in PREVIEW_FORMATS else PREVIEW_FORMATS[0]
        rendered = render_survey_email(
            survey=survey,
            organization=self.organization,
            language=language,
            token=PREVIEW_TOKEN,
            unsubscribe_url=public_url(reverse("distribution:unsubscribe", args=["preview"])),
        )
        return {
            "language": language,
            "language_name": Language(language).label,
            "format": kind,
            "subject": rendered["subject"],
            "body": rendered[kind],
            "languages": [
                {"code": code, "name": Language(code).label} for code in configuration.LANGUAGES
            ],
        }

    def _render(self, request, survey, texts, form=None, status: int = 200):
        can_write = self.actor.can(policies.CONTACTS.write)
        if can_write and form is None:
            form = SurveyEmailForm(texts=texts)
        context = {
            "survey": survey,
            "texts": texts,
            "form": form,
            "can_write": can_write,
            "preview": self._preview(request, survey),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, public_id: str, **kwargs):
        survey = access_survey(organization=self.organization, public_id=public_id)
        texts = configuration.survey_email_texts(organization=self.organization, survey=survey)
        return self._render(request, survey, texts)

    def post(self, request, public_id: str, **kwargs):
        survey = access_survey(organization=self.organization, public_id=public_id)
        texts = configuration.survey_email_texts(organization=self.organization, survey=survey)
        form = SurveyEmailForm(request.POST, texts=texts)
        if form.is_valid():
            refused = self._save_all(survey, form.cleaned_data)
            for language, error in refused:
                add_service_errors(form, error, suffix=f"_{language}")
            if not refused:
                messages.success(request, _("Invitation email texts saved."))
                url = reverse(
                    "distribution:survey_email", args=[self.organization.slug, survey.public_id]
                )
                language = request.GET.get("language", "")
                suffix = f"?language={language}" if language in configuration.LANGUAGES else ""
                return redirect(url + suffix)
        return self._render(request, survey, texts, form, status=400)

    def _save_all(self, survey, data: dict) -> list[tuple[str, ApplicationError]]:
        """Save every language, or none when any is refused; returns the refusals."""
        refused = []
        with transaction.atomic():
            for language in configuration.LANGUAGES:
                try:
                    configuration.survey_email_template_save(
                        actor=self.actor,
                        organization=self.organization,
                        survey=survey,
                        language=language,
                        subject=data[f"subject_{language}"],
                        intro=data[f"intro_{language}"],
                    )
                except ApplicationError as error:
                    refused.append((language, error))
            if refused:
                transaction.set_rollback(True)
        return refused
