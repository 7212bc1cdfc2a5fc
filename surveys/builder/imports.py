"""Historical responses from CSV: the upload page of a survey, and each import's progress page,
which HTMX refreshes every 2 s while the task runs (without JavaScript, a refresh link), with
the rows that failed and a CSV of all of them."""

import csv

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError
from core.forms import add_application_error
from surveys import importing
from surveys.builder.base import BuilderBaseView

ERRORS_SHOWN = 50


class ResponseImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "First row names the columns: submitted_at, then question keys (channel, language, "
            "touchpoint and hidden_<name> if you have them). UTF-8, at most 10 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class ResponseImportView(BuilderBaseView):
    """Upload a CSV of a survey's historical responses; earlier imports of the survey below."""

    template_name = "surveys/builder/response_import.html"

    def _render(self, request, survey, form, status=200):
        context = {
            "survey": survey,
            "form": form,
            "can_write": self.can_write,
            "imports": importing.response_import_list(
                organization=self.organization, survey=survey
            )[:20],
            "columns": sorted(importing.expected_columns(survey))
            if survey.current_version_id
            else [],
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, public_id: str, **kwargs):
        return self._render(request, self.survey(public_id), ResponseImportForm())

    def post(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        form = ResponseImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = importing.response_import_start(
                    actor=self.actor,
                    organization=self.organization,
                    survey=survey,
                    filename=upload.name,
                    raw=upload.read(importing.MAX_BYTES + 1),
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                return redirect(
                    "surveys:response_import",
                    org_slug=self.organization.slug,
                    public_id=survey.public_id,
                    import_id=job.public_id,
                )
        return self._render(request, survey, form, status=400)


class ResponseImportDetailView(BuilderBaseView):
    """One import's progress, counts and failed rows."""

    def get(self, request, public_id: str, import_id: str, **kwargs):
        survey = self.survey(public_id)
        job = self._job(survey, import_id)
        errors = importing.response_import_errors(organization=self.organization, job=job)
        context = {"survey": survey, "job": job, "errors": errors[:ERRORS_SHOWN]}
        if request.htmx:
            return render(
                request, "surveys/builder/partials/response_import_progress.html", context
            )
        return render(request, "surveys/builder/response_import_detail.html", context)

    def _job(self, survey, import_id: str):
        job = importing.access_response_import(organization=self.organization, public_id=import_id)
        if job.survey_id != survey.pk:
            raise Http404
        job.survey = survey
        return job


class ResponseImportErrorsView(ResponseImportDetailView):
    """Every failed row as CSV (row numbers as a spreadsheet shows them)."""

    def get(self, request, public_id: str, import_id: str, **kwargs):
        job = self._job(self.survey(public_id), import_id)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="import-{job.public_id}-errors.csv"'
        )
        writer = csv.writer(response)
        writer.writerow([_("row"), _("column"), _("message")])
        errors = importing.response_import_errors(organization=self.organization, job=job)
        for row in errors.values_list("row_number", "column", "message").iterator(chunk_size=2000):
            writer.writerow(row)
        return response
