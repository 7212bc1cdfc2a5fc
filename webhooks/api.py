"""DRF views of outgoing webhooks; API_ROUTES is registered under /api/v1/orgs/<org_slug>/ by
cxplatform.api_urls.

Endpoints are managed by admins, owners and write keys (their URLs and secrets are
credentials: read keys and the other roles get 403); the secret is in the answer to create and
rotate-secret only. The events feed is readable by whoever may export; switching it on or off
is for those who manage webhooks.
"""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import CursorPagination
from core.exceptions import ApplicationError
from core.scoping import no_rows
from tenancy import policies
from tenancy.api import OrganizationViewSet
from webhooks import selectors, services
from webhooks.enums import DeliveryStatus, EventType
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

ENDPOINTS_TAG = "Webhooks"
EVENTS_TAG = "Events"


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    url = serializers.CharField(
        max_length=2048, help_text="https:// address on the public internet; redirects fail."
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        allow_empty=False,
        help_text="The event types sent to this endpoint.",
    )
    active = serializers.BooleanField(required=False)
    include_contact_details = serializers.BooleanField(
        required=False, help_text="Add contacts' email and phone to payloads (off by default)."
    )
    disabled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    disabled_reason = serializers.CharField(read_only=True)
    failing_since = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Every delivery failed since then; after 24 h it is disabled.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="whsec_... Shown only in the answer to create and rotate-secret: keep it.",
    )


class ReplaySerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="Replay deliveries of events at or after this.")


class ReplayResultSerializer(serializers.Serializer):
    replayed = serializers.IntegerField()


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    event = serializers.CharField(source="event.public_id", read_only=True, help_text="evt_...")
    event_type = serializers.ChoiceField(
        source="event.type", choices=EventType.choices, read_only=True
    )
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    attempts = serializers.IntegerField(read_only=True)
    next_attempt_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_status_code = serializers.IntegerField(read_only=True, allow_null=True)
    last_latency_ms = serializers.IntegerField(read_only=True, allow_null=True)
    last_error = serializers.CharField(read_only=True)
    last_response_excerpt = serializers.CharField(read_only=True)
    delivered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


class WebhookEventSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    type = serializers.ChoiceField(choices=EventType.choices, read_only=True)
    timestamp = serializers.DateTimeField(source="created_at", read_only=True)
    data = serializers.JSONField(
        source="payload", read_only=True, help_text="As in the webhook (docs/webhooks.md)."
    )


# Every filter is declared: generated ones would read the scoped manager outside a scope.
class EventFeedSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["status"]


class EventFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=EventType.choices)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gt", help_text="ISO 8601 with zone."
    )

    class Meta:
        model = WebhookEvent
        fields = ["type", "created_after"]


def _as_field_errors(error: ApplicationError) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {error.extra.get("field", "non_field_errors"): [error.message]}
    )


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints"),
    retrieve=extend_schema(summary="Read a webhook endpoint"),
    create=extend_schema(
        summary="Add a webhook endpoint",
        responses={201: WebhookEndpointWithSecretSerializer},
        description="The answer holds the signing secret; it is never shown again.",
    ),
    update=extend_schema(summary="Replace a webhook endpoint's settings"),
    partial_update=extend_schema(
        summary="Change a webhook endpoint",
        description="`active: true` turns a disabled endpoint on again.",
    ),
    destroy=extend_schema(summary="Delete a webhook endpoint with its delivery log"),
)
@extend_schema(tags=[ENDPOINTS_TAG])
class WebhookEndpointViewSet(
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """URLs that receive the organization's events, signed per Standard Webhooks. Creates
    take no Idempotency-Key: the stored answer would be a second copy of the secret."""

    policy = policies.WEBHOOKS
    serializer_class = WebhookEndpointSerializer
    pagination_class = NewestFirst

    def get_serializer_class(self):
        if self.action == "create":
            return WebhookEndpointWithSecretSerializer
        return super().get_serializer_class()

    def get_queryset(self):
        if self.schema_only:
            return no_rows(WebhookEndpoint)
        return selectors.endpoint_list(organization=self.organization)

    def get_object(self):
        return selectors.access_endpoint(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def perform_create(self, serializer):
        try:
            serializer.instance = services.endpoint_create(
                actor=self.actor, organization=self.organization, **serializer.validated_data
            )
        except ApplicationError as error:
            raise _as_field_errors(error) from error

    def perform_update(self, serializer):
        try:
            serializer.instance = services.endpoint_update(
                actor=self.actor, endpoint=serializer.instance, **serializer.validated_data
            )
        except ApplicationError as error:
            raise _as_field_errors(error) from error

    def perform_destroy(self, instance):
        services.endpoint_delete(actor=self.actor, endpoint=instance)

    @extend_schema(
        summary="Rotate a webhook endpoint's secret",
        request=None,
        responses=WebhookEndpointWithSecretSerializer,
        description="A new secret, shown once. For 24 hours messages carry the signatures of "
        "both the new and the previous secret.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        endpoint = services.endpoint_rotate_secret(actor=self.actor, endpoint=self.get_object())
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)

    @extend_schema(
        summary="Replay a webhook endpoint's deliveries",
        request=ReplaySerializer,
        responses={202: ReplayResultSerializer},
        description="Send again every delivery of events since `since` (new attempts, the "
        "same `webhook-id`). 409 `endpoint_inactive` while the endpoint is off.",
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, *args, **kwargs):
        given = ReplaySerializer(data=request.data)
        given.is_valid(raise_exception=True)
        count = services.endpoint_replay(
            actor=self.actor, endpoint=self.get_object(), since=given.validated_data["since"]
        )
        return Response({"replayed": count}, status=status.HTTP_202_ACCEPTED)


ENDPOINT_PARAMETER = OpenApiParameter(
    "endpoint_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="whe_..."
)


@extend_schema_view(
    list=extend_schema(summary="List an endpoint's deliveries", parameters=[ENDPOINT_PARAMETER]),
    retrieve=extend_schema(summary="Read a delivery", parameters=[ENDPOINT_PARAMETER]),
)
@extend_schema(tags=[ENDPOINTS_TAG])
class WebhookDeliveryViewSet(OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The delivery log of one endpoint, newest first: status, attempts, the last answer's
    status, latency and body excerpt. Kept 30 days."""

    policy = policies.WEBHOOKS
    serializer_class = WebhookDeliverySerializer
    pagination_class = NewestFirst
    filterset_class = DeliveryFilter

    def _endpoint(self) -> WebhookEndpoint:
        return selectors.access_endpoint(
            organization=self.organization, public_id=self.kwargs["endpoint_id"]
        )

    def get_queryset(self):
        if self.schema_only:
            return no_rows(WebhookDelivery)
        return selectors.delivery_list(endpoint=self._endpoint())

    def get_object(self):
        return selectors.access_delivery(
            endpoint=self._endpoint(), public_id=self.kwargs["public_id"]
        )

    @extend_schema(
        summary="Replay one delivery",
        request=None,
        responses={202: WebhookDeliverySerializer},
        parameters=[ENDPOINT_PARAMETER],
        description="Send it again now (new attempts, the same `webhook-id`). 409 "
        "`endpoint_inactive` while the endpoint is off.",
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, *args, **kwargs):
        delivery = services.delivery_replay(actor=self.actor, delivery=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="List events of the last 30 days"),
    retrieve=extend_schema(summary="Read an event"),
)
@extend_schema(tags=[EVENTS_TAG])
class WebhookEventViewSet(OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The events of the last 30 days, newest first, for clients that poll instead of receiving
    webhooks. Every event is recorded while the events feed is on (`PUT events/feed/`);
    otherwise only those an active endpoint subscribes to. Contact email and phone are never
    included."""

    policy = policies.EVENTS
    serializer_class = WebhookEventSerializer
    pagination_class = NewestFirst
    filterset_class = EventFilter

    def get_queryset(self):
        if self.schema_only:
            return no_rows(WebhookEvent)
        return selectors.event_feed(organization=self.organization)

    def get_object(self):
        found = self.get_queryset().filter(public_id=self.kwargs["public_id"]).first()
        if found is None:
            raise exceptions.NotFound()
        return found

    @extend_schema(
        summary="Whether the events feed is on; switch it",
        request=EventFeedSerializer,
        responses={200: EventFeedSerializer},
        description="While `enabled`, every event is recorded for this feed (kept 30 days); "
        "while off, only events an active webhook endpoint subscribes to.",
    )
    @action(detail=False, methods=["get", "put"], url_path="feed", filterset_class=None,
            pagination_class=None)  # fmt: skip
    def feed(self, request, *args, **kwargs):
        if request.method == "PUT":
            given = EventFeedSerializer(data=request.data)
            given.is_valid(raise_exception=True)
            services.event_feed_set(
                actor=self.actor,
                organization=self.organization,
                enabled=given.validated_data["enabled"],
            )
        return Response({"enabled": services.event_feed_get(organization=self.organization)})


API_ROUTES: list[tuple[str, type, str]] = [
    ("webhooks", WebhookEndpointViewSet, "webhook"),
    (r"webhooks/(?P<endpoint_id>[^/.]+)/deliveries", WebhookDeliveryViewSet, "webhook-delivery"),
    ("events", WebhookEventViewSet, "event"),
]
