"""The root-cause taxonomy and improvement items (the outer loop)."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts import selectors
from alerts.api.common import MemberField, NewestFirst, TenantRelatedField
from alerts.enums import ImprovementStatus
from alerts.models import ImprovementItem, RootCause
from alerts.services import rules as services
from alerts.taxonomies import STARTER_TAXONOMIES
from core.idempotency import IdempotentCreateMixin, idempotent
from core.scoping import no_rows
from tenancy import policies
from tenancy.api import OrganizationViewSet

ROOT_CAUSES_TAG = "Root causes"
IMPROVEMENTS_TAG = "Improvements"


class RootCauseSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    category = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200)
    controllable = serializers.BooleanField(
        default=True, help_text="Whether the organization can fix it (the case's default)."
    )
    is_active = serializers.BooleanField(
        required=False, help_text="Retired causes stay on old cases but are not offered."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class RootCauseStarterSerializer(serializers.Serializer):
    industry = serializers.ChoiceField(choices=sorted(STARTER_TAXONOMIES))


class RootCauseFilterSerializer(serializers.Serializer):
    active = serializers.BooleanField(required=False, help_text="Only causes still offered.")


@extend_schema_view(
    list=extend_schema(summary="List root causes", parameters=[RootCauseFilterSerializer]),
    retrieve=extend_schema(summary="Read a root cause"),
    create=extend_schema(
        summary="Add a root cause",
        description="400 `duplicate` when the category already has a cause of that name.",
    ),
    update=extend_schema(summary="Replace a root cause"),
    partial_update=extend_schema(summary="Change or retire a root cause"),
)
@extend_schema(tags=[ROOT_CAUSES_TAG])
class RootCauseViewSet(
    IdempotentCreateMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
):
    """The organization's root-cause taxonomy, by category and name (not paginated: a taxonomy
    is a short list). Causes are retired with `is_active`, never deleted: resolved cases keep
    theirs."""

    policy = policies.CASES
    serializer_class = RootCauseSerializer
    pagination_class = None

    def get_queryset(self):
        if self.schema_only:
            return no_rows(RootCause)
        incoming = RootCauseFilterSerializer(data=self.request.query_params)
        incoming.is_valid(raise_exception=True)
        return selectors.root_cause_list(
            organization=self.organization,
            active_only=incoming.validated_data.get("active", False),
        )

    def get_object(self):
        return selectors.access_root_cause(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        is_active = data.pop("is_active", True)
        cause = services.root_cause_create(actor=self.actor, organization=self.organization, **data)
        if not is_active:
            cause = services.root_cause_update(actor=self.actor, cause=cause, is_active=False)
        serializer.instance = cause

    def perform_update(self, serializer):
        serializer.instance = services.root_cause_update(
            actor=self.actor, cause=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        summary="Add a starter taxonomy",
        request=RootCauseStarterSerializer,
        responses=inline_serializer(
            "RootCauseStarterResult", {"added": serializers.IntegerField()}
        ),
        description="Adds the starter list of an industry; causes that exist are kept.",
    )
    @action(detail=False, methods=["post"], url_path="load-starter")
    @idempotent
    def load_starter(self, request, *args, **kwargs):
        incoming = RootCauseStarterSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        added = services.root_causes_load_starter(
            actor=self.actor, organization=self.organization, **incoming.validated_data
        )
        return Response({"added": added})


class ImprovementSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    root_cause = TenantRelatedField(
        RootCause, required=False, allow_null=True, help_text="rc_... the cases share."
    )
    owner = MemberField(required=False, allow_null=True, help_text="usr_... of a member.")
    status = serializers.ChoiceField(choices=ImprovementStatus.choices, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
    case_count = serializers.IntegerField(read_only=True)
    open_case_count = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ImprovementFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ImprovementStatus.choices, required=False)


@extend_schema_view(
    list=extend_schema(summary="List improvement items", parameters=[ImprovementFilterSerializer]),
    retrieve=extend_schema(summary="Read an improvement item"),
    create=extend_schema(summary="Create an improvement item"),
    update=extend_schema(summary="Replace an improvement item"),
    partial_update=extend_schema(summary="Change an improvement item"),
)
@extend_schema(tags=[IMPROVEMENTS_TAG])
class ImprovementViewSet(
    IdempotentCreateMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
):
    """Fixes for causes several cases share, newest first. Link a case with
    `POST /cases/<id>/improvement/`."""

    policy = policies.CASES
    serializer_class = ImprovementSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        if self.schema_only:
            return no_rows(ImprovementItem)
        incoming = ImprovementFilterSerializer(data=self.request.query_params)
        incoming.is_valid(raise_exception=True)
        items = selectors.improvement_list(organization=self.organization)
        if incoming.validated_data.get("status"):
            items = items.filter(status=incoming.validated_data["status"])
        return items

    def get_object(self):
        return selectors.access_improvement(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def _counted(self, item: ImprovementItem) -> ImprovementItem:
        return selectors.access_improvement(
            organization=self.organization, public_id=item.public_id
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        item = services.improvement_create(actor=self.actor, organization=self.organization, **data)
        if new_status and new_status != item.status:
            item = services.improvement_update(actor=self.actor, item=item, status=new_status)
        serializer.instance = self._counted(item)

    def perform_update(self, serializer):
        item = services.improvement_update(
            actor=self.actor, item=serializer.instance, **serializer.validated_data
        )
        serializer.instance = self._counted(item)


ROUTES: list[tuple[str, type, str]] = [
    ("root-causes", RootCauseViewSet, "root-cause"),
    ("improvements", ImprovementViewSet, "improvement"),
]
