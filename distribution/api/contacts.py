"""DRF views of contacts."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.filters import OrganizationFilterSet, public_id_filter
from core.idempotency import IdempotentCreateMixin
from core.scoping import no_rows
from distribution import selectors, services
from distribution.enums import Channel, ConsentSource
from distribution.models import Contact, Segment
from tenancy import policies
from tenancy.api import OrganizationViewSet

ATTRIBUTE_PARAM = "attr."


class ConsentStateSerializer(serializers.Serializer):
    given = serializers.BooleanField()
    given_at = serializers.DateTimeField(allow_null=True)
    source = serializers.CharField()
    opted_out = serializers.BooleanField()
    opted_out_at = serializers.DateTimeField(allow_null=True)
    opt_out_reason = serializers.CharField()


class ConsentSerializer(serializers.Serializer):
    email = ConsentStateSerializer()
    sms = ConsentStateSerializer()


class ContactSerializer(serializers.Serializer):
    """A contact. Consent and opt-out are written with the flat fields and read in `consent`."""

    id = serializers.CharField(source="public_id", read_only=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="Stored in E.164; numbers without a country code are read as Finnish.",
    )
    preferred_language = serializers.CharField(
        max_length=2, required=False, allow_blank=True, help_text="fi, sv or en; blank if unknown."
    )
    attributes = serializers.DictField(required=False)
    email_consent = serializers.BooleanField(required=False, write_only=True)
    sms_consent = serializers.BooleanField(required=False, write_only=True)
    consent_source = serializers.ChoiceField(
        choices=ConsentSource.choices, required=False, write_only=True, default=ConsentSource.API
    )
    email_opted_out = serializers.BooleanField(required=False, write_only=True)
    sms_opted_out = serializers.BooleanField(required=False, write_only=True)
    opt_out_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True
    )
    consent = serializers.SerializerMethodField()
    reachable_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(ConsentSerializer)
    def get_consent(self, contact: Contact) -> dict:
        return {
            channel: ConsentStateSerializer(contact.consent_for(channel)).data
            for channel in Channel.values
        }

    def get_reachable_by(self, contact: Contact) -> list[str]:
        return [channel for channel in Channel.values if contact.is_reachable_by(channel)]


class ContactFilterSet(OrganizationFilterSet):
    """The contact list's filters; `attr.<name>=value` parameters (any number) narrow by
    attributes and are read in filter_queryset, since their names are the organization's own."""

    email = django_filters.CharFilter(label="Exact email (normalised).", method="_none")
    phone = django_filters.CharFilter(label="Phone, any format (normalised).", method="_none")
    external_id = django_filters.CharFilter(method="_none")
    segment = public_id_filter(Segment, "A segment's id (seg_...).", method="_none")
    search = django_filters.CharFilter(label="Name, email, phone or external id.", method="_none")

    class Meta:
        model = Contact
        fields = ["email", "phone", "external_id", "segment", "search"]

    def _none(self, queryset, name, value):
        return queryset  # applied together in filter_queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return selectors.contacts_filter(
            queryset,
            search=data.get("search") or "",
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            external_id=data.get("external_id") or "",
            attributes={
                key[len(ATTRIBUTE_PARAM) :]: value
                for key, value in self.data.items()
                if key.startswith(ATTRIBUTE_PARAM)
            },
            segment=data.get("segment"),
        )


ATTRIBUTE_FILTER = OpenApiParameter(
    "attr.<name>",
    OpenApiTypes.STR,
    description="Attribute equals value, e.g. attr.plan=gold (repeat for several).",
)


@extend_schema(tags=["Contacts"])
@extend_schema_view(
    list=extend_schema(parameters=[ATTRIBUTE_FILTER]),
    destroy=extend_schema(description="Erase the contact and their personal data (GDPR)."),
)
class ContactViewSet(
    IdempotentCreateMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Contacts: personal data, so every export is written to the audit log."""

    policy = policies.CONTACTS
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Contact)
        return selectors.contact_list(organization=self.organization)

    def get_object(self):
        return selectors.access_contact(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        for flag in ("email_opted_out", "sms_opted_out", "opt_out_reason"):
            data.pop(flag, None)
        serializer.instance = services.contact_create(
            actor=self.actor, organization=self.organization, **data
        )

    def perform_update(self, serializer):
        serializer.instance = services.contact_update(
            actor=self.actor,
            organization=self.organization,
            contact=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.contact_erase(actor=self.actor, organization=self.organization, contact=instance)

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description="Everything stored about the contact (GDPR access); needs the export "
        "permission, and each call is written to the audit log.",
    )
    @action(detail=True, methods=["get"])
    def export(self, request, *args, **kwargs):
        if not self.actor.can(policies.Permission.EXPORT):
            raise exceptions.PermissionDenied("Your role or API key may not export data.")
        contact = self.get_object()
        data = services.contact_export(
            actor=self.actor, organization=self.organization, contact=contact
        )
        return Response(data, headers={"Cache-Control": "no-store"})


ROUTES: list[tuple[str, type, str]] = [("contacts", ContactViewSet, "contact")]
