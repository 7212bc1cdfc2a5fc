"""DRF views of invitations and campaigns."""

from datetime import timedelta

import django_filters
from django.db import transaction
from django.utils.dateparse import parse_duration
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.exceptions import ApplicationError
from core.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.idempotency import IdempotentCreateMixin, idempotent
from core.scoping import no_rows
from distribution import services
from distribution.enums import CampaignChannel, Channel, ConsentSource, InvitationStatus
from distribution.models import Campaign, Contact, Invitation, Segment
from distribution.normalize import normalize_email, normalize_phone
from distribution.services import invitations
from journeys.models import Touchpoint
from surveys.enums import SurveyStatus
from surveys.models import Survey
from tenancy import policies
from tenancy.api import OrganizationViewSet


class InvitationSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    status = serializers.CharField(read_only=True)
    skip_reason = serializers.CharField(read_only=True)
    failure_reason = serializers.CharField(read_only=True)
    channel = serializers.CharField(read_only=True)
    contact = serializers.CharField(source="contact.public_id", read_only=True, allow_null=True)
    survey = serializers.CharField(source="survey.public_id", read_only=True)
    touchpoint = serializers.CharField(
        source="touchpoint.public_id", read_only=True, allow_null=True
    )
    campaign = serializers.CharField(source="campaign.public_id", read_only=True, allow_null=True)
    scheduled_for = serializers.DateTimeField(read_only=True)
    sent_at = serializers.DateTimeField(read_only=True, allow_null=True)
    answered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    reminders_sent = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ContactDataSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    preferred_language = serializers.CharField(max_length=2, required=False, allow_blank=True)
    email_consent = serializers.BooleanField(required=False)
    sms_consent = serializers.BooleanField(required=False)


class InvitationCreateSerializer(serializers.Serializer):
    contact = serializers.CharField(required=False, help_text="A contact's id (ct_...).")
    contact_data = ContactDataSerializer(
        required=False, help_text="Or the contact's data: matched by external id, email, phone."
    )
    survey = serializers.CharField(required=False, help_text="A survey's id (srv_...).")
    touchpoint = serializers.CharField(
        required=False, help_text="A touchpoint's id; its published survey is used."
    )
    channel = serializers.ChoiceField(choices=CampaignChannel.choices)
    delay = serializers.CharField(
        required=False, default="0", help_text="Seconds, or an ISO 8601 duration such as PT2H."
    )
    hidden_fields = serializers.DictField(required=False)
    event_id = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The integration's id of the event: the same event never invites twice.",
    )

    def validate_delay(self, value: str) -> timedelta:
        text = str(value).strip()
        try:
            parsed = timedelta(seconds=int(text)) if text.isdigit() else parse_duration(text)
        except (OverflowError, ValueError):  # more days than a timedelta holds, "²"
            parsed = None
        if parsed is None:
            raise serializers.ValidationError("Seconds or an ISO 8601 duration (PT2H).")
        if not timedelta(0) <= parsed <= invitations.MAX_DELAY:
            raise serializers.ValidationError("The delay is from 0 to 60 days.")
        return parsed

    def validate(self, attrs):
        if bool(attrs.get("contact")) == bool(attrs.get("contact_data")):
            raise serializers.ValidationError({"contact": "Give contact or contact_data."})
        if not attrs.get("survey") and not attrs.get("touchpoint"):
            raise serializers.ValidationError({"survey": "Give survey or touchpoint."})
        return attrs


class CampaignSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=200)
    survey = serializers.SlugRelatedField(slug_field="public_id", queryset=Survey.objects.none())
    segment = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Segment.objects.none(), required=False, allow_null=True
    )
    contact_ids = serializers.ListField(child=serializers.CharField(), required=False)
    channel = serializers.ChoiceField(choices=CampaignChannel.choices)
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True)
    reminders = serializers.IntegerField(min_value=0, max_value=3, required=False, default=0)
    reminder_after_days = serializers.IntegerField(
        min_value=1, max_value=60, required=False, default=3
    )
    status = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            self.fields["survey"].queryset = Survey.objects.filter(organization=organization)
            self.fields["segment"].queryset = Segment.objects.filter(organization=organization)


class InvitationFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=InvitationStatus.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    campaign = django_filters.CharFilter(
        field_name="campaign__public_id", label="A campaign's id (cmp_...)."
    )
    contact = django_filters.CharFilter(
        field_name="contact__public_id", label="A contact's id (ct_...)."
    )
    survey = django_filters.CharFilter(
        field_name="survey__public_id", label="A survey's id (srv_...)."
    )

    class Meta:
        model = Invitation
        fields = ["status", "channel", "campaign", "contact", "survey"]


IDEMPOTENCY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="Send the same key again to get the first answer again; it is also the event "
    "id when none is given, so a retried trigger never invites twice.",
)


def _contact_from(organization, actor, attrs) -> Contact:
    if attrs.get("contact"):
        contact = Contact.objects.filter(
            organization=organization, public_id=attrs["contact"]
        ).first()
        if contact is None:
            raise ApplicationError("No such contact.", code="invalid", extra={"field": "contact"})
        return contact
    data = {key: value for key, value in attrs["contact_data"].items() if value not in ("", None)}
    match = None
    for field in ("external_id", "email", "phone"):
        if not data.get(field):
            continue
        value = data[field]
        if field == "email":
            value = normalize_email(value)
        elif field == "phone":
            value = normalize_phone(value)
        match = Contact.objects.filter(organization=organization, **{field: value}).first()
        if match is not None:
            break
    if match is None:
        return services.contact_create(
            actor=actor, organization=organization, consent_source=ConsentSource.API, **data
        )
    changes = {key: value for key, value in data.items() if getattr(match, key, None) != value}
    return services.contact_update(
        actor=actor,
        organization=organization,
        contact=match,
        consent_source=ConsentSource.API,
        **changes,
    )


def _survey_from(organization, attrs) -> tuple[Survey, Touchpoint | None]:
    touchpoint = None
    if attrs.get("touchpoint"):
        touchpoint = Touchpoint.objects.filter(
            organization=organization, public_id=attrs["touchpoint"]
        ).first()
        if touchpoint is None:
            raise ApplicationError(
                "No such touchpoint.", code="invalid", extra={"field": "touchpoint"}
            )
    surveys = Survey.objects.filter(organization=organization)
    if attrs.get("survey"):
        survey = surveys.filter(public_id=attrs["survey"]).first()
    else:
        survey = (
            surveys.filter(touchpoint=touchpoint, status=SurveyStatus.PUBLISHED)
            .order_by("-created_at")
            .first()
        )
    if survey is None:
        raise ApplicationError(
            "No such survey (or no published survey at the touchpoint).",
            code="invalid",
            extra={"field": "survey"},
        )
    return survey, touchpoint


@extend_schema(tags=["Invitations"])
@extend_schema_view(
    create=extend_schema(
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer, 200: InvitationSerializer},
        parameters=[IDEMPOTENCY],
        description="Triggered invitation: one invitation sent after `delay`. A contact the "
        "consent, opt-out or contact-frequency rules refuse gets a skipped invitation with its "
        "`skip_reason`. 200 when the same event was already invited.",
    ),
)
class InvitationViewSet(
    OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Invitations: triggered by integrations or made by campaigns, with their status."""

    policy = policies.CONTACTS
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilterSet

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Invitation)
        return invitations.invitation_list(organization=self.organization)

    def get_object(self):
        invitation = self.get_queryset().filter(public_id=self.kwargs["public_id"]).first()
        if invitation is None:
            from django.http import Http404

            raise Http404
        return invitation

    @idempotent
    def create(self, request, *args, **kwargs):
        incoming = InvitationCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        attrs = incoming.validated_data
        with transaction.atomic():
            contact = _contact_from(self.organization, self.actor, attrs)
            survey, touchpoint = _survey_from(self.organization, attrs)
            result = invitations.invitation_trigger(
                actor=self.actor,
                organization=self.organization,
                contact=contact,
                survey=survey,
                channel=attrs["channel"],
                delay=attrs["delay"],
                hidden_fields=attrs.get("hidden_fields"),
                touchpoint=touchpoint,
                event_id=attrs.get("event_id") or request.headers.get(IDEMPOTENCY_HEADER, ""),
            )
        return Response(
            InvitationSerializer(result.invitation).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


@extend_schema(tags=["Campaigns"])
@extend_schema_view(
    create=extend_schema(description="A draft campaign; preview it, then send it."),
)
class CampaignViewSet(
    IdempotentCreateMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
):
    """Campaigns: a survey sent to a segment or a list of contacts, now or at a set time."""

    policy = policies.CONTACTS
    serializer_class = CampaignSerializer

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Campaign)
        return Campaign.objects.filter(organization=self.organization).select_related(
            "survey", "segment"
        )

    def get_object(self):
        campaign = self.get_queryset().filter(public_id=self.kwargs["public_id"]).first()
        if campaign is None:
            from django.http import Http404

            raise Http404
        return campaign

    def perform_create(self, serializer):
        serializer.instance = invitations.campaign_create(
            actor=self.actor, organization=self.organization, **serializer.validated_data
        )

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def preview(self, request, *args, **kwargs):
        """How many contacts each rule would skip, and how many would be sent to."""
        counts = invitations.campaign_preview(
            organization=self.organization, campaign=self.get_object()
        )
        return Response(counts)

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, *args, **kwargs):
        """Send now, or at `scheduled_for` when it is in the future."""
        campaign = invitations.campaign_send(
            actor=self.actor, organization=self.organization, campaign=self.get_object()
        )
        return Response(CampaignSerializer(campaign).data)


ROUTES: list[tuple[str, type, str]] = [
    ("invitations", InvitationViewSet, "invitation"),
    ("campaigns", CampaignViewSet, "campaign"),
]
