"""Kiosk mode: the tablet's page (`/k/<token>/`), its answer sync and service worker, and the pages
where CX managers register and revoke devices.

A new device's secret address is kept in the session only until the next view of the list (post,
redirect, get), so it is shown once and a reload neither shows it again nor registers another.
"""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from core.client_ip import client_ip
from core.exceptions import ApplicationError
from core.forms import add_service_errors
from distribution import selectors
from distribution.services import kiosk as kiosk_services
from distribution.views.embed import static_text
from surveys import respond
from surveys.enums import QuestionType, SurveyStatus
from surveys.instruments import evaluate
from surveys.models import Survey
from surveys.selectors import survey_list
from tenancy import policies
from tenancy.scoping import tenant_scope
from tenancy.views import OrganizationView

NEW_LINK = "distribution.kiosk.new_link"


def _texts_in(texts: dict, language: str, fallback: str) -> str:
    return respond.texts_in(texts, language, fallback)


def kiosk_config(device, token: str) -> dict:
    """What the tablet's script needs, in every language of the survey's current version."""
    survey = device.survey
    version = survey.current_version
    smiley, follow_up = kiosk_services.kiosk_questions(survey)
    fallback = survey.default_language
    texts = {}
    for language in version.languages:
        with translation.override(language):
            texts[language] = {
                "question": _texts_in(smiley.texts, language, fallback),
                "follow_up": _texts_in(follow_up.texts, language, fallback) if follow_up else "",
                "thanks": _texts_in(version.thank_you, language, fallback)
                or _("Thank you for your feedback!"),
                "attract": _("How did we do today?"),
                "tap_to_start": _("Tap to answer"),
                "skip": _("Skip"),
                "send": _("Send"),
                "faces": [str(label) for _value, _icon, label in respond.SMILEY_FACES],
                "offline": _("Offline: answers are kept on this device and sent later."),
                "removed": _(
                    "This device has been removed. Ask your administrator for a new link."
                ),
                "pending": _("{n} answers waiting to be sent"),
            }
    page_url = reverse("distribution:kiosk", args=[token])
    return {
        "device": device.public_id,
        "sync_url": reverse("distribution:kiosk_sync", args=[token]),
        "sw_url": reverse("distribution:kiosk_worker", args=[token]),
        "page_url": page_url,
        "static_urls": _static_urls(),
        "languages": [
            {"code": code, "name": respond.LANGUAGE_NAMES.get(code, code)}
            for code in version.languages
        ],
        "default_language": fallback if fallback in version.languages else version.languages[0],
        "question_key": smiley.key,
        "follow_up": _follow_up(follow_up) if follow_up else None,
        "follow_up_faces": _follow_up_faces(smiley, follow_up),
        "texts": texts,
        "min_interval_seconds": device.min_interval_seconds,
        "reset_seconds": 20,
        "thanks_seconds": 4,
        "attract_after_seconds": 60,
    }


def _static_urls() -> list[str]:
    return [static("js/kiosk.js"), static("css/kiosk.css")]


def _follow_up(question) -> dict:
    options = []
    if question.type == QuestionType.SINGLE_CHOICE:
        options = [{"value": c["value"], "texts": c.get("texts") or {}} for c in question.choices]
    return {"key": question.key, "type": question.type, "options": options}


def _follow_up_faces(smiley, follow_up) -> list[int]:
    """The faces after which the follow-up is asked: the survey's own condition decides."""
    if follow_up is None:
        return []
    questions = [smiley, follow_up]
    return [
        face
        for face in range(1, 5)
        if follow_up.key in evaluate(questions, {smiley.key: face}, strict_keys=False).shown
    ]


def _device_or_404(token: str):
    device = selectors.kiosk_device_for_token(token)
    if device is None:
        raise Http404
    return device


@method_decorator(never_cache, name="dispatch")
class KioskPageView(View):
    """`/k/<token>/`: the full-screen page the tablet keeps open."""

    def get(self, request, token: str):
        device = _device_or_404(token)
        organization = device.organization
        with tenant_scope(organization):
            usable = device.is_active and kiosk_services.kiosk_survey_problem(device.survey) is None
            context = {
                "device_name": device.name,
                "organization_name": organization.name,
                "brand_colour": respond.brand_colour(organization.brand_color),
                "brand_ink": respond.brand_ink(organization.brand_color),
            }
            if not usable:
                return render(request, "distribution/kiosk/removed.html", context, status=410)
            config = kiosk_config(device, token)
            context |= {"kiosk_config": config, "language": config["default_language"]}
            with translation.override(config["default_language"]):
                return render(request, "distribution/kiosk/kiosk.html", context)


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class KioskSyncView(View):
    """`POST /k/<token>/answers/`: the tablet's queued answers; the token is the credential, so
    there is no session and no CSRF token."""

    def post(self, request, token: str):
        device = _device_or_404(token)
        try:
            body = json.loads(request.body or b"null")
        except RequestDataTooBig:
            return _error(413, "too_large", _("Send at most 100 answers at a time."))
        except ValueError:
            return _error(400, "invalid_json", _("Send a JSON object."))
        if not isinstance(body, dict):
            return _error(400, "invalid_json", _("Send a JSON object."))
        with tenant_scope(device.organization):
            try:
                results = kiosk_services.kiosk_answers_sync(
                    device=device,
                    items=body.get("answers"),
                    ip=client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
            except ApplicationError as refused:
                status = 410 if refused.code == "device_revoked" else 400
                return _error(status, refused.code, refused.message)
        return JsonResponse({"results": results})


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": str(detail)}, status=status)


def kiosk_worker(request, token: str):
    """The kiosk's service worker, served under the device's address so its scope is the page."""
    _device_or_404(token)
    response = HttpResponse(
        static_text("js/kiosk-sw.js"), content_type="text/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"
    return response


# --- the devices pages ---------------------------------------------------------------------------


class KioskDeviceForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    survey = forms.ModelChoiceField(label=gettext_lazy("Survey"), queryset=Survey.objects.none())
    location = forms.CharField(
        label=gettext_lazy("Location"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Stored with every answer, such as “Kamppi, main exit”."),
    )
    min_interval_seconds = forms.IntegerField(
        label=gettext_lazy("Seconds between answers"),
        min_value=kiosk_services.INTERVAL_BOUNDS[0],
        max_value=kiosk_services.INTERVAL_BOUNDS[1],
        initial=3,
        help_text=gettext_lazy(
            "Answers closer together than this are flagged as possible button-mashing; they "
            "are kept, and you can leave them out in analysis."
        ),
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = survey_list(
            organization=organization, status=SurveyStatus.PUBLISHED
        )


class KioskDevicesView(OrganizationView):
    """The organization's kiosk devices, and registering a new one."""

    policy = policies.KIOSKS

    def get(self, request):
        return self.page(request, KioskDeviceForm(organization=self.organization))

    def post(self, request):
        form = KioskDeviceForm(request.POST, organization=self.organization)
        if form.is_valid():
            try:
                device, token = kiosk_services.kiosk_device_create(
                    actor=self.actor, organization=self.organization, **form.cleaned_data
                )
            except ApplicationError as refused:
                add_service_errors(form, refused)
            else:
                request.session[NEW_LINK] = {"device": device.public_id, "token": token}
                messages.success(request, _("Kiosk device added."))
                return redirect("distribution:kiosks", org_slug=self.organization.slug)
        return self.page(request, form, status=400)

    def page(self, request, form, status: int = 200):
        new_link = request.session.pop(NEW_LINK, None) if request.method == "GET" else None
        context = {
            "devices": list(selectors.kiosk_device_list(organization=self.organization)),
            "form": form,
            "new_link": _absolute_link(request, new_link),
            "can_write": self.actor.can(policies.KIOSKS.write),
        }
        return render(request, "distribution/kiosk/devices.html", context, status=status)


def _absolute_link(request, new_link: dict | None) -> dict | None:
    if not new_link:
        return None
    url = request.build_absolute_uri(reverse("distribution:kiosk", args=[new_link["token"]]))
    return {"device": new_link["device"], "url": url}


class KioskDeviceRevokeView(OrganizationView):
    policy = policies.KIOSKS

    def post(self, request, public_id: str):
        device = selectors.access_kiosk_device(organization=self.organization, public_id=public_id)
        kiosk_services.kiosk_device_revoke(actor=self.actor, device=device)
        messages.success(
            request, _("%(name)s is removed: its page stops asking.") % {"name": device.name}
        )
        return redirect("distribution:kiosks", org_slug=self.organization.slug)


class KioskDeviceNewLinkView(OrganizationView):
    policy = policies.KIOSKS

    def post(self, request, public_id: str):
        device = selectors.access_kiosk_device(organization=self.organization, public_id=public_id)
        token = kiosk_services.kiosk_device_new_token(actor=self.actor, device=device)
        request.session[NEW_LINK] = {"device": device.public_id, "token": token}
        messages.success(
            request,
            _("%(name)s has a new address; the old one stops working.") % {"name": device.name},
        )
        return redirect("distribution:kiosks", org_slug=self.organization.slug)
