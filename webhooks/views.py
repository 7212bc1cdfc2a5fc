"""The webhooks pages: endpoints (list, create, edit, delete), the signing secret shown once, the
delivery log with replays, and the events feed switch. Admins and owners only (policies.WEBHOOKS):
endpoint URLs and secrets are credentials.

A new or rotated secret is kept in the session only until the next view of the endpoint's page
(post, redirect, get), so reloading neither shows it again nor creates a second endpoint. The
secret is stored readable on the endpoint anyway (it signs every message), so the session copy
exposes nothing new.
"""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.exceptions import ApplicationError, NotFoundError
from core.forms import add_application_error
from tenancy import policies
from tenancy.views import OrganizationView
from webhooks import selectors, services
from webhooks.enums import DUE_STATUSES, EventType
from webhooks.forms import EndpointForm, EventFeedForm, ReplaySinceForm
from webhooks.models import WebhookEndpoint

PAGE_SIZE = 50
REPLAY_SINCE_DEFAULT = timedelta(hours=1)
NEW_SECRET = "webhooks.new_secret"
EVENT_DESCRIPTIONS = dict(EventType.choices)


class WebhooksView(OrganizationView):
    policy = policies.WEBHOOKS

    def access_endpoint(self, public_id: str) -> WebhookEndpoint:
        try:
            return selectors.access_endpoint(organization=self.organization, public_id=public_id)
        except NotFoundError:
            raise Http404 from None

    def page(self, request, template: str, context: dict, status: int = 200):
        # Times are shown and typed in the organization's zone.
        with timezone.override(self.organization.zone):
            return render(request, template, context, status=status)

    def to_detail(self, endpoint: WebhookEndpoint):
        return redirect("webhooks:detail", self.organization.slug, endpoint.public_id)


def keep_secret_for_one_view(request, endpoint: WebhookEndpoint, *, rotated: bool) -> None:
    request.session[NEW_SECRET] = {
        "endpoint": endpoint.public_id,
        "secret": endpoint.secret,
        "rotated": rotated,
    }


def take_secret(request, endpoint: WebhookEndpoint) -> dict | None:
    kept = request.session.get(NEW_SECRET)
    if not kept or kept.get("endpoint") != endpoint.public_id:
        return None
    del request.session[NEW_SECRET]
    return kept


class EndpointListView(WebhooksView):
    def get(self, request, **kwargs):
        context = {
            "endpoints": selectors.endpoint_list_with_last_attempt(organization=self.organization),
            "event_descriptions": EVENT_DESCRIPTIONS,
            "feed_enabled": services.event_feed_get(organization=self.organization),
        }
        return self.page(request, "webhooks/endpoint_list.html", context)


class EventFeedView(WebhooksView):
    def post(self, request, **kwargs):
        form = EventFeedForm(request.POST)
        form.is_valid()  # a lone boolean: anything but a truthy value turns it off
        enabled = form.cleaned_data.get("enabled", False)
        services.event_feed_set(actor=self.actor, organization=self.organization, enabled=enabled)
        messages.success(
            request, _("The events feed is on.") if enabled else _("The events feed is off.")
        )
        return redirect("webhooks:list", self.organization.slug)


class EndpointCreateView(WebhooksView):
    template_name = "webhooks/endpoint_form.html"

    def get(self, request, **kwargs):
        return self.page(request, self.template_name, {"form": EndpointForm()})

    def post(self, request, **kwargs):
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint = services.endpoint_create(
                    actor=self.actor, organization=self.organization, **form.cleaned_data
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                keep_secret_for_one_view(request, endpoint, rotated=False)
                messages.success(request, _("Endpoint added."))
                return self.to_detail(endpoint)
        return self.page(request, self.template_name, {"form": form}, status=400)


class EndpointEditView(WebhooksView):
    template_name = "webhooks/endpoint_form.html"

    def get(self, request, public_id: str, **kwargs):
        endpoint = self.access_endpoint(public_id)
        form = EndpointForm(initial=EndpointForm.initial_for(endpoint))
        return self.page(request, self.template_name, {"form": form, "endpoint": endpoint})

    def post(self, request, public_id: str, **kwargs):
        endpoint = self.access_endpoint(public_id)
        form = EndpointForm(request.POST, initial=EndpointForm.initial_for(endpoint))
        if form.is_valid():
            try:
                services.endpoint_update(actor=self.actor, endpoint=endpoint, **form.cleaned_data)
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Endpoint saved."))
                return self.to_detail(endpoint)
        context = {"form": form, "endpoint": endpoint}
        return self.page(request, self.template_name, context, status=400)


class EndpointDetailView(WebhooksView):
    def get(self, request, public_id: str, **kwargs):
        endpoint = self.access_endpoint(public_id)
        try:
            deliveries, next_before = selectors.delivery_page(
                endpoint=endpoint, before=request.GET.get("before", ""), size=PAGE_SIZE
            )
        except NotFoundError:
            raise Http404 from None
        new_secret = take_secret(request, endpoint)
        context = {
            "endpoint": endpoint,
            "event_descriptions": EVENT_DESCRIPTIONS,
            "deliveries": deliveries,
            "next_before": next_before,
            "paged": bool(request.GET.get("before")),
            "due_statuses": DUE_STATUSES,
            "replay_form": ReplaySinceForm(
                initial={"since": timezone.now() - REPLAY_SINCE_DEFAULT}
            ),
            "new_secret": new_secret,
        }
        response = self.page(request, "webhooks/endpoint_detail.html", context)
        if new_secret:
            patch_cache_control(response, no_store=True, private=True)
        return response


class EndpointRotateSecretView(WebhooksView):
    def post(self, request, public_id: str, **kwargs):
        endpoint = services.endpoint_rotate_secret(
            actor=self.actor, endpoint=self.access_endpoint(public_id)
        )
        keep_secret_for_one_view(request, endpoint, rotated=True)
        return self.to_detail(endpoint)


class EndpointActiveView(WebhooksView):
    """Turns an endpoint on again (after a 410 or a day of failures) or off."""

    def post(self, request, public_id: str, **kwargs):
        endpoint = self.access_endpoint(public_id)
        active = request.POST.get("active") == "1"
        services.endpoint_update(actor=self.actor, endpoint=endpoint, active=active)
        messages.success(
            request, _("The endpoint is on again.") if active else _("The endpoint is off.")
        )
        return self.to_detail(endpoint)


class EndpointDeleteView(WebhooksView):
    def get(self, request, public_id: str, **kwargs):
        endpoint = self.access_endpoint(public_id)
        return self.page(request, "webhooks/endpoint_delete.html", {"endpoint": endpoint})

    def post(self, request, public_id: str, **kwargs):
        endpoint = self.access_endpoint(public_id)
        services.endpoint_delete(actor=self.actor, endpoint=endpoint)
        messages.success(request, _("Endpoint %(url)s deleted.") % {"url": endpoint.url})
        return redirect("webhooks:list", self.organization.slug)


class EndpointReplayView(WebhooksView):
    """Replays every delivery since a time typed in the organization's zone."""

    def post(self, request, public_id: str, **kwargs):
        endpoint = self.access_endpoint(public_id)
        with timezone.override(self.organization.zone):
            form = ReplaySinceForm(request.POST)
            valid = form.is_valid()
        if not valid:
            messages.error(request, _("Give the date and time to replay from."))
            return self.to_detail(endpoint)
        try:
            count = services.endpoint_replay(
                actor=self.actor, endpoint=endpoint, since=form.cleaned_data["since"]
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s delivery will be sent again within seconds.",
                    "%(count)s deliveries will be sent again within seconds.",
                    count,
                )
                % {"count": count},
            )
        return self.to_detail(endpoint)


class DeliveryReplayView(WebhooksView):
    """Replays one delivery; HTMX swaps its row of the log in place."""

    def post(self, request, endpoint_id: str, public_id: str, **kwargs):
        endpoint = self.access_endpoint(endpoint_id)
        try:
            delivery = selectors.access_delivery(endpoint=endpoint, public_id=public_id)
        except NotFoundError:
            raise Http404 from None
        error_message = ""
        try:
            services.delivery_replay(actor=self.actor, delivery=delivery)
        except ApplicationError as error:
            error_message = error.message
        if not request.htmx:
            if error_message:
                messages.error(request, error_message)
            else:
                messages.success(request, _("The delivery will be sent again within seconds."))
            return self.to_detail(endpoint)
        # Read again: the send may already have happened after the replay committed.
        delivery = selectors.access_delivery(endpoint=endpoint, public_id=public_id)
        context = {
            "endpoint": endpoint,
            "delivery": delivery,
            "due_statuses": DUE_STATUSES,
            "row_message": error_message or _("Queued to be sent again."),
            "row_error": bool(error_message),
        }
        # 200 either way: HTMX swaps only successful answers, and the row carries the error.
        return self.page(request, "webhooks/partials/delivery_row.html", context)
