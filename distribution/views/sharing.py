"""The Share panel of a survey and of a touchpoint: the link with a copy button, links per channel
with their fields filled, QR codes (SVG, PNG) and print posters (PDF), the website embed snippet
and the survey's kiosk devices.

Everything is a GET of the same page with the choices as parameters, so a link or a poster can be
bookmarked and the page works without JavaScript; with HTMX the link and code update as one types.
"""

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.utils.translation import gettext_lazy

from core.channels import Channel
from distribution import selectors
from distribution.services.kiosk import kiosk_survey_problem
from distribution.sharing import links, poster, qr
from journeys.models import Touchpoint
from journeys.selectors import access_touchpoint
from surveys import respond
from surveys.models import Survey
from surveys.selectors import access_survey, survey_list
from tenancy import policies
from tenancy.enums import Language
from tenancy.views import OrganizationView

FIELD_MAX = 100
POSTER_SIZES = (("A4", "A4"), ("A5", "A5"))


class LinkForm(forms.Form):
    channel = forms.ChoiceField(
        label=gettext_lazy("Where the link is shared"),
        choices=[(c.value, c.label) for c in links.SHARE_CHANNELS],
        initial=Channel.WEB,
        required=False,
    )
    touchpoint = forms.ChoiceField(
        label=gettext_lazy("Touchpoint the answers count for"), required=False
    )
    location = forms.CharField(
        label=gettext_lazy("Location"),
        max_length=FIELD_MAX,
        required=False,
        help_text=gettext_lazy("Stored with each answer, such as a store or a desk."),
    )
    campaign = forms.CharField(
        label=gettext_lazy("Campaign"),
        max_length=FIELD_MAX,
        required=False,
        help_text=gettext_lazy("Stored with each answer, such as “spring-2027”."),
    )

    def __init__(self, *args, touchpoints, default_touchpoint: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["touchpoint"].choices = [("", gettext_lazy("The survey's own"))] + [
            (tp.public_id, tp.name) for tp in touchpoints
        ]
        self.fields["touchpoint"].initial = default_touchpoint

    def choice(self) -> links.LinkChoice:
        if not self.is_valid():
            return links.LinkChoice()
        data = self.cleaned_data
        return links.LinkChoice(
            channel=data["channel"] or Channel.WEB,
            touchpoint=data["touchpoint"],
            location=data["location"].strip(),
            campaign=data["campaign"].strip(),
        )


class EmbedForm(forms.Form):
    prefix = "embed"
    mode = forms.ChoiceField(
        label=gettext_lazy("Show the survey"),
        choices=[
            ("slide-in", gettext_lazy("As a slide-in panel")),
            ("inline", gettext_lazy("Inline, inside an element of the page")),
        ],
        initial="slide-in",
        required=False,
    )
    target = forms.CharField(
        label=gettext_lazy("Element for inline (CSS selector)"),
        max_length=FIELD_MAX,
        initial="#feedback",
        required=False,
    )
    trigger = forms.ChoiceField(
        label=gettext_lazy("When"),
        choices=[
            ("load", gettext_lazy("When the page loads")),
            ("event", gettext_lazy("When the site fires an event")),
            ("exit", gettext_lazy("When the visitor is about to leave the page")),
        ],
        initial="load",
        required=False,
    )
    event = forms.RegexField(
        label=gettext_lazy("Event name"),
        regex=r"^[A-Za-z0-9_.:-]{0,60}$",
        initial="checkout-exit",
        required=False,
        help_text=gettext_lazy('Your site calls cxFeedback.trigger("name") to show the survey.'),
    )
    pages = forms.CharField(
        label=gettext_lazy("Only on pages"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Paths separated by commas, * matches anything: /checkout*, /cart"),
    )
    delay = forms.IntegerField(
        label=gettext_lazy("Delay in seconds"),
        min_value=0,
        max_value=600,
        initial=0,
        required=False,
    )
    sample = forms.IntegerField(
        label=gettext_lazy("Share of visitors asked (%)"),
        min_value=1,
        max_value=100,
        initial=100,
        required=False,
    )
    days_between = forms.IntegerField(
        label=gettext_lazy("Days before the same visitor is asked again"),
        min_value=0,
        max_value=365,
        initial=30,
        required=False,
    )

    def choice(self, location: str) -> links.EmbedChoice:
        if not self.is_valid():
            return links.EmbedChoice(location=location)
        data = {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}
        return links.EmbedChoice(**data, location=location)


class ShareView(OrganizationView):
    policy = policies.SURVEYS

    def base(self, request) -> str:
        return request.build_absolute_uri("/")[:-1]

    def survey(self, public_id: str) -> Survey:
        return access_survey(organization=self.organization, public_id=public_id)

    def link_form(self, request, survey: Survey) -> LinkForm:
        touchpoints = Touchpoint.objects.filter(organization=self.organization).order_by("name")
        default = request.GET.get("touchpoint", "")
        return LinkForm(
            request.GET or None,
            touchpoints=list(touchpoints.only("public_id", "name")),
            default_touchpoint=default,
        )


class SurveyShareView(ShareView):
    def get(self, request, public_id: str):
        survey = self.survey(public_id)
        link_form = self.link_form(request, survey)
        choice = link_form.choice()
        embed_form = EmbedForm(request.GET if "embed-mode" in request.GET else None)
        base = self.base(request)
        query = request.GET.urlencode()
        context = {
            "survey": survey,
            "is_open": survey.is_open,
            "plain_link": links.share_url(base, survey, links.LinkChoice()),
            "link": links.share_url(base, survey, choice),
            "choice": choice,
            "link_form": link_form,
            "query": query,
            "languages": survey.current_version.languages if survey.is_open else [],
            "embed_form": embed_form,
            "snippet": links.embed_snippet(base, survey, embed_form.choice(choice.location)),
            "allowed_origins": self.organization.embed_allowed_origins,
            "kiosk_problem": kiosk_survey_problem(survey) if survey.is_open else None,
            "kiosks": list(
                selectors.kiosk_device_list(organization=self.organization, survey=survey)
            ),
            "can_manage_kiosks": self.actor.can(policies.KIOSKS.write),
            "can_edit_organization": self.actor.can(policies.ORGANIZATION.write),
        }
        return render(request, "distribution/share/survey_share.html", context)


class SurveyQrView(ShareView):
    """The QR code of a share link, as SVG or PNG (a download when `?download=1`)."""

    def get(self, request, public_id: str, kind: str):
        survey = self.open_survey(public_id)
        url = links.share_url(self.base(request), survey, self.link_form(request, survey).choice())
        colour = self.organization.brand_color
        if kind == "svg":
            body, content_type = qr.qr_svg(url, colour=colour, title=survey.name), "image/svg+xml"
        else:
            body, content_type = qr.qr_png(url, colour=colour, scale=12), "image/png"
        response = HttpResponse(body, content_type=content_type)
        if request.GET.get("download") == "1":
            name = f"{slugify(survey.name) or 'survey'}-qr.{kind}"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def open_survey(self, public_id: str) -> Survey:
        survey = self.survey(public_id)
        if not survey.is_open:
            raise Http404
        return survey


class SurveyPosterView(SurveyQrView):
    """A print poster (A4 or A5) with the QR code, in one of the survey's languages."""

    def get(self, request, public_id: str):
        survey = self.open_survey(public_id)
        choice = self.link_form(request, survey).choice()
        version = survey.current_version
        size = request.GET.get("size", "A4")
        language = request.GET.get("lang", survey.default_language)
        if size not in dict(POSTER_SIZES) or language not in version.languages:
            raise Http404
        first = version.questions.order_by("position", "id").first()
        heading = respond.texts_in(first.texts, language, survey.default_language) if first else ""
        body = poster.poster_pdf(
            url=links.share_url(self.base(request), survey, choice),
            heading=heading,
            organization_name=self.organization.name,
            colour=self.organization.brand_color,
            size=size,
            language=language,
            location=choice.location,
        )
        response = HttpResponse(body, content_type="application/pdf")
        name = f"{slugify(survey.name) or 'survey'}-{size.lower()}-{language}.pdf"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response


class TouchpointShareView(ShareView):
    """A touchpoint's published surveys, each with its link and code for this touchpoint."""

    def get(self, request, public_id: str):
        touchpoint = access_touchpoint(organization=self.organization, public_id=public_id)
        surveys = list(
            survey_list(organization=self.organization, touchpoint=touchpoint).order_by("name")
        )
        base = self.base(request)
        choice = links.LinkChoice(channel=Channel.QR, touchpoint=touchpoint.public_id)
        rows = [
            {
                "survey": survey,
                "link": links.share_url(base, survey, links.LinkChoice()),
                "qr_link": links.share_url(base, survey, choice),
            }
            for survey in surveys
        ]
        context = {"tp": touchpoint, "rows": rows, "language_names": dict(Language.choices)}
        return render(request, "distribution/share/touchpoint_share.html", context)
