"""The organization's case settings (a singleton): service levels, working hours, who gets what."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from alerts.api.common import MemberField, SingletonSchema
from alerts.enums import Priority
from alerts.models import CaseSettings
from alerts.service_levels import case_settings_read, case_settings_update, sla_hours
from tenancy import policies
from tenancy.api import OrganizationViewSet

CASE_SETTINGS_TAG = "Case settings"


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "08:00:00"}
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the organization's time zone: no offset, so not an RFC 3339 `time`."""


class CaseSettingsSerializer(serializers.Serializer):
    default_assignee = MemberField(
        required=False,
        allow_null=True,
        help_text="usr_... of the member who gets cases of touchpoints without an owner.",
    )
    escalation_contact = MemberField(
        required=False,
        allow_null=True,
        help_text="usr_... told when a case misses its service level and its owner has no "
        "escalation contact of their own.",
    )
    holiday_country = serializers.CharField(
        min_length=2, max_length=2, required=False, help_text="Public holidays of (FI, SE...)."
    )
    workdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        help_text="Working days, 0 = Monday.",
    )
    day_start = LocalTimeField(required=False)
    day_end = LocalTimeField(required=False)
    sla_hours = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        required=False,
        help_text='Business hours to [first contact, resolution] per priority, e.g. {"urgent": '
        "[1, 8]}. Send the priorities to change; the others keep theirs.",
    )
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, settings: CaseSettings) -> dict:
        data = super().to_representation(settings)
        data["sla_hours"] = {
            priority: list(sla_hours(settings, priority)) for priority in Priority.values
        }
        return data


class CaseSettingsViewSet(OrganizationViewSet):
    """Everyone may read the case settings; changing them needs the manage-organization
    permission (admins), so API keys get 403."""

    policy = policies.ORGANIZATION
    serializer_class = CaseSettingsSerializer
    schema = SingletonSchema()
    pagination_class = None

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        # The router maps only GET and POST on a collection URL; this singleton is read and
        # changed at that one URL, so PATCH is added there (and no detail URL exists).
        if actions and actions.get("get") == "list":
            actions = {**actions, "patch": "change"}
        return super().as_view(actions, **initkwargs)

    @extend_schema(summary="Read the case settings", tags=[CASE_SETTINGS_TAG])
    def list(self, request, *args, **kwargs):
        current = case_settings_read(organization=self.organization)
        return Response(self.get_serializer(current).data)

    @extend_schema(
        summary="Change the case settings",
        tags=[CASE_SETTINGS_TAG],
        request=CaseSettingsSerializer(partial=True),
        description="Send only the fields to change; cases opened from now on use them. 400 "
        "with `extra.fields` for invalid values; 403 for API keys and roles below admin.",
    )
    def change(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        changes = dict(incoming.validated_data)
        current = case_settings_read(organization=self.organization)
        if "sla_hours" in changes:
            changes["sla_hours"] = {**current.sla_hours, **changes["sla_hours"]}
        # The service checks the working day's end against its start when it gets both.
        if "day_start" in changes or "day_end" in changes:
            changes.setdefault("day_start", current.day_start)
            changes.setdefault("day_end", current.day_end)
        updated = case_settings_update(actor=self.actor, organization=self.organization, **changes)
        return Response(self.get_serializer(updated).data)


ROUTES: list[tuple[str, type, str]] = [
    ("case-settings", CaseSettingsViewSet, "case-settings"),
]
