"""GET /metrics/ and GET /kpis/ under /api/v1/orgs/<org_slug>/."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from distribution.models import Segment
from journeys.models import Stage, Touchpoint
from metrics import kpis, registry
from metrics.periods import Interval
from metrics.selectors import MetricFilters, metric_series
from surveys.models import Question, Survey
from tenancy import policies
from tenancy.api import OrganizationAPIView

# Only metrics that can be scored (metrics.registry); EXQ and mystery shopping come when they can.
METRICS = registry.scorable_names()


class ScoreSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    hidden = serializers.BooleanField()
    low_precision = serializers.BooleanField()
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="Answers per value; null when the score is hidden (fewer than 5 answers).",
    )
    secondary = serializers.DictField(child=serializers.FloatField(allow_null=True))


class PeriodSerializer(ScoreSerializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()


class ChangeSerializer(serializers.Serializer):
    previous_start = serializers.DateField()
    previous_end = serializers.DateField()
    previous_n = serializers.IntegerField()
    previous_score = serializers.FloatField(allow_null=True)
    delta = serializers.FloatField(allow_null=True, help_text="Points, current minus previous.")
    p_value = serializers.FloatField(allow_null=True, help_text="Two-sample z test, two-sided.")
    significant = serializers.BooleanField()
    level = serializers.FloatField()


class MetricSeriesSerializer(serializers.Serializer):
    metric = serializers.CharField()
    interval = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    results = PeriodSerializer(many=True)
    total = ScoreSerializer()
    change = ChangeSerializer()


class PublicIdField(serializers.CharField):
    """A public id of the caller's organization; anything else is a field error."""

    def __init__(self, queryset_for, **kwargs):
        self.queryset_for = queryset_for
        super().__init__(required=False, **kwargs)

    def to_internal_value(self, data):
        public_id = super().to_internal_value(data)
        found = self.queryset_for(self.context["organization"]).filter(public_id=public_id).first()
        if found is None:
            raise serializers.ValidationError("Not found.")
        return found


class MetricQuerySerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=METRICS)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    interval = serializers.ChoiceField(
        choices=[i.value for i in Interval], default=Interval.MONTH.value
    )
    touchpoint = PublicIdField(lambda org: Touchpoint.objects.filter(organization=org))
    journey = serializers.CharField(required=False)
    stage = PublicIdField(lambda org: Stage.objects.filter(organization=org))
    survey = PublicIdField(lambda org: Survey.objects.filter(organization=org))
    question = serializers.CharField(required=False, help_text="A question's key or public id.")
    channel = serializers.CharField(
        required=False, help_text="One channel or several, comma-separated."
    )
    language = serializers.CharField(
        required=False, help_text="fi, sv, en; comma-separated for several."
    )
    segment = PublicIdField(
        lambda org: Segment.objects.filter(organization=org),
        help_text="A contact segment's id: scores of its contacts' invited responses (read from raw rows).",
    )
    level = serializers.FloatField(required=False, min_value=0.5, max_value=0.999)

    MAX_DAYS = 3 * 366

    def validate_journey(self, value):
        from journeys.models import Journey

        journey = Journey.objects.filter(
            organization=self.context["organization"], public_id=value
        ).first()
        if journey is None:
            raise serializers.ValidationError("Not found.")
        return journey

    def validate_question(self, value):
        question = Question.objects.filter(
            organization=self.context["organization"], public_id=value
        ).first()
        return question.key if question else value

    def validate(self, data):
        today = timezone.localdate(timezone=self.context["organization"].zone)
        data.setdefault("end", today)
        data.setdefault("start", data["end"] - timedelta(days=364))
        if data["start"] > data["end"]:
            raise serializers.ValidationError({"start": "start must not be after end."})
        if (data["end"] - data["start"]).days > self.MAX_DAYS:
            raise serializers.ValidationError(
                {"start": f"A range may span at most {self.MAX_DAYS} days."}
            )
        return data

    def filters(self) -> MetricFilters:
        data = self.validated_data

        def split(name):
            return tuple(v.strip() for v in data.get(name, "").split(",") if v.strip())

        return MetricFilters(
            touchpoint_ids=(data["touchpoint"].pk,) if data.get("touchpoint") else (),
            journey_id=data["journey"].pk if data.get("journey") else None,
            stage_id=data["stage"].pk if data.get("stage") else None,
            survey_id=data["survey"].pk if data.get("survey") else None,
            question_key=data.get("question"),
            channels=split("channel"),
            languages=split("language"),
            segment=data.get("segment"),
        )


@extend_schema(tags=["Metrics"])
class MetricSeriesAPI(OrganizationAPIView):
    """Scores per day, week or month with n, 95 % interval and flags, the total, and the change
    against the equally long range before (significance by a two-sample z test). Read from rollups."""

    policy = policies.METRICS

    @extend_schema(
        parameters=[MetricQuerySerializer],
        responses=MetricSeriesSerializer,
    )
    def get(self, request, org_slug: str):
        query = MetricQuerySerializer(
            data=request.query_params, context={"organization": self.organization}
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        series = metric_series(
            organization=self.organization,
            metric=data["metric"],
            start=data["start"],
            end=data["end"],
            interval=Interval(data["interval"]),
            filters=query.filters(),
            level=data.get("level", kpis.significance_level()),
        )
        return Response(MetricSeriesSerializer(series).data)


class KpiSerializer(serializers.Serializer):
    touchpoint = serializers.CharField(source="touchpoint.public_id")
    touchpoint_name = serializers.CharField(source="touchpoint.name")
    journey = serializers.CharField(source="touchpoint.journey.public_id")
    metric = serializers.CharField()
    kpi_kind = serializers.CharField()
    owner = serializers.EmailField(source="owner_email", allow_null=True)
    n = serializers.IntegerField()
    current = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    baseline = serializers.FloatField(allow_null=True)
    target = serializers.FloatField(allow_null=True)
    target_date = serializers.DateField(allow_null=True)
    status = serializers.CharField()
    trend = serializers.CharField()
    delta = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)


class KpiQuerySerializer(serializers.Serializer):
    journey = serializers.CharField(
        required=False, help_text="A journey's id (jny_...): only its touchpoints."
    )


class KpiListSerializer(serializers.Serializer):
    results = KpiSerializer(many=True)


@extend_schema(tags=["KPIs"])
class KpiListAPI(OrganizationAPIView):
    """Every planned metric of every touchpoint: current value, baseline, target and status."""

    policy = policies.METRICS

    @extend_schema(parameters=[KpiQuerySerializer], responses=KpiListSerializer)
    def get(self, request, org_slug: str):
        query = KpiQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = kpis.kpi_list(
            organization=self.organization, journey_public_id=query.validated_data.get("journey")
        )
        return Response({"results": KpiSerializer(rows, many=True).data})
