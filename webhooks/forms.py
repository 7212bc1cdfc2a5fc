"""The forms of the webhooks pages: an endpoint's settings, "replay since" and the events feed.

The URL is only shaped here; whether it may be called (https, public address) is decided by the
services (core.safe_http), whose refusal `add_application_error` puts back on the URL field.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.enums import EventType


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=2048,
        widget=forms.URLInput(
            attrs={"placeholder": "https://", "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=_("An https:// address on the public internet. Redirects are not followed."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("Who receives these, for your colleagues (optional)."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Only active endpoints are sent events."),
    )
    include_contact_details = forms.BooleanField(
        label=_("Include contact email and phone"),
        required=False,
        help_text=_(
            "Warning: with this on, contacts' email addresses and phone numbers leave the "
            "platform in every payload that names a contact. Leave it off unless the receiver "
            "needs them; payloads otherwise name a contact by its id only."
        ),
    )

    @classmethod
    def initial_for(cls, endpoint) -> dict:
        return {
            "url": endpoint.url,
            "description": endpoint.description,
            "events": list(endpoint.events),
            "active": endpoint.active,
            "include_contact_details": endpoint.include_contact_details,
        }


class ReplaySinceForm(forms.Form):
    """Typed in the organization's local time: the view validates it under that zone."""

    since = forms.DateTimeField(
        label=_("Replay every delivery since"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Events are kept for 30 days."),
    )


class EventFeedForm(forms.Form):
    enabled = forms.BooleanField(required=False)
