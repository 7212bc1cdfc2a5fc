"""The base of the builder pages and the builder page's context (shared by its fragments)."""

from django.db.models import Count
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from journeys import selectors as journey_selectors
from journeys.enums import JourneyStatus
from surveys import selectors, services
from surveys.builder.forms import (
    LANGUAGE_NAMES,
    QuestionAddForm,
    SurveySettingsForm,
    VersionTextsForm,
)
from surveys.enums import QuestionType, VersionStatus
from surveys.models import Survey
from tenancy import policies
from tenancy.views import OrganizationView


def builder_url(survey: Survey, anchor: str = "") -> str:
    url = reverse("surveys:builder", args=[survey.organization.slug, survey.public_id])
    return f"{url}#{anchor}" if anchor else url


class BuilderBaseView(OrganizationView):
    policy = policies.SURVEYS

    @property
    def can_write(self) -> bool:
        return self.actor.can(policies.SURVEYS.write)

    def survey(self, public_id: str) -> Survey:
        survey = selectors.access_survey(organization=self.organization, public_id=public_id)
        survey.organization = self.organization
        return survey

    def question(self, survey: Survey, public_id: str):
        question = selectors.access_question(organization=self.organization, public_id=public_id)
        if question.version.survey_id != survey.pk:
            raise Http404
        question.version.survey = survey
        return question

    def touchpoints(self, current=None) -> list:
        """Active touchpoints of active journeys (and the survey's own, even if archived)."""
        touchpoints = list(
            journey_selectors.touchpoint_list(organization=self.organization, archived=False)
            .filter(journey__status=JourneyStatus.ACTIVE)
            .prefetch_related(None)
            .order_by("journey__name", "journey_id", "stage__position", "position", "id")
        )
        if current is not None and current.pk not in {t.pk for t in touchpoints}:
            touchpoints.append(current)
        return touchpoints

    # --- the builder page and its fragments ---

    def builder_context(self, survey: Survey, **overrides) -> dict:
        version = selectors.working_version(survey)
        editable = version is not None and version.status == VersionStatus.DRAFT
        questions = list(selectors.question_list(organization=self.organization, version=version))
        for question in questions:
            question.version = version
        anchors = {question.key: f"q-{question.public_id}" for question in questions}
        problems = []
        if editable:
            version.survey = survey
            for problem in services.survey_validate(version):
                anchor = anchors.get(problem.question) or (
                    "texts" if problem.field in ("intro", "thank_you") else "questions"
                )
                problems.append({"message": problem.message, "anchor": anchor})
        language = survey.default_language
        for question in questions:
            question.display_text = question.text(language, fallback=survey.languages[0])
            question.condition_summary = _condition_summary(question, questions)
        context = {
            "survey": survey,
            "version": version,
            "editable": editable,
            "current": survey.current_version,
            "questions": questions,
            "problems": problems,
            "can_write": self.can_write,
            "add_form": QuestionAddForm(),
            "editing": None,
            "edit_form": None,
            "text_columns": [
                {
                    "code": code,
                    "name": LANGUAGE_NAMES.get(code, code),
                    "intro": (version.intro or {}).get(code, "") if version else "",
                    "thank_you": (version.thank_you or {}).get(code, "") if version else "",
                }
                for code in survey.languages
            ],
        }
        if "settings_form" not in overrides:
            context["settings_form"] = SurveySettingsForm(
                initial=SurveySettingsForm.initial_for(survey),
                organization=self.organization,
                touchpoints=self.touchpoints(survey.touchpoint),
            )
        if editable and "texts_form" not in overrides:
            context["texts_form"] = VersionTextsForm(
                initial=VersionTextsForm.initial_for(version), languages=survey.languages
            )
        context.update(overrides)
        return context

    def render_builder(self, request, survey: Survey, status: int = 200, **overrides):
        context = self.builder_context(survey, **overrides)
        context["versions"] = selectors.version_list(
            organization=self.organization, survey=survey
        ).annotate(response_count=Count("responses"))
        return render(request, "surveys/builder/builder.html", context, status=status)

    def render_questions(self, request, survey: Survey, message: str = "", **overrides):
        """The questions section, with the publish panel swapped out of band (HTMX)."""
        context = self.builder_context(survey, status_message=message, **overrides)
        return render(request, "surveys/builder/partials/questions_update.html", context)


def _condition_summary(question, questions) -> str:
    condition = question.condition
    if not condition:
        return ""
    target = next((q for q in questions if q.key == condition.get("question")), None)
    value = condition.get("value")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    elif target is not None and target.type == QuestionType.YES_NO and value in (0, 1):
        value = _("yes") if value == 1 else _("no")
    ops = {"lte": _("at most"), "gte": _("at least"), "eq": _("equals"), "in": _("is one of")}
    return _("Shown when %(question)s %(op)s %(value)s") % {
        "question": f"{target.position + 1}. {target.key}" if target else condition.get("question"),
        "op": ops.get(condition.get("op"), condition.get("op")),
        "value": value,
    }
