"""The website embed: the script a company puts on its site (`/embed.js`) and the configuration it
fetches for a survey (`/e/<slug>/config/`).

The script runs on the company's pages, so it keeps its state in that site's own storage and sets
no cookie of ours; only the organization's allowed websites get the configuration (CORS) and may
frame the survey (its CSP frame-ancestors, surveys.views.allow_framing).
"""

from functools import lru_cache

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from surveys import respond
from surveys.selectors import survey_for_link_slug
from tenancy.models import web_origin

SCRIPT_MAX_AGE = 3600


@lru_cache(maxsize=8)
def static_text(name: str) -> bytes:
    """A static file's bytes for a view that serves it at a fixed address (the embed script, the
    kiosk's service worker): found by the finders in development, in STATIC_ROOT when collected."""
    path = finders.find(name)
    if path:
        with open(path, "rb") as handle:
            return handle.read()
    with staticfiles_storage.open(name) as handle:
        return handle.read()


@require_GET
def embed_script(request):
    """`/embed.js`: one address that never changes, for the snippet pasted into websites."""
    response = HttpResponse(
        static_text("embed/feedback.js"), content_type="text/javascript; charset=utf-8"
    )
    response["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
def embed_config(request, slug: str):
    """The survey's frame address and texts, for a page of one of the organization's allowed
    websites only; 403 without CORS headers for any other origin, 404 for no open survey."""
    survey = survey_for_link_slug(slug)
    if survey is None or not survey.is_open:
        raise Http404
    organization = survey.organization
    origin = web_origin(request.headers.get("Origin", ""))
    if origin is None or origin not in organization.embed_allowed_origins:
        response = JsonResponse(
            {
                "code": "origin_not_allowed",
                "detail": "This website may not show the organization's surveys.",
            },
            status=403,
        )
        response["Vary"] = "Origin"
        return response
    version = survey.current_version
    language = respond.choose_language(
        requested=request.GET.get("lang"),
        link_language=None,
        accept=request.headers.get("Accept-Language", ""),
        offered=version.languages,
        default=survey.default_language,
    )
    base = request.build_absolute_uri("/")[:-1]
    path = reverse("surveys:respond_anonymous", args=[survey.link_slug])
    with translation.override(language):
        body = {
            "survey": survey.link_slug,
            "url": f"{base}{path}?"
            + urlencode({"channel": "embed", "embed": "1", "lang": language}),
            "title": _("Feedback survey: %(name)s") % {"name": organization.name},
            "close": _("Close"),
            "languages": version.languages,
        }
    response = JsonResponse(body)
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    return response
