"""DRF views of segments: saved filters over contacts."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action

from core.idempotency import IdempotentCreateMixin
from core.scoping import no_rows
from distribution import selectors, services
from distribution.api.contacts import ContactSerializer
from distribution.models import Segment
from tenancy import policies
from tenancy.api import OrganizationViewSet


class SegmentSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    rules = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text=(
            'All must hold. {"field": "attr.plan", "op": "eq"|"ne"|"exists", "value": "gold"}, '
            '{"field": "preferred_language", "op": "eq", "value": "fi"}, '
            '{"field": "consent.email"|"consent.sms"|"reachable.email"|"reachable.sms", '
            '"op": "is", "value": true}'
        ),
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


@extend_schema(tags=["Segments"])
class SegmentViewSet(
    IdempotentCreateMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Segments: saved filters over contacts, used as campaign audiences."""

    policy = policies.CONTACTS
    serializer_class = SegmentSerializer

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Segment)
        return selectors.segment_list(organization=self.organization)

    def get_object(self):
        return selectors.access_segment(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def perform_create(self, serializer):
        serializer.instance = services.segment_create(
            actor=self.actor, organization=self.organization, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.segment_update(
            actor=self.actor,
            organization=self.organization,
            segment=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.segment_delete(actor=self.actor, organization=self.organization, segment=instance)

    @extend_schema(responses=ContactSerializer(many=True))
    @action(detail=True, methods=["get"])
    def contacts(self, request, *args, **kwargs):
        """The segment's contacts now (cursor-paginated)."""
        contacts = selectors.segment_contacts(self.get_object())
        page = self.paginate_queryset(contacts)
        return self.get_paginated_response(ContactSerializer(page, many=True).data)


ROUTES: list[tuple[str, type, str]] = [("segments", SegmentViewSet, "segment")]
