"""Reads of journeys, stages, touchpoints and measurement plans, shared by pages and the API."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import User
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint
from tenancy.models import Membership


def journey_list(*, organization, status: str | None = None) -> QuerySet[Journey]:
    """Journeys by name, with their numbers of stages and (active) touchpoints."""
    journeys = Journey.objects.filter(organization=organization).annotate(
        stage_count=Count("stages", distinct=True),
        touchpoint_count=Count(
            "touchpoints", filter=Q(touchpoints__archived_at=None), distinct=True
        ),
    )
    if status:
        journeys = journeys.filter(status=status)
    return journeys.order_by("name", "id")


def access_journey(*, organization, public_id: str) -> Journey:
    journey = Journey.objects.filter(organization=organization, public_id=public_id).first()
    if journey is None:
        raise Http404
    return journey


def stage_list(*, organization, journey: Journey | None = None) -> QuerySet[Stage]:
    stages = Stage.objects.filter(organization=organization).select_related("journey")
    if journey is not None:
        stages = stages.filter(journey=journey)
    return stages.order_by("journey_id", "position", "id")


def access_stage(*, organization, public_id: str) -> Stage:
    stage = stage_list(organization=organization).filter(public_id=public_id).first()
    if stage is None:
        raise Http404
    return stage


def _plans_prefetch() -> Prefetch:
    return Prefetch("measurement_plans", queryset=MeasurementPlan.objects.order_by("metric", "id"))


def touchpoint_list(
    *,
    organization,
    journey: Journey | None = None,
    stage: Stage | None = None,
    archived: bool | None = None,
) -> QuerySet[Touchpoint]:
    """Touchpoints with journey, stage, owner and measurement plans loaded (3 queries a page)."""
    touchpoints = (
        Touchpoint.objects.filter(organization=organization)
        .select_related("journey", "stage", "owner")
        .prefetch_related(_plans_prefetch())
    )
    if journey is not None:
        touchpoints = touchpoints.filter(journey=journey)
    if stage is not None:
        touchpoints = touchpoints.filter(stage=stage)
    if archived is not None:
        touchpoints = touchpoints.filter(archived_at__isnull=not archived)
    return touchpoints.order_by("journey_id", "stage__position", "position", "id")


def access_touchpoint(*, organization, public_id: str) -> Touchpoint:
    touchpoint = touchpoint_list(organization=organization).filter(public_id=public_id).first()
    if touchpoint is None:
        raise Http404
    return touchpoint


def measurement_plan_list(
    *, organization, touchpoint: Touchpoint | None = None
) -> QuerySet[MeasurementPlan]:
    plans = MeasurementPlan.objects.filter(organization=organization).select_related("touchpoint")
    if touchpoint is not None:
        plans = plans.filter(touchpoint=touchpoint)
    return plans.order_by("touchpoint_id", "metric", "id")


def access_measurement_plan(*, organization, public_id: str) -> MeasurementPlan:
    plan = measurement_plan_list(organization=organization).filter(public_id=public_id).first()
    if plan is None:
        raise Http404
    return plan


def journey_map(*, organization, journey: Journey) -> list[Stage]:
    """The journey's stages in order, each with `map_touchpoints` (active, in order, with owner
    and `measurement_plans` loaded) and `archived_touchpoints`.

    Four queries whatever the number of stages, touchpoints or plans.
    """
    active = (
        Touchpoint.objects.filter(organization=organization, archived_at=None)
        .select_related("owner")
        .prefetch_related(_plans_prefetch())
        .order_by("position", "id")
    )
    archived = Touchpoint.objects.filter(
        organization=organization, archived_at__isnull=False
    ).order_by("position", "id")
    return list(
        Stage.objects.filter(organization=organization, journey=journey)
        .order_by("position", "id")
        .prefetch_related(
            Prefetch("touchpoints", queryset=active, to_attr="map_touchpoints"),
            Prefetch("touchpoints", queryset=archived, to_attr="archived_touchpoints"),
        )
    )


def journey_map_plans(stages: list[Stage]) -> list[MeasurementPlan]:
    """Every measurement plan shown on a map that `journey_map` returned (no queries)."""
    return [
        plan
        for stage in stages
        for touchpoint in stage.map_touchpoints
        for plan in touchpoint.measurement_plans.all()
    ]


def owner_candidates(*, organization) -> QuerySet[User]:
    """Members who can own a touchpoint, by email."""
    return User.objects.filter(
        pk__in=Membership.objects.filter(organization=organization).values("user_id")
    ).order_by("email")


def owner_lookup(*, organization, reference: str) -> User | None:
    """The member with this email or public id (`usr_...`), or None if no member has it."""
    reference = reference.strip()
    field = "public_id" if reference.startswith("usr_") else "email"
    value = reference if field == "public_id" else reference.lower()
    return owner_candidates(organization=organization).filter(**{field: value}).first()
