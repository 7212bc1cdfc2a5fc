"""Questions of the draft: add (choose a type), edit in place, move up/down, remove."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.forms import add_application_error
from surveys import selectors, services
from surveys.builder.base import BuilderBaseView, builder_url
from surveys.builder.forms import (
    MoveForm,
    QuestionAddForm,
    QuestionForm,
)


class QuestionAddView(BuilderBaseView):
    """Add a question of the chosen type (with the standard texts of that type), then edit it."""

    def post(self, request, public_id: str, **kwargs):
        survey = self.survey(public_id)
        form = QuestionAddForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a question type."))
            return redirect(builder_url(survey, "add-question"))
        question = services.question_add(
            actor=self.actor, survey=survey, **form.service_kwargs(survey.languages)
        )
        if request.htmx:
            question.version.survey = survey
            edit_form = _question_form(self.organization, survey, question)
            message = _("Question %(n)s added.") % {"n": question.position + 1}
            return self.render_questions(
                request, survey, message, editing=question.public_id, edit_form=edit_form
            )
        return redirect(
            "surveys:question_edit",
            org_slug=self.organization.slug,
            public_id=survey.public_id,
            question_id=question.public_id,
        )


def _question_form(organization, survey, question, data=None) -> QuestionForm:
    earlier = list(
        selectors.question_list(organization=organization, version=question.version).filter(
            position__lt=question.position
        )
    )
    return QuestionForm(
        data,
        question=question,
        languages=survey.languages,
        earlier=earlier,
        auto_id=f"q-{question.public_id}-%s",
    )


class QuestionEditView(BuilderBaseView):
    template_name = "surveys/builder/question_form.html"

    def _render(self, request, survey, question, form, status=200):
        context = {"survey": survey, "question": question, "q": question, "edit_form": form}
        if request.htmx:
            return render(request, "surveys/builder/partials/question_edit.html", context)
        return render(request, self.template_name, context, status=status)

    def get(self, request, public_id: str, question_id: str, **kwargs):
        survey = self.survey(public_id)
        question = self.question(survey, question_id)
        form = _question_form(self.organization, survey, question)
        return self._render(request, survey, question, form)

    def post(self, request, public_id: str, question_id: str, **kwargs):
        survey = self.survey(public_id)
        question = self.question(survey, question_id)
        form = _question_form(self.organization, survey, question, request.POST)
        if form.is_valid():
            try:
                saved = services.question_update(
                    actor=self.actor, question=question, **form.service_kwargs()
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                anchor = f"q-{saved.public_id}"
                if request.htmx and saved.pk == question.pk:
                    message = _("Question %(n)s saved.") % {"n": saved.position + 1}
                    response = self.render_questions(request, survey, message)
                    response["HX-Retarget"] = "#questions"
                    response["HX-Reswap"] = "outerHTML"
                    return response
                messages.success(request, _("Question saved."))
                if request.htmx:  # saved on a new draft: the whole page changes
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = builder_url(survey, anchor)
                    return response
                return redirect(builder_url(survey, anchor))
        return self._render(request, survey, question, form, status=400)


class QuestionMoveView(BuilderBaseView):
    def post(self, request, public_id: str, question_id: str, **kwargs):
        survey = self.survey(public_id)
        question = self.question(survey, question_id)
        form = MoveForm(request.POST)
        message = ""
        if form.is_valid():
            step = -1 if form.cleaned_data["direction"] == "up" else 1
            moved = services.question_move(
                actor=self.actor, question=question, position=question.position + step
            )
            message = _("%(key)s is now question %(n)s.") % {
                "key": moved.key,
                "n": moved.position + 1,
            }
            question = moved
        if request.htmx:
            return self.render_questions(request, survey, message)
        if message:
            messages.success(request, message)
        return redirect(builder_url(survey, f"q-{question.public_id}"))


class QuestionRemoveView(BuilderBaseView):
    template_name = "surveys/builder/confirm.html"

    def get(self, request, public_id: str, question_id: str, **kwargs):
        survey = self.survey(public_id)
        question = self.question(survey, question_id)
        context = {
            "survey": survey,
            "title": _("Remove question %(n)s?") % {"n": question.position + 1},
            "explanation": question.text(survey.default_language, survey.languages[0])
            or question.key,
            "note": _(
                "The question is removed from the draft. Published versions keep it, and so do "
                "the answers given to them."
            ),
            "button": _("Remove the question"),
        }
        return render(request, self.template_name, context)

    def post(self, request, public_id: str, question_id: str, **kwargs):
        survey = self.survey(public_id)
        question = self.question(survey, question_id)
        try:
            services.question_remove(actor=self.actor, question=question)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Question removed."))
        return redirect(builder_url(survey, "questions"))
