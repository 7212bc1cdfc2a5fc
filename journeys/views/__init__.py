"""Pages of journeys (see journeys.views.map for the journey map and its current-values hook)."""

from journeys.views.journeys import (
    JourneyArchiveView,
    JourneyCopyView,
    JourneyCreateView,
    JourneyDeleteView,
    JourneyEditView,
    JourneyListView,
    JourneyRestoreView,
)
from journeys.views.map import JourneyMapView, attach_current_values, no_current_values
from journeys.views.stages import StageCreateView, StageDeleteView, StageEditView, StageMoveView
from journeys.views.touchpoints import (
    MeasurementPlanCreateView,
    MeasurementPlanDeleteView,
    MeasurementPlanEditView,
    TouchpointArchiveView,
    TouchpointCreateView,
    TouchpointDeleteView,
    TouchpointDetailView,
    TouchpointEditView,
    TouchpointMoveView,
    TouchpointRestoreView,
)

__all__ = [
    "JourneyArchiveView",
    "JourneyCopyView",
    "JourneyCreateView",
    "JourneyDeleteView",
    "JourneyEditView",
    "JourneyListView",
    "JourneyMapView",
    "JourneyRestoreView",
    "MeasurementPlanCreateView",
    "MeasurementPlanDeleteView",
    "MeasurementPlanEditView",
    "StageCreateView",
    "StageDeleteView",
    "StageEditView",
    "StageMoveView",
    "TouchpointArchiveView",
    "TouchpointCreateView",
    "TouchpointDeleteView",
    "TouchpointDetailView",
    "TouchpointEditView",
    "TouchpointMoveView",
    "TouchpointRestoreView",
    "attach_current_values",
    "no_current_values",
]
