"""Response exports: the form (the dashboard's filters, a format), the list of larger exports
with their progress, and the downloads. Analysts and up (EXPORT); viewers get 403."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError
from reports import exports
from reports.models import ExportFormat
from tenancy import policies
from tenancy.views import OrganizationView

EXPORT_POLICY = policies.Policy(read=policies.Permission.EXPORT, write=policies.Permission.EXPORT)
JOBS_SHOWN = 50


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=_("Format"),
        choices=ExportFormat.choices,
        initial=ExportFormat.XLSX,
        widget=forms.RadioSelect,
    )
    contact_details = forms.BooleanField(
        label=_("Include the contact's email address and phone number"),
        required=False,
        help_text=_(
            "Only for responses to personal invitations. Leave this off unless you need to "
            "reach the people: the file then holds less personal data."
        ),
    )


def _attachment(export_file: exports.ExportFile) -> HttpResponse:
    response = HttpResponse(export_file.content, content_type=export_file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_file.filename}"'
    response["Cache-Control"] = "no-store"
    return response


class ExportListView(OrganizationView):
    """The export form (prefilled from the query string, so a dashboard can link here with its
    filters) and the larger exports of the last 7 days."""

    policy = EXPORT_POLICY
    template_name = "reports/exports/export_list.html"

    def _render(self, request, filter_form, export_form, status=200):
        context = {
            "filter_form": filter_form,
            "export_form": export_form,
            "jobs": exports.export_job_list(organization=self.organization)[:JOBS_SHOWN],
            "sync_max_rows": exports.sync_max_rows(),
            "export_days": exports.EXPORT_DAYS,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        filter_form = exports.export_filter_form(request.GET, organization=self.organization)
        filter_form.is_valid()
        return self._render(request, filter_form, ExportForm())

    def post(self, request, **kwargs):
        filter_form = exports.export_filter_form(request.POST, organization=self.organization)
        export_form = ExportForm(request.POST)
        if not (filter_form.is_valid() and export_form.is_valid()):
            return self._render(request, filter_form, export_form, status=400)
        try:
            result = exports.export_start(
                actor=self.actor,
                organization=self.organization,
                filters=filter_form.report_filters(),
                export_format=export_form.cleaned_data["format"],
                contact_details=export_form.cleaned_data["contact_details"],
            )
        except ApplicationError as error:
            export_form.add_error(None, error.message)
            return self._render(request, filter_form, export_form, status=400)
        if isinstance(result, exports.ExportFile):
            return _attachment(result)
        return redirect(
            "reports:export", org_slug=self.organization.slug, public_id=result.public_id
        )


class ExportJobView(OrganizationView):
    """One larger export: progress while it runs (HTMX replaces the block every 2 s; without
    JavaScript a refresh link), then the download."""

    policy = EXPORT_POLICY

    def get(self, request, public_id: str, **kwargs):
        job = exports.access_export_job(organization=self.organization, public_id=public_id)
        context = {"job": job}
        if request.htmx:
            return render(request, "reports/exports/partials/export_progress.html", context)
        return render(request, "reports/exports/export_detail.html", context)


class ExportJobDownloadView(OrganizationView):
    """The finished file, streamed from the database chunk by chunk; every download is audited."""

    policy = EXPORT_POLICY

    def get(self, request, public_id: str, **kwargs):
        job = exports.access_export_job(organization=self.organization, public_id=public_id)
        chunks = exports.export_job_download(
            actor=self.actor, organization=self.organization, job=job
        )
        response = StreamingHttpResponse(chunks, content_type=exports.CONTENT_TYPES[job.format])
        response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
        response["Content-Length"] = str(job.file_size)
        response["Cache-Control"] = "no-store"
        return response
