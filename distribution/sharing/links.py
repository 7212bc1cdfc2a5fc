"""A survey's share links per channel, and the embed snippet for a website.

Links are the survey's anonymous link with parameters the respondent page carries into the
response: `channel`, `touchpoint` (the response counts for that touchpoint) and `hidden_<name>`
fields such as the location and campaign.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode

from core.channels import Channel

SHARE_CHANNELS = (Channel.WEB, Channel.QR, Channel.EMAIL, Channel.SMS, Channel.EMBED)
EMBED_MODES = ("inline", "slide-in")
EMBED_TRIGGERS = ("load", "event", "exit")


@dataclass(frozen=True)
class LinkChoice:
    channel: str = Channel.WEB
    touchpoint: str = ""  # public id
    location: str = ""
    campaign: str = ""


def survey_path(survey) -> str:
    return reverse("surveys:respond_anonymous", args=[survey.link_slug])


def share_url(base: str, survey, choice: LinkChoice) -> str:
    """The anonymous link for one channel, with its fields filled; `base` is scheme and host."""
    params = {"channel": choice.channel} if choice.channel != Channel.WEB else {}
    if choice.touchpoint:
        params["touchpoint"] = choice.touchpoint
    if choice.location:
        params["hidden_location"] = choice.location
    if choice.campaign:
        params["hidden_campaign"] = choice.campaign
    url = base + survey_path(survey)
    return url + ("?" + urlencode(params) if params else "")


@dataclass(frozen=True)
class EmbedChoice:
    mode: str = "slide-in"
    target: str = "#feedback"
    trigger: str = "load"
    event: str = ""
    pages: str = ""
    delay: int = 0
    sample: int = 100
    days_between: int = 30
    location: str = ""


def embed_snippet(base: str, survey, choice: EmbedChoice) -> str:
    """The `<script>` tag a website pastes into its pages (attributes escaped)."""
    attributes = [("src", f"{base}/embed.js"), ("data-survey", survey.link_slug)]
    attributes.append(("data-mode", choice.mode))
    if choice.mode == "inline":
        attributes.append(("data-target", choice.target))
    attributes.append(("data-trigger", choice.trigger))
    if choice.trigger == "event":
        attributes.append(("data-event", choice.event))
    if choice.pages:
        attributes.append(("data-pages", choice.pages))
    if choice.delay:
        attributes.append(("data-delay", str(choice.delay)))
    if choice.sample != 100:
        attributes.append(("data-sample", str(choice.sample)))
    if choice.mode != "inline" or choice.days_between != 30:
        attributes.append(("data-days-between", str(choice.days_between)))
    if choice.location:
        attributes.append(("data-hidden-location", choice.location))
    rendered = " ".join(f'{name}="{escape(value)}"' for name, value in attributes)
    return f"<script {rendered} async></script>"
