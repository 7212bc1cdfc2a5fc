"""Pages of contacts: the list, a contact's page, editing, GDPR export and erasure."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.forms import add_application_error
from distribution import selectors, services
from distribution.enums import ConsentSource
from distribution.forms import (
    ContactFilterForm,
    ContactForm,
)
from surveys import wording
from tenancy import policies
from tenancy.views import OrganizationView

PAGE_SIZE = 50
EXPORT_POLICY = policies.Policy(read=policies.Permission.EXPORT, write=policies.Permission.EXPORT)


class ContactListView(OrganizationView):
    """Contacts, newest first, with search, segment and attribute filters; 50 to a page."""

    policy = policies.CONTACTS

    def get(self, request, **kwargs):
        segments = list(selectors.segment_list(organization=self.organization))
        form = ContactFilterForm(request.GET or None, segments=segments)
        contacts = selectors.contact_list(organization=self.organization)
        if form.is_valid():
            data = form.cleaned_data
            segment = next((s for s in segments if s.public_id == data["segment"]), None)
            attributes = {data["attribute"]: data["value"]} if data["attribute"] else None
            try:
                contacts = selectors.contact_list(
                    organization=self.organization,
                    search=data["q"],
                    attributes=attributes,
                    segment=segment,
                )
            except ApplicationError as error:
                form.add_error("attribute", error.message)
        page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_write": self.actor.can(policies.CONTACTS.write),
        }
        return render(request, "distribution/contact_list.html", context)


class ContactCreateView(OrganizationView):
    policy = policies.CONTACTS
    template_name = "distribution/contact_form.html"

    def get(self, request, **kwargs):
        return render(request, self.template_name, {"form": ContactForm(), "contact": None})

    def post(self, request, **kwargs):
        form = ContactForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data.pop("email_opted_out")
            data.pop("sms_opted_out")
            data.pop("opt_out_reason")
            try:
                contact = services.contact_create(
                    actor=self.actor,
                    organization=self.organization,
                    consent_source=ConsentSource.FORM,
                    **data,
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Contact saved."))
                return redirect(
                    "distribution:contact",
                    org_slug=self.organization.slug,
                    public_id=contact.public_id,
                )
        return render(request, self.template_name, {"form": form, "contact": None}, status=400)


class ContactEditView(OrganizationView):
    policy = policies.CONTACTS
    template_name = "distribution/contact_form.html"

    def get(self, request, public_id: str, **kwargs):
        contact = selectors.access_contact(organization=self.organization, public_id=public_id)
        form = ContactForm(initial=ContactForm.initial_for(contact))
        return render(request, self.template_name, {"form": form, "contact": contact})

    def post(self, request, public_id: str, **kwargs):
        contact = selectors.access_contact(organization=self.organization, public_id=public_id)
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                services.contact_update(
                    actor=self.actor,
                    organization=self.organization,
                    contact=contact,
                    consent_source=ConsentSource.FORM,
                    **form.cleaned_data,
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Contact saved."))
                return redirect(
                    "distribution:contact", org_slug=self.organization.slug, public_id=public_id
                )
        return render(request, self.template_name, {"form": form, "contact": contact}, status=400)


class ContactDetailView(OrganizationView):
    """The contact's 360 view: attributes, consent and opt-outs per channel, invitations with
    their delivery history, responses with scores and comments, and the audit trail.

    Invitations and responses show the newest `history_limit` each (the JSON export holds all);
    the page costs the same number of queries however many there are.
    """

    policy = policies.CONTACTS
    history_limit = 100

    def get(self, request, public_id: str, **kwargs):
        contact = selectors.access_contact(organization=self.organization, public_id=public_id)
        org, limit = self.organization, self.history_limit
        invitations_qs = selectors.contact_invitations(organization=org, contact=contact)
        responses_qs = selectors.contact_responses(organization=org, contact=contact)
        # One row past the limit tells whether there are more without counting every time.
        invitations = list(invitations_qs[: limit + 1])
        responses = list(responses_qs[: limit + 1])
        context = {
            "contact": contact,
            "channels": [contact.consent_for(channel) for channel in ("email", "sms")],
            "invitations": invitations[:limit],
            "invitations_total": invitations_qs.count() if len(invitations) > limit else None,
            "responses": [self._response_row(response) for response in responses[:limit]],
            "responses_total": responses_qs.count() if len(responses) > limit else None,
            "history_limit": limit,
            "activity": selectors.contact_activity(organization=org, contact=contact),
            "can_write": self.actor.can(policies.CONTACTS.write),
            "can_export": self.actor.can(policies.Permission.EXPORT),
        }
        return render(request, "distribution/contact_detail.html", context)

    # The wording of answers is shared with the reports' response pages (surveys.wording).
    _response_row = staticmethod(wording.response_in_words)


class ContactExportView(OrganizationView):
    """GDPR access: everything about the contact as a JSON download (each download is audited)."""

    policy = EXPORT_POLICY

    def get(self, request, public_id: str, **kwargs):
        contact = selectors.access_contact(organization=self.organization, public_id=public_id)
        data = services.contact_export(
            actor=self.actor, organization=self.organization, contact=contact
        )
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="contact-{public_id}.json"'
        response["Cache-Control"] = "no-store"
        return response


class ContactEraseView(OrganizationView):
    policy = policies.Policy(read=policies.Permission.BUILD, write=policies.Permission.BUILD)

    def get(self, request, public_id: str, **kwargs):
        contact = selectors.access_contact(organization=self.organization, public_id=public_id)
        return render(request, "distribution/contact_erase.html", {"contact": contact})

    def post(self, request, public_id: str, **kwargs):
        contact = selectors.access_contact(organization=self.organization, public_id=public_id)
        services.contact_erase(actor=self.actor, organization=self.organization, contact=contact)
        messages.success(request, _("The contact and their personal data were erased."))
        return redirect("distribution:contacts", org_slug=self.organization.slug)
