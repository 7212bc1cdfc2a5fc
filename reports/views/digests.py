"""Scheduled digests: list, create, edit and delete. Every member sees the list; analysts and up
(SHARE) manage digests, since a digest sends the organization's numbers by email."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError
from core.forms import add_application_error
from reports import dashboard_refs, digests
from reports.models import Cadence
from tenancy import policies
from tenancy.selectors import membership_list
from tenancy.views import OrganizationView

DIGEST_POLICY = policies.DIGESTS
# The edit and delete pages are forms: only for those who may change digests.
EDIT_POLICY = policies.Policy(read=DIGEST_POLICY.write, write=DIGEST_POLICY.write)


class _RecipientField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        user = obj.user
        return f"{user.full_name} <{user.email}>" if user.full_name else user.email


class DigestForm(forms.Form):
    dashboard = forms.ChoiceField(label=gettext_lazy("Dashboard"))
    cadence = forms.ChoiceField(
        label=gettext_lazy("How often"),
        choices=Cadence.choices,
        initial=Cadence.WEEKLY,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Sent in the morning, in your organization's time zone: daily about yesterday, "
            "weekly on Monday about last week, monthly on the 1st about last month."
        ),
    )
    recipients = _RecipientField(
        label=gettext_lazy("Recipients"),
        queryset=None,
        to_field_name="public_id",
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Members of the organization; each gets it in their own language."),
    )

    def __init__(self, data=None, *, organization, with_active: bool = False, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["dashboard"].choices = dashboard_refs.dashboard_choices(organization)
        self.fields["recipients"].queryset = membership_list(organization=organization)
        self.fields["recipients"].error_messages["invalid_choice"] = _(
            "Choose members of this organization."
        )
        if with_active:
            self.fields["is_active"] = forms.BooleanField(
                label=_("Active"),
                required=False,
                help_text=_("Untick to pause the digest without deleting it."),
            )

    def clean_dashboard(self) -> tuple[str, str]:
        try:
            return dashboard_refs.from_choice(self.cleaned_data["dashboard"])
        except ValueError:
            raise forms.ValidationError(_("Choose a dashboard.")) from None

    def service_arguments(self) -> dict:
        dashboard_type, public_id = self.cleaned_data["dashboard"]
        return {
            "dashboard_type": dashboard_type,
            "dashboard_public_id": public_id,
            "cadence": self.cleaned_data["cadence"],
            "recipients": list(self.cleaned_data["recipients"]),
        }


class DigestListView(OrganizationView):
    policy = DIGEST_POLICY
    template_name = "reports/digests/digest_list.html"

    def _render(self, request, form, status=200):
        can_write = self.actor.can(DIGEST_POLICY.write)
        context = {
            "rows": digests.digest_rows(organization=self.organization),
            "form": form if can_write else None,
            "can_write": can_write,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        own = membership_list(organization=self.organization).filter(user=request.user)
        form = DigestForm(
            organization=self.organization,
            initial={"recipients": list(own), "dashboard": "overview"},
        )
        return self._render(request, form)

    def post(self, request, **kwargs):
        form = DigestForm(request.POST, organization=self.organization)
        if form.is_valid():
            try:
                digests.digest_create(
                    actor=self.actor, organization=self.organization, **form.service_arguments()
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("The digest is scheduled."))
                return redirect("reports:digests", org_slug=self.organization.slug)
        return self._render(request, form, status=400)


class DigestEditView(OrganizationView):
    policy = EDIT_POLICY
    template_name = "reports/digests/digest_form.html"

    def _form(self, digest, data=None):
        initial = {
            "dashboard": dashboard_refs.to_choice(
                digest.dashboard_type, digest.dashboard_public_id
            ),
            "cadence": digest.cadence,
            "recipients": [r.membership for r in digest.recipients.all()],
            "is_active": digest.is_active,
        }
        return DigestForm(data, organization=self.organization, with_active=True, initial=initial)

    def get(self, request, public_id: str, **kwargs):
        digest = digests.access_digest(organization=self.organization, public_id=public_id)
        return render(request, self.template_name, {"digest": digest, "form": self._form(digest)})

    def post(self, request, public_id: str, **kwargs):
        digest = digests.access_digest(organization=self.organization, public_id=public_id)
        form = self._form(digest, request.POST)
        if form.is_valid():
            try:
                digests.digest_update(
                    actor=self.actor,
                    organization=self.organization,
                    digest=digest,
                    is_active=form.cleaned_data["is_active"],
                    **form.service_arguments(),
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("The digest was saved."))
                return redirect("reports:digests", org_slug=self.organization.slug)
        context = {"digest": digest, "form": form}
        return render(request, self.template_name, context, status=400)


class DigestDeleteView(OrganizationView):
    policy = EDIT_POLICY

    def get(self, request, public_id: str, **kwargs):
        digest = digests.access_digest(organization=self.organization, public_id=public_id)
        return render(request, "reports/digests/digest_delete.html", {"digest": digest})

    def post(self, request, public_id: str, **kwargs):
        digest = digests.access_digest(organization=self.organization, public_id=public_id)
        digests.digest_delete(actor=self.actor, organization=self.organization, digest=digest)
        messages.success(request, _("The digest was deleted."))
        return redirect("reports:digests", org_slug=self.organization.slug)
