"""Pages of contact CSV imports: upload, column mapping, progress and the rows refused."""

import csv

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.forms import add_application_error
from distribution import selectors
from distribution.enums import ImportStatus
from distribution.forms import ImportMappingForm, ImportUploadForm
from distribution.services import importing
from tenancy import policies
from tenancy.views import OrganizationView


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
