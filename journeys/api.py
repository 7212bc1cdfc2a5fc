"""DRF views of journeys; API_ROUTES is registered under /api/v1/orgs/<org_slug>/ by cxplatform.api_urls.

Related objects are named by public id and looked up inside the URL's organization only: an id
of another organization is a 400 field error "Not found.", never accepted. Measurement plans are
read nested in each touchpoint (`measurement_plan`) and written through `/measurement-plans/`.
"""

from contextlib import contextmanager

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.exceptions import ApplicationError
from core.idempotency import IdempotentCreateMixin, idempotent
from core.scoping import no_rows
from journeys import selectors, services
from journeys.enums import (
    Channel,
    Direction,
    JourneyStatus,
    KpiKind,
    Metric,
    plannable_metric_choices,
)
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint
from tenancy import policies
from tenancy.api import OrganizationViewSet


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


# --- fields --------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class TenantRelatedField(serializers.RelatedField):
    """An object of the request's organization, named by its public id."""

    default_error_messages = {"not_found": "Not found.", "invalid": "Give a public id."}

    def __init__(self, model, **kwargs):
        self.model = model
        if not kwargs.get("read_only"):
            kwargs["queryset"] = no_rows(model)  # replaced per request below
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.filter(organization=self.context["organization"])

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        found = self.get_queryset().filter(public_id=data).first()
        if found is None:
            self.fail("not_found")
        return found

    def to_representation(self, value) -> str:
        return value.public_id


@extend_schema_field({"type": "string", "nullable": True})
class OwnerField(serializers.Field):
    """A member named by email or user id (`usr_...`); null for nobody."""

    default_error_messages = {
        "not_member": "Not found among the organization's members.",
        "invalid": "Give a member's email or user id.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid")
        user = selectors.owner_lookup(organization=self.context["organization"], reference=data)
        if user is None:
            self.fail("not_member")
        return user

    def to_representation(self, user) -> str:
        return user.public_id


# --- serializers ---------------------------------------------------------------------------------


class JourneySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    segment = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=JourneyStatus.choices, required=False, help_text="Archive or restore."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class JourneyCopySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    segment = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class MoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=Direction.choices)


class StageSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    journey = TenantRelatedField(Journey, help_text="The journey's id (jny_...); fixed once set.")
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    position = serializers.IntegerField(
        read_only=True, help_text="0-based order in the journey; change it with the move action."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_journey(self, journey: Journey) -> Journey:
        if self.instance is not None and journey.pk != self.instance.journey_id:
            raise serializers.ValidationError("A stage stays in its journey.")
        return journey


class NestedMeasurementPlanSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    metric = serializers.ChoiceField(choices=plannable_metric_choices())
    kpi_kind = serializers.ChoiceField(choices=KpiKind.choices, default=KpiKind.OPERATIONAL)
    baseline_value = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True, default=None
    )
    baseline_date = serializers.DateField(required=False, allow_null=True, default=None)
    target_value = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True, default=None
    )
    target_date = serializers.DateField(required=False, allow_null=True, default=None)


class MeasurementPlanSerializer(NestedMeasurementPlanSerializer):
    touchpoint = TenantRelatedField(Touchpoint, help_text="The touchpoint's id (tp_...).")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_touchpoint(self, touchpoint: Touchpoint) -> Touchpoint:
        if self.instance is not None and touchpoint.pk != self.instance.touchpoint_id:
            raise serializers.ValidationError("A plan stays with its touchpoint.")
        return touchpoint


class TouchpointSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    journey = serializers.CharField(
        source="journey.public_id", read_only=True, help_text="The stage's journey."
    )
    stage = TenantRelatedField(
        Stage, help_text="The stage's id (stg_...); a new stage must be in the same journey."
    )
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    is_digital = serializers.BooleanField(
        required=False, help_text="Left out on create, the channel decides."
    )
    is_key = serializers.BooleanField(required=False)
    owner = OwnerField(
        required=False,
        allow_null=True,
        help_text="A member's email or user id (usr_...); null for nobody.",
    )
    owner_email = serializers.EmailField(source="owner.email", read_only=True, allow_null=True)
    external_ref = serializers.CharField(max_length=200, required=False, allow_blank=True)
    position = serializers.IntegerField(read_only=True)
    archived = serializers.BooleanField(
        source="is_archived", required=False, help_text="Archive (true) or restore (false)."
    )
    archived_at = serializers.DateTimeField(read_only=True, allow_null=True)
    measurement_plan = NestedMeasurementPlanSerializer(
        source="measurement_plans", many=True, read_only=True
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


# --- filters -------------------------------------------------------------------------------------


# Every filter is declared: filters django-filter generates from model fields would read the
# scoped default manager while the schema is built, outside any tenant scope.
class JourneyFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JourneyStatus.choices)

    class Meta:
        model = Journey
        fields = ["status"]


class StageFilter(django_filters.FilterSet):
    journey = django_filters.CharFilter(field_name="journey__public_id", help_text="jny_...")

    class Meta:
        model = Stage
        fields = ["journey"]


class TouchpointFilter(django_filters.FilterSet):
    journey = django_filters.CharFilter(field_name="journey__public_id", help_text="jny_...")
    stage = django_filters.CharFilter(field_name="stage__public_id", help_text="stg_...")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    is_key = django_filters.BooleanFilter()
    external_ref = django_filters.CharFilter(help_text="Exact match.")
    archived = django_filters.BooleanFilter(
        field_name="archived_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Touchpoint
        fields = ["journey", "stage", "channel", "is_key", "external_ref", "archived"]


class MeasurementPlanFilter(django_filters.FilterSet):
    touchpoint = django_filters.CharFilter(field_name="touchpoint__public_id", help_text="tp_...")
    metric = django_filters.ChoiceFilter(choices=Metric.choices)

    class Meta:
        model = MeasurementPlan
        fields = ["touchpoint", "metric"]


# --- viewsets ------------------------------------------------------------------------------------


class _CrudViewSet(
    IdempotentCreateMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    policy = policies.JOURNEYS


@extend_schema(tags=["Journeys"])
class JourneyViewSet(_CrudViewSet):
    """Journeys. `status` archives or restores; deleting removes stages and touchpoints too and
    is refused (409 `touchpoint_has_responses`) when a touchpoint has feedback."""

    serializer_class = JourneySerializer
    filterset_class = JourneyFilter

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Journey)
        return selectors.journey_list(organization=self.organization)

    def get_object(self):
        return selectors.access_journey(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        journey = services.journey_create(actor=self.actor, organization=self.organization, **data)
        if new_status:
            services.journey_set_status(actor=self.actor, journey=journey, status=new_status)
        serializer.instance = journey

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        journey = services.journey_update(actor=self.actor, journey=serializer.instance, **data)
        if new_status:
            services.journey_set_status(actor=self.actor, journey=journey, status=new_status)

    def perform_destroy(self, instance):
        services.journey_delete(actor=self.actor, journey=instance)

    @extend_schema(request=JourneyCopySerializer, responses={201: JourneySerializer})
    @idempotent
    @action(detail=True, methods=["post"])
    def copy(self, request, *args, **kwargs):
        """Copy stages, active touchpoints and measurement plans into a new journey."""
        serializer = JourneyCopySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        copy = services.journey_copy(
            actor=self.actor, journey=self.get_object(), **serializer.validated_data
        )
        return Response(JourneySerializer(copy).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["Stages"])
class StageViewSet(_CrudViewSet):
    """Stages of journeys; a new stage goes last. Reorder with the move action."""

    serializer_class = StageSerializer
    filterset_class = StageFilter

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Stage)
        return selectors.stage_list(organization=self.organization)

    def get_object(self):
        return selectors.access_stage(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def perform_create(self, serializer):
        serializer.instance = services.stage_create(actor=self.actor, **serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("journey", None)
        services.stage_update(actor=self.actor, stage=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.stage_delete(actor=self.actor, stage=instance)

    @extend_schema(request=MoveSerializer, responses=StageSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        """Swap the stage with the one before (up) or after (down); at an end nothing changes."""
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        stage = services.stage_move(
            actor=self.actor, stage=self.get_object(), **serializer.validated_data
        )
        return Response(StageSerializer(stage, context=self.get_serializer_context()).data)


@extend_schema(tags=["Touchpoints"])
class TouchpointViewSet(_CrudViewSet):
    """Touchpoints with their measurement plans nested (read-only here; write them at
    /measurement-plans/). Deleting one with feedback is refused (409): archive it instead."""

    serializer_class = TouchpointSerializer
    filterset_class = TouchpointFilter

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Touchpoint)
        return selectors.touchpoint_list(organization=self.organization)

    def get_object(self):
        return selectors.access_touchpoint(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def _set_archived(self, touchpoint: Touchpoint, archived: bool | None) -> None:
        if archived is True:
            services.touchpoint_archive(actor=self.actor, touchpoint=touchpoint)
        elif archived is False:
            services.touchpoint_restore(actor=self.actor, touchpoint=touchpoint)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        archived = data.pop("is_archived", None)
        with field_errors():
            touchpoint = services.touchpoint_create(actor=self.actor, **data)
        self._set_archived(touchpoint, archived)
        serializer.instance = touchpoint

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        archived = data.pop("is_archived", None)
        with field_errors():
            services.touchpoint_update(actor=self.actor, touchpoint=serializer.instance, **data)
        self._set_archived(serializer.instance, archived)

    def perform_destroy(self, instance):
        services.touchpoint_delete(actor=self.actor, touchpoint=instance)

    @extend_schema(request=MoveSerializer, responses=TouchpointSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        """Swap with the active touchpoint above (up) or below (down) in the same stage."""
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        touchpoint = services.touchpoint_move(
            actor=self.actor, touchpoint=self.get_object(), **serializer.validated_data
        )
        return Response(
            TouchpointSerializer(touchpoint, context=self.get_serializer_context()).data
        )


@extend_schema(tags=["Measurement plans"])
class MeasurementPlanViewSet(_CrudViewSet):
    """Which metric is measured at a touchpoint, with baseline and target (one plan per metric
    and touchpoint; values in the metric's own scale, e.g. NPS -100..100, CES 1..7)."""

    serializer_class = MeasurementPlanSerializer
    filterset_class = MeasurementPlanFilter

    def get_queryset(self):
        if self.schema_only:
            return no_rows(MeasurementPlan)
        return selectors.measurement_plan_list(organization=self.organization)

    def get_object(self):
        return selectors.access_measurement_plan(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def perform_create(self, serializer):
        with field_errors():
            serializer.instance = services.measurement_plan_create(
                actor=self.actor, **serializer.validated_data
            )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("touchpoint", None)
        with field_errors():
            services.measurement_plan_update(actor=self.actor, plan=serializer.instance, **data)


API_ROUTES: list[tuple[str, type, str]] = [
    ("journeys", JourneyViewSet, "journey"),
    ("stages", StageViewSet, "stage"),
    ("touchpoints", TouchpointViewSet, "touchpoint"),
    ("measurement-plans", MeasurementPlanViewSet, "measurement-plan"),
]
