"""Surveys: the list, new survey, import, the builder page, settings, texts, versions,
publish, close/reopen and the JSON export."""

import json

from django.contrib import messages
from django.db.models import IntegerField, OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.forms import add_application_error
from surveys import selectors, services
from surveys.builder.base import BuilderBaseView, builder_url
from surveys.builder.forms import (
    SurveyCreateForm,
    SurveyImportForm,
    SurveySettingsForm,
    VersionTextsForm,
)
from surveys.enums import VersionStatus
from surveys.models import SurveyVersion


class SurveyListView(BuilderBaseView):
    """Every survey with its touchpoint, status, current version and response count: one query
    that never reads responses (the count is `Survey.response_count`, kept by the response path),
    so its cost does not grow with them."""

    def get(self, request, **kwargs):
        draft_number = SurveyVersion.objects.filter(
            survey=OuterRef("pk"), status=VersionStatus.DRAFT
        ).values("number")[:1]
        surveys = (
            selectors.survey_list(organization=self.organization)
            .select_related("touchpoint__journey")
            .annotate(draft_number=Subquery(draft_number, output_field=IntegerField()))
            .order_by("name", "id")
        )
        return render(
            request,
            "surveys/builder/survey_list.html",
            {"surveys": surveys, "can_write": self.can_write},
        )


class SurveyCreateView(BuilderBaseView):
    template_name = "surveys/builder/survey_create.html"

    def _form(self, data=None) -> SurveyCreateForm:
        initial = {}
        wanted = self.request.GET.get("touchpoint", "")
        if wanted:
            initial["touchpoint"] = wanted
        return SurveyCreateForm(data, initial=initial, touchpoints=self.touchpoints())

    def get(self, request, **kwargs):
        return render(request, self.template_name, {"form": self._form()})

    def post(self, request, **kwargs):
        form = self._form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["template"]:
                    survey = services.survey_create_from_template(
                        actor=self.actor,
                        organization=self.organization,
                        template_key=data["template"],
                        name=data["name"].strip(),
                        touchpoint=form.cleaned_touchpoint,
                    )
                else:
                    survey = services.survey_create(
                        actor=self.actor,
                        organization=self.organization,
                        name=data["name"],
                        touchpoint=form.cleaned_touchpoint,
                    )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Survey created. Edit it, then publish it."))
                return redirect(builder_url(survey))
        return render(request, self.template_name, {"form": form}, status=400)


class SurveyImportView(BuilderBaseView):
    template_name = "surveys/builder/survey_import.html"

    def get(self, request, **kwargs):
        form = SurveyImportForm(touchpoints=self.touchpoints())
        return render(request, self.template_name, {"form": form, "file_errors": []})

    def post(self, request, **kwargs):
        form = SurveyImportForm(request.POST, request.FILES, touchpoints=self.touchpoints())
        file_errors = []
        if form.is_valid():
            try:
                survey = services.survey_import(
                    actor=self.actor,
                    organization=self.organization,
                    data=form.cleaned_data["file"],
                    name=form.cleaned_data["name"].strip(),
                    touchpoint=form.cleaned_touchpoint,
                )
            except ApplicationError as error:
                file_errors = error.extra.get("errors") or []
                form.add_error("file" if file_errors else None, error.message)
            else:
                messages.success(request, _("Survey imported as a draft."))
                return redirect(builder_url(survey))
        context = {"form": form, "file_errors": file_errors}
        return render(request, self.template_name, context, status=400)


# --- the builder ----------------------------------------------------------------------------


class BuilderView(BuilderBaseView):
    def get(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        if request.htmx and request.GET.get("part") == "questions":
            return self.render_questions(request, survey)
        return self.render_builder(request, survey)


class SurveySettingsView(BuilderBaseView):
    def post(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        form = SurveySettingsForm(
            request.POST,
            organization=self.organization,
            touchpoints=self.touchpoints(survey.touchpoint),
        )
        if form.is_valid():
            try:
                services.survey_update(actor=self.actor, survey=survey, **form.service_kwargs())
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Settings saved."))
                return redirect(builder_url(survey, "settings"))
        return self.render_builder(request, survey, status=400, settings_form=form)


class VersionTextsView(BuilderBaseView):
    def post(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        version = selectors.working_version(survey)
        form = VersionTextsForm(request.POST, languages=survey.languages)
        if form.is_valid():
            try:
                services.version_update_texts(
                    actor=self.actor, survey=survey, **form.service_kwargs(version)
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Introduction and thank-you texts saved."))
                return redirect(builder_url(survey, "texts"))
        return self.render_builder(request, survey, status=400, texts_form=form)


class SurveyNewDraftView(BuilderBaseView):
    def post(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        draft = services.survey_new_draft(actor=self.actor, survey=survey)
        messages.success(
            request,
            _("You are editing the draft of version %(number)s.") % {"number": draft.number},
        )
        return redirect(builder_url(survey, "questions"))


class SurveyPublishView(BuilderBaseView):
    def post(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        try:
            version = services.survey_publish(actor=self.actor, survey=survey)
        except ApplicationError as error:
            if error.code == "survey_invalid":
                return self.render_builder(request, survey, status=400, publish_error=error.message)
            messages.error(request, error.message)
            return redirect(builder_url(survey))
        messages.success(
            request,
            _("Version %(number)s is published: respondents answer it from now on.")
            % {"number": version.number},
        )
        return redirect(builder_url(survey))


class SurveyCloseView(BuilderBaseView):
    def post(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        try:
            services.survey_close(actor=self.actor, survey=survey)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The survey is closed: its links show a closed page."))
        return redirect(builder_url(survey))


class SurveyReopenView(BuilderBaseView):
    def post(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        services.survey_reopen(actor=self.actor, survey=survey)
        messages.success(request, _("The survey is open again."))
        return redirect(builder_url(survey))


class SurveyExportView(BuilderBaseView):
    """The latest version (draft or published) as a portable JSON file."""

    def get(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        body = json.dumps(services.survey_export(survey), ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        filename = f"{slugify(survey.name) or 'survey'}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
