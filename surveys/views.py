"""The public respondent pages: `/s/<slug>/` (anonymous link) and `/r/<token>/` (personal).

No sign-in. GET never writes anything (mail scanners follow links): no response, no token
spent, not even `opened_at`. Only POST records, through `surveys.services`. Conditions are
evaluated on the server, so the form works without JavaScript: a POST that reveals follow-up
questions the respondent has not seen yet shows them instead of submitting (a small inline
script shows them at once when JavaScript runs). One page per survey: no pagination, so no
"question x of y".

CSRF is off for these views on purpose: they act for no signed-in user, a forged POST could do
nothing the attacker cannot do directly, and respondents whose browsers block cookies (or embed
the page) must still be able to answer.
"""

import uuid

from csp.constants import NONE
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from core.client_ip import client_ip
from core.exceptions import ApplicationError
from core.middleware import UnstorableInput
from core.text import unstorable
from journeys.models import Touchpoint
from surveys import respond, selectors, services, spool
from surveys.enums import Channel, SurveyStatus
from surveys.exceptions import AnswerErrors
from surveys.instruments import evaluate
from surveys.ratelimit import respondent_post_limited
from tenancy.scoping import tenant_scope

ANONYMOUS_CHANNELS = frozenset(
    {Channel.WEB, Channel.QR, Channel.EMBED, Channel.KIOSK, Channel.EMAIL, Channel.SMS}
)
GONE_REASONS = {
    "closed": (
        gettext_lazy("This survey is closed"),
        gettext_lazy("The survey no longer takes answers. Thank you for your interest."),
    ),
    "expired": (
        gettext_lazy("This link has expired"),
        gettext_lazy(
            "The time to answer through this link has passed. Thank you for your interest."
        ),
    ),
    "answered": (
        gettext_lazy("You have already answered"),
        gettext_lazy("Your answers have been saved. Thank you for your feedback!"),
    ),
}


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class RespondentView(View):
    """Finds the survey (and the personal link) from the URL, then opens its tenant's scope.

    Subclasses implement `resolve(**kwargs)` returning (survey, link or None) or raising
    Http404; `get`/`post` run inside the organization's scope.
    """

    link = None
    # The URL part the page is found by ("slug" or "token"), also for its copy in the cache.
    url_key = ""
    # Framed by a website through the embed script (`?embed=1`): only the organization's
    # allowed websites may frame it, and the page tells its frame when it is answered.
    embedded = False

    def resolve(self, **kwargs):
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        # With the database unreachable the page comes from its copy in the cache (surveys.spool)
        # and answers are spooled; with no copy either, the respondent is asked to try again.
        self.offline = False
        self.questions = None
        try:
            self.survey, self.link = self.resolve(**kwargs)
        except spool.UNREACHABLE:
            kept = spool.page_read(self.url_key, kwargs[self.url_key])
            if kept is None:
                return self.try_again_later()
            self.survey, self.link, self.questions = kept
            self.offline = True
        self.organization = self.survey.organization
        with tenant_scope(self.organization):
            try:
                response = super().dispatch(request, *args, **kwargs)
            except spool.UNREACHABLE:
                if request.method != "POST":
                    raise  # the 503 page
                return self.try_again_later()  # lost mid-request: the answers come back
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        if self.embedded:
            allow_framing(response, self.organization)
        return response

    # --- helpers shared by both links ---

    def load_questions(self, version) -> None:
        """The version's questions; online, the copy in the cache is renewed. A database lost
        since the page was found sends the request on from the copy."""
        if self.offline:
            return
        try:
            self.questions = list(version.questions.order_by("position", "id"))
        except spool.UNREACHABLE:
            kept = spool.page_read(self.url_key, self.kwargs[self.url_key])
            if kept is None:
                raise
            self.questions, self.offline = kept[2], True
            return
        spool.page_keep(survey=self.survey, questions=self.questions, link=self.link)

    def try_again_later(self) -> HttpResponse:
        """Neither the database nor the cache answers: a page of its own (no database needed)
        that sends the same answers again, so nothing typed is lost."""
        kept = [
            (name, value)
            for name, values in self.request.POST.lists()
            if name != "csrfmiddlewaretoken"
            for value in values
        ]
        requested = self.request.POST.get("lang") or self.request.GET.get("lang")
        language = requested if requested in respond.LANGUAGE_NAMES else translation.get_language()
        with translation.override(language):
            response = render(
                self.request, "surveys/respond/try_again.html", {"fields": kept}, status=503
            )
        response["Retry-After"] = "10"
        return response

    def language(self, offered: list[str]) -> str:
        return respond.choose_language(
            requested=self.request.GET.get("lang") or self.request.POST.get("lang"),
            link_language=self.link.language if self.link else None,
            accept=self.request.headers.get("Accept-Language", ""),
            offered=offered,
            default=self.survey.default_language,
        )

    def base_context(self, language: str, offered: list[str]) -> dict:
        params = {k: v for k, v in self.request.GET.items() if k != "lang"}
        return {
            "survey": self.survey,
            "organization": self.organization,
            "brand_colour": respond.brand_colour(self.organization.brand_color),
            "brand_ink": respond.brand_ink(self.organization.brand_color),
            "embedded": self.embedded,
            "language": language,
            "languages": [
                {
                    "code": code,
                    "name": respond.LANGUAGE_NAMES.get(code, code),
                    "url": "?" + urlencode({**params, "lang": code}),
                    "current": code == language,
                }
                for code in offered
            ],
        }

    def gone(self, reason: str, language: str, offered: list[str]) -> HttpResponse:
        title, message = GONE_REASONS[reason]
        with translation.override(language):
            context = {
                **self.base_context(language, offered),
                "title": str(title),
                "message": str(message),
            }
            return render(self.request, "surveys/respond/gone.html", context, status=410)

    def unavailable_reason(self) -> str | None:
        if self.survey.status == SurveyStatus.CLOSED or self.survey.current_version_id is None:
            return "closed"
        return None

    def render_form(
        self,
        *,
        language: str,
        values: dict,
        errors: dict,
        shown: list[str],
        message: str = "",
        status: int = 200,
        extra: dict | None = None,
    ):
        version = self.survey.current_version
        questions = self.questions
        with translation.override(language):
            views = respond.question_views(
                questions,
                language=language,
                fallback=self.survey.default_language,
                values=values,
                errors=errors,
                shown=shown,
            )
            context = {
                **self.base_context(language, version.languages),
                "intro": respond.texts_in(version.intro, language, self.survey.default_language),
                "questions": views,
                "error_questions": [view for view in views if view.errors and view.shown],
                "general_errors": [
                    message
                    for key, messages in errors.items()
                    if key not in {view.key for view in views}
                    for message in messages
                ],
                "seen": ",".join(shown),
                "message": message,
                "can_save": self.link is not None,
                **(extra or {}),
            }
            return render(self.request, "surveys/respond/form.html", context, status=status)

    def handle_get(self, *, prefill: dict, extra: dict):
        version = self.survey.current_version
        language = self.language(version.languages)
        self.load_questions(version)
        values = {**prefill}
        values.update(respond.score_preselection(self.questions, self.request.GET.get("score")))
        shown = evaluate(
            self.questions, respond.raw_answers(self.questions, values), strict_keys=False
        ).shown
        return self.render_form(
            language=language, values=values, errors={}, shown=shown, extra=extra
        )

    def handle_post(self, *, submit_kwargs: dict, extra: dict, on_saved=None):
        language = self.language(self.survey.current_version.languages)
        # Validation messages come from the services: give them the survey page's language.
        with translation.override(language):
            return self._handle_post(language, submit_kwargs, extra, on_saved)

    def _handle_post(self, language: str, submit_kwargs: dict, extra: dict, on_saved):
        version = self.survey.current_version
        if respondent_post_limited(self.request, self.survey):
            return HttpResponse(
                _("Too many answers from your address. Please try again in a minute."),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        self.load_questions(version)
        values = respond.form_values(self.questions, self.request.POST)
        answers = respond.raw_answers(self.questions, values)
        evaluation = evaluate(self.questions, answers, strict_keys=False)
        seen = set(filter(None, self.request.POST.get("seen", "").split(",")))
        # Text the database cannot store (a NUL) is refused before anything is written, a partial
        # save included: as an error on its question, or a 400 for any other field.
        refused = {}
        for name, texts in self.request.POST.lists():
            reason = next(filter(None, map(unstorable, [name, *texts])), None)
            if reason is not None and name not in values:
                raise UnstorableInput(reason)
            if reason is not None:
                refused[name] = [reason]
        if refused:
            return self.render_form(
                language=language,
                values=values,
                errors=refused,
                shown=evaluation.shown,
                status=400,
                extra=extra,
            )
        if self.request.POST.get("action") == "save" and on_saved is not None:
            try:
                on_saved(values)
            except spool.UNREACHABLE:
                return self.try_again_later()
            message = _("Your answers are saved. Come back through the same link to finish.")
            return self.render_form(
                language=language,
                values=values,
                errors={},
                shown=evaluation.shown,
                message=message,
                extra=extra,
            )
        # Follow-ups the respondent has not seen yet (no JavaScript): show them, don't submit.
        conditional = {question.key for question in self.questions if question.condition}
        revealed = [key for key in evaluation.shown if key in conditional and key not in seen]
        if revealed:
            message = _("Thank you! Please see the follow-up questions below.")
            errors = {k: v for k, v in evaluation.errors.items() if k not in revealed}
            return self.render_form(
                language=language,
                values=values,
                errors=errors,
                shown=evaluation.shown,
                message=message,
                extra=extra,
            )
        try:
            try:
                services.response_submit(
                    organization=self.organization,
                    survey=self.survey,
                    answers=answers,
                    language=language,
                    ip=client_ip(self.request),
                    user_agent=self.request.headers.get("User-Agent", ""),
                    **submit_kwargs,
                )
            except spool.UNREACHABLE:
                # The database is away: answers the form's own check accepts are spooled.
                if evaluation.errors:
                    raise AnswerErrors(evaluation.errors) from None
                if not self.spool(answers, language, submit_kwargs):
                    return self.try_again_later()
        except AnswerErrors as invalid:
            return self.render_form(
                language=language,
                values=values,
                errors=invalid.fields,
                shown=evaluation.shown,
                status=400,
                extra=extra,
            )
        except ApplicationError as refused:
            reason = {"link_expired": "expired", "survey_closed": "closed"}.get(refused.code)
            if reason is None:
                raise Http404 from refused
            return self.gone(reason, language, version.languages)
        query = {"lang": language, **({"embed": "1"} if self.embedded else {})}
        return redirect(self.thanks_url() + "?" + urlencode(query))

    def spool(self, answers: dict, language: str, submit_kwargs: dict) -> bool:
        return spool.spool_push(
            survey=self.survey,
            link=submit_kwargs.get("personal_link"),
            answers=answers,
            language=language,
            channel=submit_kwargs["channel"],
            hidden_fields=submit_kwargs.get("hidden_fields"),
            idempotency_key=submit_kwargs.get("idempotency_key"),
            ip=client_ip(self.request),
            user_agent=self.request.headers.get("User-Agent", ""),
        )

    def thanks(self, version):
        language = self.language(version.languages)
        with translation.override(language):
            context = {
                **self.base_context(language, version.languages),
                "thank_you": respond.texts_in(
                    version.thank_you, language, self.survey.default_language
                )
                or _("Thank you for your feedback!"),
            }
            return render(self.request, "surveys/respond/thanks.html", context)


def allow_framing(response: HttpResponse, organization) -> None:
    """Let the organization's allowed websites frame this answer (and nobody else)."""
    response.xframe_options_exempt = True
    response._csp_replace = {"frame-ancestors": list(organization.embed_allowed_origins) or [NONE]}


class AnonymousSurveyView(RespondentView):
    """`/s/<slug>/`: anyone may answer; `?channel=qr|embed|kiosk...`, `touchpoint=<id>` (the
    response counts for that touchpoint of the organization) and `hidden_<name>=` parameters are
    carried into the response. A random submission id on the form makes a double-clicked or
    re-sent POST one response."""

    url_key = "slug"

    def resolve(self, *, slug: str):
        survey = selectors.survey_for_link_slug(slug)
        if survey is None or survey.current_version_id is None:
            raise Http404
        return survey, None

    def setup(self, request, *args, **kwargs):
        # Not dispatch(): RespondentView's csrf_exempt and never_cache decorate dispatch.
        super().setup(request, *args, **kwargs)
        data = request.POST if request.method == "POST" else request.GET
        self.embedded = data.get("embed") == "1"

    def thanks_url(self) -> str:
        return reverse("surveys:respond_anonymous_thanks", args=[self.survey.link_slug])

    def _touchpoint(self, public_id: str) -> Touchpoint | None:
        if not public_id or self.offline or len(public_id) > 32:
            return None
        return Touchpoint.objects.filter(
            organization=self.organization, public_id=public_id
        ).first()

    def _extra(self, data) -> dict:
        channel = data.get("channel", Channel.WEB)
        touchpoint = self._touchpoint(data.get("touchpoint", ""))
        return {
            "channel": channel if channel in ANONYMOUS_CHANNELS else Channel.WEB,
            "hidden_fields": respond.hidden_fields_from(data),
            "touchpoint": touchpoint,
        }

    def get(self, request, slug: str):
        if reason := self.unavailable_reason():
            version = self.survey.current_version
            return self.gone(reason, self.language(version.languages), version.languages)
        extra = {**self._extra(request.GET), "submission": uuid.uuid4().hex}
        return self.handle_get(prefill={}, extra=extra)

    def post(self, request, slug: str):
        extra = self._extra(request.POST)
        submission = request.POST.get("submission", "")
        if not respond.SUBMISSION_PATTERN.match(submission):
            submission = uuid.uuid4().hex
        extra["submission"] = submission
        return self.handle_post(
            submit_kwargs={
                "channel": extra["channel"],
                "hidden_fields": extra["hidden_fields"],
                "touchpoint": extra["touchpoint"],
                "idempotency_key": f"web:{submission}",
            },
            extra=extra,
        )


class AnonymousThanksView(AnonymousSurveyView):
    http_method_names = ["get", "head", "options"]

    def get(self, request, slug: str):
        return self.thanks(self.survey.current_version)


class PersonalSurveyView(RespondentView):
    """`/r/<token>/`: answered once; unfinished answers can be saved and are shown again."""

    url_key = "token"

    def resolve(self, *, token: str):
        link = selectors.personal_link_for_token(token)
        if link is None or link.survey.current_version_id is None:
            raise Http404
        return link.survey, link

    def thanks_url(self) -> str:
        return reverse("surveys:respond_personal_thanks", args=[self.link.token])

    def gone_reason(self) -> str | None:
        # Offline, an answered link cannot be told apart: a second answer is spooled and
        # stored as a replay of the first (one response per link).
        if not self.offline and selectors.personal_link_response(self.link) is not None:
            return "answered"
        if self.link.expires_at is not None and self.link.expires_at <= timezone.now():
            return "expired"
        return self.unavailable_reason()

    def get(self, request, token: str):
        version = self.survey.current_version
        if reason := self.gone_reason():
            return self.gone(reason, self.language(version.languages), version.languages)
        return self.handle_get(prefill=dict(self.link.partial_answers or {}), extra={})

    def post(self, request, token: str):
        version = self.survey.current_version
        if reason := self.gone_reason():
            return self.gone(reason, self.language(version.languages), version.languages)
        return self.handle_post(
            submit_kwargs={"channel": self.link.channel, "personal_link": self.link},
            extra={},
            on_saved=lambda values: services.personal_link_save_partial(
                link=self.link, answers=values
            ),
        )


class PersonalThanksView(PersonalSurveyView):
    http_method_names = ["get", "head", "options"]

    def get(self, request, token: str):
        if self.offline:  # the answer is spooled; it is stored when the database is back
            return self.thanks(self.survey.current_version)
        response = selectors.personal_link_response(self.link)
        if response is None:
            return redirect("surveys:respond_personal", token=self.link.token)
        return self.thanks(response.version)
