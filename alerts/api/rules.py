"""Alert rules (CRUD and the 30-day preview) and the alerts they raised (read only)."""

from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts import selectors
from alerts.api.common import NewestFirst, TenantRelatedField, public_id
from alerts.enums import (
    AlertStatus,
    ConditionMetric,
    Operator,
    Priority,
    ReferenceMode,
    RuleKind,
)
from alerts.models import Alert, AlertRule, Case
from alerts.preview import rule_preview
from alerts.services import rules as rule_services
from core.idempotency import IdempotentCreateMixin
from core.schema import NULLABLE_STR
from core.scoping import no_rows
from journeys.models import Journey, Touchpoint
from surveys.models import Survey
from tenancy import policies
from tenancy.api import OrganizationViewSet

RULES_TAG = "Alert rules"
ALERTS_TAG = "Alerts"


class AlertRuleSerializer(serializers.Serializer):
    """A rule. Left out on create, the condition defaults to the metric's negative answer
    (CSAT <= 2, NPS <= 6, CES <= 3...), and aggregate settings to the model's defaults."""

    id = serializers.CharField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    is_active = serializers.BooleanField(required=False)
    journey = TenantRelatedField(
        Journey, required=False, allow_null=True, help_text="Scope: a journey (jny_...)."
    )
    touchpoint = TenantRelatedField(
        Touchpoint, required=False, allow_null=True, help_text="Scope: a touchpoint (tp_...)."
    )
    survey = TenantRelatedField(
        Survey, required=False, allow_null=True, help_text="Scope: a survey (srv_...)."
    )
    contact_attributes = serializers.DictField(
        required=False, help_text='Only contacts with these attributes, e.g. {"store": "Kamppi"}.'
    )
    hidden_fields = serializers.DictField(
        required=False, help_text='Only responses with these hidden fields, e.g. {"store": "12"}.'
    )
    metric = serializers.ChoiceField(choices=ConditionMetric.choices, required=False)
    question_key = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Only this question (its key); blank: every question of the metric.",
    )
    operator = serializers.ChoiceField(choices=Operator.choices, required=False)
    threshold = serializers.IntegerField(
        required=False, allow_null=True, help_text="In the metric's raw scale (CSAT 1-5...)."
    )
    keywords = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        help_text="For the `text` metric: the words to look for.",
    )
    window_minutes = serializers.IntegerField(
        required=False, help_text="Aggregate rules: the rolling window (15 minutes to 7 days)."
    )
    reference_mode = serializers.ChoiceField(choices=ReferenceMode.choices, required=False)
    reference_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, allow_null=True
    )
    baseline_margin = serializers.DecimalField(max_digits=5, decimal_places=4, required=False)
    alpha = serializers.DecimalField(max_digits=6, decimal_places=5, required=False)
    min_n = serializers.IntegerField(required=False)
    drop_points = serializers.DecimalField(max_digits=5, decimal_places=1, required=False)
    volume_ratio = serializers.DecimalField(max_digits=4, decimal_places=3, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    open_case = serializers.BooleanField(required=False)
    notify_email = serializers.BooleanField(required=False)
    notify_sms = serializers.BooleanField(required=False)
    # An incoming webhook URL is a credential: anyone holding it can post to the channel, so it
    # is written here but never read back.
    slack_webhook_url = serializers.URLField(
        max_length=500, required=False, allow_blank=True, write_only=True
    )
    teams_webhook_url = serializers.URLField(
        max_length=500, required=False, allow_blank=True, write_only=True
    )
    has_slack_webhook = serializers.SerializerMethodField()
    has_teams_webhook = serializers.SerializerMethodField()
    recovery_message = serializers.BooleanField(required=False)
    cooldown_minutes = serializers.IntegerField(required=False)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_has_slack_webhook(self, rule: AlertRule) -> bool:
        return bool(rule.slack_webhook_url)

    def get_has_teams_webhook(self, rule: AlertRule) -> bool:
        return bool(rule.teams_webhook_url)


class RulePreviewSerializer(serializers.Serializer):
    fired = serializers.IntegerField(help_text="How many alerts the rule would have raised.")
    evaluated = serializers.IntegerField(
        help_text="Responses (response rules) or window steps (aggregate rules) tested."
    )
    insufficient = serializers.CharField(
        help_text='"baseline_insufficient" when no scope had a baseline to test against.'
    )
    examples = serializers.ListField(child=serializers.DictField())
    days = serializers.IntegerField()


@extend_schema_view(
    list=extend_schema(summary="List alert rules"),
    retrieve=extend_schema(summary="Read an alert rule"),
    create=extend_schema(
        summary="Create an alert rule",
        description="400 `invalid` with `extra.fields` for any invalid setting.",
    ),
    update=extend_schema(summary="Replace an alert rule's settings"),
    partial_update=extend_schema(summary="Change an alert rule"),
    destroy=extend_schema(
        summary="Delete an alert rule", description="Its alerts and cases stay, without the link."
    ),
)
@extend_schema(tags=[RULES_TAG])
class AlertRuleViewSet(
    IdempotentCreateMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """When to raise an alert and what to do then. Writing needs the build permission."""

    policy = policies.ALERT_RULES
    serializer_class = AlertRuleSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        if self.schema_only:
            return no_rows(AlertRule)
        return selectors.rule_list(organization=self.organization)

    def get_object(self):
        return selectors.access_rule(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def perform_create(self, serializer):
        serializer.instance = rule_services.rule_create(
            actor=self.actor, organization=self.organization, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = rule_services.rule_update(
            actor=self.actor, rule=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        rule_services.rule_delete(actor=self.actor, rule=instance)

    @extend_schema(
        summary="Preview an alert rule",
        request=None,
        responses=RulePreviewSerializer,
        description="How many times the saved rule would have fired in the last 30 days, "
        "replayed over stored responses with the same tests and cooldown. Saves nothing.",
    )
    @action(detail=True, methods=["post"])
    def preview(self, request, *args, **kwargs):
        days = 30
        result = rule_preview(rule=self.get_object(), days=days)
        return Response(
            RulePreviewSerializer(
                {
                    "fired": result.fired,
                    "evaluated": result.evaluated,
                    "insufficient": result.insufficient,
                    "examples": result.examples,
                    "days": days,
                }
            ).data
        )


class AlertSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    rule = serializers.SerializerMethodField()
    rule_name = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=RuleKind.choices, read_only=True)
    status = serializers.ChoiceField(choices=AlertStatus.choices, read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    title = serializers.CharField(read_only=True)
    touchpoint = serializers.SerializerMethodField()
    survey = serializers.SerializerMethodField()
    response = serializers.SerializerMethodField()
    case = serializers.SerializerMethodField()
    evidence = serializers.JSONField(
        read_only=True,
        help_text="Response rules: the matching answers. Aggregate rules: n, negatives, "
        "reference, p value and interval of the window that fired.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)

    @extend_schema_field(NULLABLE_STR)
    def get_rule(self, alert: Alert) -> str | None:
        return public_id(alert.rule)

    @extend_schema_field(NULLABLE_STR)
    def get_rule_name(self, alert: Alert) -> str | None:
        return alert.rule.name if alert.rule is not None else None

    @extend_schema_field(NULLABLE_STR)
    def get_touchpoint(self, alert: Alert) -> str | None:
        return public_id(alert.touchpoint)

    @extend_schema_field(NULLABLE_STR)
    def get_survey(self, alert: Alert) -> str | None:
        return public_id(alert.survey)

    @extend_schema_field(NULLABLE_STR)
    def get_response(self, alert: Alert) -> str | None:
        return public_id(alert.response)

    @extend_schema_field(NULLABLE_STR)
    def get_case(self, alert: Alert) -> str | None:
        """The follow-up case (cas_...), if the rule opened one."""
        return getattr(alert, "case_public_id", None)


class AlertFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False)
    rule = TenantRelatedField(AlertRule, required=False, help_text="arl_...")
    touchpoint = TenantRelatedField(Touchpoint, required=False, help_text="tp_...")


@extend_schema_view(
    list=extend_schema(summary="List alerts", parameters=[AlertFilterSerializer]),
    retrieve=extend_schema(summary="Read an alert with its evidence"),
)
@extend_schema(tags=[ALERTS_TAG])
class AlertViewSet(OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Alerts raised by rules, newest first (cursor-paginated). Read only: the work happens on
    their cases."""

    policy = policies.CASES
    serializer_class = AlertSerializer
    pagination_class = NewestFirst

    def _with_case(self, alerts):
        cases = Case.objects.filter(organization=self.organization, alert=OuterRef("pk"))
        return alerts.annotate(case_public_id=Subquery(cases.values("public_id")[:1]))

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Alert)
        filters = AlertFilterSerializer(
            data=self.request.query_params, context=self.get_serializer_context()
        )
        filters.is_valid(raise_exception=True)
        given = filters.validated_data
        alerts = selectors.alert_list(
            organization=self.organization,
            status=given.get("status", ""),
            rule_id=given["rule"].pk if given.get("rule") else None,
        )
        if given.get("touchpoint"):
            alerts = alerts.filter(touchpoint_id=given["touchpoint"].pk)
        return self._with_case(alerts)

    def get_object(self):
        alert = selectors.access_alert(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )
        alert.case_public_id = (
            Case.objects.filter(organization=self.organization, alert=alert)
            .values_list("public_id", flat=True)
            .first()
        )
        return alert


ROUTES: list[tuple[str, type, str]] = [
    ("alert-rules", AlertRuleViewSet, "alert-rule"),
    ("alerts", AlertViewSet, "alert"),
]
