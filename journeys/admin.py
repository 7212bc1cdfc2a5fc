from django.contrib import admin

from core.admin import UnscopedAdmin
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint


@admin.register(Journey)
class JourneyAdmin(UnscopedAdmin):
    list_display = ["name", "organization", "segment", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "public_id"]


@admin.register(Stage)
class StageAdmin(UnscopedAdmin):
    list_display = ["name", "journey", "position", "organization"]
    list_select_related = ["journey", "organization"]
    raw_id_fields = ["journey"]


@admin.register(Touchpoint)
class TouchpointAdmin(UnscopedAdmin):
    list_display = ["name", "journey", "stage", "channel", "is_key", "owner", "archived_at"]
    list_select_related = ["journey", "stage", "owner"]
    search_fields = ["name", "public_id", "external_ref"]
    raw_id_fields = ["journey", "stage", "owner"]


@admin.register(MeasurementPlan)
class MeasurementPlanAdmin(UnscopedAdmin):
    list_display = [
        "public_id",
        "touchpoint",
        "metric",
        "kpi_kind",
        "baseline_value",
        "target_value",
    ]
    list_select_related = ["touchpoint"]
    raw_id_fields = ["touchpoint"]
