"""Every write of journeys, stages, touchpoints and measurement plans; each one is audited."""

from journeys.services.journeys import (
    journey_archive,
    journey_copy,
    journey_create,
    journey_delete,
    journey_restore,
    journey_set_status,
    journey_update,
)
from journeys.services.plans import (
    measurement_plan_create,
    measurement_plan_delete,
    measurement_plan_update,
)
from journeys.services.stages import stage_create, stage_delete, stage_move, stage_update
from journeys.services.touchpoints import (
    touchpoint_archive,
    touchpoint_create,
    touchpoint_delete,
    touchpoint_move,
    touchpoint_restore,
    touchpoint_update,
)

__all__ = [
    "journey_archive",
    "journey_copy",
    "journey_create",
    "journey_delete",
    "journey_restore",
    "journey_set_status",
    "journey_update",
    "measurement_plan_create",
    "measurement_plan_delete",
    "measurement_plan_update",
    "stage_create",
    "stage_delete",
    "stage_move",
    "stage_update",
    "touchpoint_archive",
    "touchpoint_create",
    "touchpoint_delete",
    "touchpoint_move",
    "touchpoint_restore",
    "touchpoint_update",
]
