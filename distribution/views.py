import csv
import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.forms import add_application_error
from distribution import importing, selectors, services
from distribution.enums import ConsentSource, ImportStatus
from distribution.forms import (
    ContactFilterForm,
    ContactForm,
    ImportMappingForm,
    ImportUploadForm,
    SegmentForm,
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


class ImportListView(OrganizationView):
    """Earlier imports and the upload form (upload -> mapping -> import)."""

    policy = policies.CONTACTS
    template_name = "distribution/import_list.html"

    def _render(self, request, form, status=200):
        context = {
            "form": form,
            "imports": selectors.contact_import_list(organization=self.organization)[:50],
            "can_write": self.actor.can(policies.CONTACTS.write),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        return self._render(request, ImportUploadForm())

    def post(self, request, **kwargs):
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                contact_import = importing.contact_import_upload(
                    actor=self.actor,
                    organization=self.organization,
                    filename=upload.name,
                    raw=upload.read(importing.MAX_IMPORT_BYTES + 1),
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                return redirect(
                    "distribution:import",
                    org_slug=self.organization.slug,
                    public_id=contact_import.public_id,
                )
        return self._render(request, form, status=400)


class ImportDetailView(OrganizationView):
    """A draft shows its preview and column mapping; a started import shows its progress
    (HTMX replaces the progress block every 2 s while it runs; without JS, a refresh link)."""

    policy = policies.CONTACTS

    def _mapping_form(self, contact_import, data=None):
        preview = importing.import_preview(contact_import)
        samples = list(zip(*preview, strict=True)) if preview else [[]] * len(contact_import.header)
        form = ImportMappingForm(
            data, header=contact_import.header, mapping=contact_import.mapping, samples=samples
        )
        return form, preview

    def _render(self, request, contact_import, form=None, preview=None, status=200):
        context = {"contact_import": contact_import, "form": form, "preview": preview}
        if request.htmx and contact_import.status != ImportStatus.DRAFT:
            return render(request, "distribution/partials/import_progress.html", context)
        return render(request, "distribution/import_detail.html", context, status=status)

    def get(self, request, public_id: str, **kwargs):
        # The CSV text is deferred; only a draft's mapping page reads it (one more query).
        contact_import = selectors.access_contact_import(
            organization=self.organization, public_id=public_id
        )
        form, preview = (None, None)
        if contact_import.status == ImportStatus.DRAFT:
            form, preview = self._mapping_form(contact_import)
        return self._render(request, contact_import, form, preview)

    def post(self, request, public_id: str, **kwargs):
        contact_import = selectors.access_contact_import(
            organization=self.organization, public_id=public_id, with_content=True
        )
        form, preview = self._mapping_form(contact_import, request.POST)
        if form.is_valid():
            try:
                importing.contact_import_start(
                    actor=self.actor,
                    organization=self.organization,
                    contact_import=contact_import,
                    mapping=form.mapping(),
                    phone_region=form.cleaned_data["phone_region"],
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("The import has started."))
                return redirect(
                    "distribution:import", org_slug=self.organization.slug, public_id=public_id
                )
        return self._render(request, contact_import, form, preview, status=400)


class ImportErrorsView(OrganizationView):
    """The per-row error report as CSV (row numbers as a spreadsheet shows them)."""

    policy = policies.CONTACTS

    def get(self, request, public_id: str, **kwargs):
        contact_import = selectors.access_contact_import(
            organization=self.organization, public_id=public_id
        )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{public_id}-errors.csv"'
        writer = csv.writer(response)
        writer.writerow([_("row"), _("column"), _("message")])
        errors = selectors.contact_import_errors(
            organization=self.organization, contact_import=contact_import
        ).values_list("row_number", "column", "message")
        for row in errors.iterator(chunk_size=2000):
            writer.writerow(row)
        return response


class SegmentListView(OrganizationView):
    policy = policies.CONTACTS
    template_name = "distribution/segment_list.html"

    def _render(self, request, form, status=200):
        context = {
            "segments": selectors.segment_list(organization=self.organization),
            "form": form,
            "can_write": self.actor.can(policies.CONTACTS.write),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        return self._render(request, SegmentForm())

    def post(self, request, **kwargs):
        form = SegmentForm(request.POST)
        if form.is_valid():
            try:
                segment = services.segment_create(
                    actor=self.actor,
                    organization=self.organization,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    rules=form.cleaned_data["rules"],
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Segment saved."))
                return redirect(
                    "distribution:segment",
                    org_slug=self.organization.slug,
                    public_id=segment.public_id,
                )
        return self._render(request, form, status=400)


class SegmentDetailView(OrganizationView):
    """A segment: how many contacts match now, the first 20 of them, and its rules."""

    policy = policies.CONTACTS
    template_name = "distribution/segment_detail.html"
    PREVIEW = 20

    def _render(self, request, segment, form, status=200):
        contacts = selectors.segment_contacts(segment)
        context = {
            "segment": segment,
            "count": contacts.count(),
            "preview": contacts[: self.PREVIEW],
            "form": form,
            "can_write": self.actor.can(policies.CONTACTS.write),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, public_id: str, **kwargs):
        segment = selectors.access_segment(organization=self.organization, public_id=public_id)
        return self._render(request, segment, SegmentForm(initial=SegmentForm.initial_for(segment)))

    def post(self, request, public_id: str, **kwargs):
        segment = selectors.access_segment(organization=self.organization, public_id=public_id)
        form = SegmentForm(request.POST)
        if form.is_valid():
            try:
                segment = services.segment_update(
                    actor=self.actor,
                    organization=self.organization,
                    segment=segment,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    rules=form.cleaned_data["rules"],
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Segment saved."))
                return redirect(
                    "distribution:segment", org_slug=self.organization.slug, public_id=public_id
                )
        return self._render(request, segment, form, status=400)


class SegmentDeleteView(OrganizationView):
    policy = policies.Policy(read=policies.Permission.BUILD, write=policies.Permission.BUILD)

    def post(self, request, public_id: str, **kwargs):
        segment = selectors.access_segment(organization=self.organization, public_id=public_id)
        services.segment_delete(actor=self.actor, organization=self.organization, segment=segment)
        messages.success(request, _("Segment deleted."))
        return redirect("distribution:segments", org_slug=self.organization.slug)
