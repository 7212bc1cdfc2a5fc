"""The respondent preview in a phone-sized frame."""

from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from surveys import respond, selectors
from surveys.builder.base import BuilderBaseView
from surveys.instruments import evaluate
from surveys.models import Survey, SurveyVersion


def _preview_languages(survey: Survey, version: SurveyVersion) -> list[str]:
    return list(version.languages if version.is_published else survey.languages)


def _preview_language(request, offered: list[str], survey: Survey) -> str:
    wanted = request.GET.get("lang") or request.POST.get("lang")
    return wanted if wanted in offered else survey.default_language


class SurveyPreviewView(BuilderBaseView):
    """The draft (or current) version in a phone-sized frame, with a language switcher."""

    def get(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        version = selectors.working_version(survey)
        offered = _preview_languages(survey, version)
        language = _preview_language(request, offered, survey)
        base = reverse("surveys:builder_preview", args=[self.organization.slug, survey.public_id])
        context = {
            "survey": survey,
            "version": version,
            "language": language,
            "languages": [
                {
                    "code": code,
                    "name": respond.LANGUAGE_NAMES.get(code, code),
                    "url": f"{base}?{urlencode({'lang': code})}",
                    "current": code == language,
                }
                for code in offered
            ],
            "frame_url": f"{base}frame/?{urlencode({'lang': language})}",
        }
        return render(request, "surveys/builder/preview.html", context)


class SurveyPreviewFrameView(BuilderBaseView):
    """What a respondent sees, rendered with the respondent templates and surveys.respond.

    The form posts back here, and a POST records nothing: it evaluates the answers as the real
    page does (follow-ups revealed, errors shown, the thank-you page when complete) and says
    that this was a preview. Allowed inside a frame of our own pages only (SAMEORIGIN); CSRF is
    exempted in urls.py because the respondent form carries no token and the POST writes nothing.
    """

    def render_frame(self, request, survey, template: str, context: dict):
        response = render(request, template, context)
        response["X-Frame-Options"] = "SAMEORIGIN"
        return response

    def _base(self, request, survey, version):
        offered = _preview_languages(survey, version)
        language = _preview_language(request, offered, survey)
        return language, {
            "survey": survey,
            "organization": self.organization,
            "brand_colour": respond.brand_colour(self.organization.brand_color),
            "brand_ink": respond.brand_ink(self.organization.brand_color),
            "language": language,
            "languages": [
                {
                    "code": code,
                    "name": respond.LANGUAGE_NAMES.get(code, code),
                    "url": "?" + urlencode({"lang": code}),
                    "current": code == language,
                }
                for code in offered
            ],
        }

    def _form(self, request, survey, version, values, errors, shown, message=""):
        language, context = self._base(request, survey, version)
        questions = list(version.questions.order_by("position", "id"))
        with translation.override(language):
            views = respond.question_views(
                questions,
                language=language,
                fallback=survey.default_language,
                values=values,
                errors=errors,
                shown=shown,
            )
            context.update(
                {
                    "intro": respond.texts_in(version.intro, language, survey.default_language),
                    "questions": views,
                    "error_questions": [view for view in views if view.errors and view.shown],
                    "general_errors": [],
                    "seen": ",".join(shown),
                    "message": message,
                    "can_save": False,
                }
            )
            return self.render_frame(request, survey, "surveys/respond/form.html", context)

    def get(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        version = selectors.working_version(survey)
        questions = list(version.questions.order_by("position", "id"))
        values = respond.score_preselection(questions, request.GET.get("score"))
        shown = evaluate(questions, respond.raw_answers(questions, values), strict_keys=False).shown
        return self._form(request, survey, version, values, {}, shown)

    def post(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        version = selectors.working_version(survey)
        language, base = self._base(request, survey, version)
        questions = list(version.questions.order_by("position", "id"))
        values = respond.form_values(questions, request.POST)
        with translation.override(language):
            evaluation = evaluate(
                questions, respond.raw_answers(questions, values), strict_keys=False
            )
            seen = set(filter(None, request.POST.get("seen", "").split(",")))
            conditional = {q.key for q in questions if q.condition}
            revealed = [k for k in evaluation.shown if k in conditional and k not in seen]
            preview_note = _("Preview: nothing was saved.")
            if revealed or evaluation.errors:
                errors = {k: v for k, v in evaluation.errors.items() if k not in revealed}
                return self._form(
                    request, survey, version, values, errors, evaluation.shown, preview_note
                )
            thank_you = respond.texts_in(version.thank_you, language, survey.default_language)
            base["thank_you"] = f"{thank_you or _('Thank you for your feedback!')}"
            response = self.render_frame(request, survey, "surveys/respond/thanks.html", base)
            return response
