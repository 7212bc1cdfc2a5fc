"""DRF views of scheduled digests and read-only share links: the browser's pages of the same
names, through the same services and permissions (analysts and up, and write keys, change them;
read keys only read). A share link's token is in the answer to create only, as on the page.

API_ROUTES is registered under /api/v1/orgs/<org_slug>/ by cxplatform.api_urls.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import CursorPagination
from core.exceptions import ApplicationError
from core.idempotency import IdempotentCreateMixin
from core.scoping import no_rows
from reports import digests, sharing
from reports.models import Cadence, DashboardType, Digest, ShareLink
from tenancy import policies
from tenancy.api import OrganizationViewSet
from tenancy.models import Membership
from tenancy.selectors import membership_list

DIGESTS_TAG = "Digests"
SHARE_LINKS_TAG = "Share links"


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")


@contextmanager
def field_errors():
    """Report a service's refusal that names a field as a validation error on that field."""
    try:
        yield
    except ApplicationError as error:
        field = error.extra.get("field")
        if error.status_code == 400 and field:
            raise exceptions.ValidationError({field: [error.message]}) from error
        raise


class DashboardField(serializers.CharField):
    """A touchpoint's id for its dashboard; null for the organization overview."""

    def to_representation(self, value: str) -> str | None:
        return value or None


class RecipientsField(serializers.ListField):
    """Members named by their ids (`mem_...`, as `GET /members/` lists them)."""

    child = serializers.CharField(max_length=32)
    default_error_messages = {"not_member": _("Choose members of this organization.")}

    def to_representation(self, recipients) -> list[str]:
        return [recipient.membership.public_id for recipient in recipients.all()]

    def to_internal_value(self, data) -> list[Membership]:
        wanted = set(super().to_internal_value(data))
        members = list(
            membership_list(organization=self.context["organization"]).filter(public_id__in=wanted)
        )
        if len(members) != len(wanted):
            self.fail("not_member")
        return members


# What digests and share links have in common: an id and the dashboard they name. (A comment,
# not a docstring: the schema would show it as every subclass's description.)
class DashboardRefSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    dashboard_type = serializers.ChoiceField(choices=DashboardType.choices, read_only=True)
    dashboard = DashboardField(
        source="dashboard_public_id",
        max_length=32,
        allow_null=True,
        default=None,
        help_text="A touchpoint's id (tp_...) for its dashboard; null (the default) for the "
        "organization overview. `dashboard_type` follows from it.",
    )

    def validate(self, attrs):
        if "dashboard_public_id" in attrs:  # not in a partial update that leaves it alone
            public_id = attrs["dashboard_public_id"] or ""
            attrs["dashboard_public_id"] = public_id
            attrs["dashboard_type"] = (
                DashboardType.TOUCHPOINT if public_id else DashboardType.OVERVIEW
            ).value
        return attrs


class DigestSerializer(DashboardRefSerializer):
    cadence = serializers.ChoiceField(
        choices=Cadence.choices,
        help_text="Sent in the morning in the organization's time zone: daily about yesterday, "
        "weekly on Monday about last week, monthly on the 1st about last month.",
    )
    active = serializers.BooleanField(
        source="is_active", required=False, help_text="False pauses the digest."
    )
    recipients = RecipientsField(
        help_text="At least one member id (mem_...); each gets it in their own language."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ShareLinkSerializer(DashboardRefSerializer):
    label = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Who the link is for, say."
    )
    expires_on = serializers.DateField(
        write_only=True,
        required=False,
        help_text="The last day the link works, in the organization's time zone: after today "
        "and at most a year ahead; 30 days from today by default.",
    )
    expires_at = serializers.DateTimeField(read_only=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    view_count = serializers.IntegerField(
        read_only=True, help_text="Times the dashboard was opened through the link."
    )
    created_at = serializers.DateTimeField(read_only=True)


class ShareLinkCreatedSerializer(ShareLinkSerializer):
    token = serializers.SerializerMethodField(help_text="Shown only in this answer: keep it.")
    url = serializers.SerializerMethodField(
        help_text="The dashboard's address for anyone, without signing in; shown only here."
    )

    def get_token(self, link: ShareLink) -> str:
        return self.context["token"]

    def get_url(self, link: ShareLink) -> str:
        path = reverse("reports:shared_dashboard", args=[self.context["token"]])
        return self.context["request"].build_absolute_uri(path)


@extend_schema_view(
    list=extend_schema(summary="List digests"),
    retrieve=extend_schema(summary="Read a digest"),
    create=extend_schema(
        summary="Schedule a digest",
        description="400 with `extra.fields` for an unknown touchpoint, a recipient who is not "
        "a member, or a bad cadence.",
    ),
    update=extend_schema(summary="Replace a digest's settings"),
    partial_update=extend_schema(summary="Change or pause a digest"),
    destroy=extend_schema(summary="Delete a digest with its delivery history"),
)
@extend_schema(tags=[DIGESTS_TAG])
class DigestViewSet(
    IdempotentCreateMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """A dashboard's headline numbers by email to chosen members, once a day, week or month.
    Every member reads them; changing them needs the share permission (analysts and up, write
    keys)."""

    policy = policies.DIGESTS
    serializer_class = DigestSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Digest)
        return digests.digest_list(organization=self.organization)

    def get_object(self):
        return digests.access_digest(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def _reread(self, digest: Digest) -> Digest:
        """With its recipients as they are now (and their ids, without a query each)."""
        return digests.access_digest(organization=self.organization, public_id=digest.public_id)

    def perform_create(self, serializer):
        with field_errors():
            digest = digests.digest_create(
                actor=self.actor, organization=self.organization, **serializer.validated_data
            )
        serializer.instance = self._reread(digest)

    def perform_update(self, serializer):
        digest = serializer.instance
        current = {
            "dashboard_type": digest.dashboard_type,
            "dashboard_public_id": digest.dashboard_public_id,
            "cadence": digest.cadence,
            "is_active": digest.is_active,
            "recipients": [recipient.membership for recipient in digest.recipients.all()],
            **serializer.validated_data,
        }
        with field_errors():
            digests.digest_update(
                actor=self.actor, organization=self.organization, digest=digest, **current
            )
        serializer.instance = self._reread(digest)

    def perform_destroy(self, instance):
        digests.digest_delete(actor=self.actor, organization=self.organization, digest=instance)


@extend_schema_view(
    list=extend_schema(summary="List share links"),
    retrieve=extend_schema(summary="Read a share link"),
    create=extend_schema(
        summary="Make a share link",
        responses={201: ShareLinkCreatedSerializer},
        description="The answer holds the token and the link's `url`; they are never shown "
        "again. 400 with `extra.fields` for an unknown touchpoint or an expiry not within a "
        "year from tomorrow.",
    ),
)
@extend_schema(tags=[SHARE_LINKS_TAG])
class ShareLinkViewSet(
    OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Read-only links that open one dashboard without signing in until they expire or are
    revoked. Readable by whoever may export; made and revoked with the share permission. Creates
    take no Idempotency-Key: the stored answer would be a second copy of the token."""

    policy = policies.SHARE_LINKS
    serializer_class = ShareLinkSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        if self.schema_only:
            return no_rows(ShareLink)
        return sharing.share_link_list(organization=self.organization)

    def get_object(self):
        return sharing.access_share_link(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def create(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        with field_errors():
            created = sharing.share_link_create(
                actor=self.actor, organization=self.organization, **incoming.validated_data
            )
        link = sharing.access_share_link(
            organization=self.organization, public_id=created.link.public_id
        )
        context = {**self.get_serializer_context(), "token": created.token}
        body = ShareLinkCreatedSerializer(link, context=context).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(
        summary="Revoke a share link",
        request=None,
        responses=ShareLinkSerializer,
        description="The link stops working at once (its address answers 404); it stays listed "
        "with its view count. Revoking a revoked link changes nothing.",
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        link = sharing.share_link_revoke(
            actor=self.actor, organization=self.organization, link=self.get_object()
        )
        return Response(self.get_serializer(link).data)


API_ROUTES: list[tuple[str, type, str]] = [
    ("digests", DigestViewSet, "digest"),
    ("share-links", ShareLinkViewSet, "share-link"),
]
