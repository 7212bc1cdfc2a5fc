"""DRF views of surveys, versions and questions (responses are in `surveys.response_api`).

API_ROUTES is registered under /api/v1/orgs/<org_slug>/ by cxplatform.api_urls.
"""

import django_filters
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response as APIResponse

from core.exceptions import ApplicationError
from core.idempotency import IdempotentCreateMixin, idempotent
from core.schema import NULLABLE_STR
from core.scoping import no_rows
from surveys import selectors, services
from surveys.enums import QuestionType, SurveyStatus
from surveys.models import Question, Survey, SurveyVersion
from surveys.response_api import ROUTES as RESPONSE_ROUTES
from surveys.response_api import AnswerSerializer  # noqa: F401 (distribution.services reads answers alike)
from surveys.response_api import touchpoint_from_id as _touchpoint
from tenancy import policies
from tenancy.api import OrganizationViewSet

# --- serializers ---


class QuestionSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    key = serializers.CharField(max_length=50, required=False, allow_blank=True)
    position = serializers.IntegerField(read_only=True)
    type = serializers.ChoiceField(choices=QuestionType.choices)
    texts = serializers.DictField(child=serializers.CharField(allow_blank=True))
    texts_secondary = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="WOMI only: the discourage question per language.",
    )
    scale_min = serializers.IntegerField(required=False, allow_null=True)
    scale_max = serializers.IntegerField(required=False, allow_null=True)
    labels = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True)),
        required=False,
        help_text='Scale end labels: {"fi": {"min": "...", "max": "..."}}.',
    )
    choices = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text='[{"value": "price", "texts": {"fi": "Hinta"}}]',
    )
    required = serializers.BooleanField(required=False)
    condition = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='{"question": "<earlier key>", "op": "lte|gte|eq|in", "value": ...} or null.',
    )
    metric = serializers.CharField(read_only=True)


class VersionSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    number = serializers.IntegerField()
    status = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    languages = serializers.ListField(child=serializers.CharField())
    intro = serializers.DictField()
    thank_you = serializers.DictField()
    questions = QuestionSerializer(many=True)


class SurveySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=200)
    touchpoint = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="A touchpoint id (tp_...)."
    )
    status = serializers.CharField(read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), required=False)
    default_language = serializers.CharField(required=False)
    template = serializers.CharField(
        write_only=True,
        required=False,
        help_text="Create from a ready-made template: nps, csat_service, ces_support, womi, "
        "content_feedback.",
    )
    link_url = serializers.SerializerMethodField()
    current_version = serializers.SerializerMethodField()
    response_count = serializers.IntegerField(
        read_only=True, help_text="Responses saved (a counter: reading it counts nothing)."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, survey: Survey) -> dict:
        data = super().to_representation(survey)
        data["touchpoint"] = survey.touchpoint.public_id if survey.touchpoint_id else None
        return data

    def get_link_url(self, survey: Survey) -> str:
        return f"/s/{survey.link_slug}/"

    @extend_schema_field(NULLABLE_STR)
    def get_current_version(self, survey: Survey) -> str | None:
        return survey.current_version.public_id if survey.current_version_id else None


# --- surveys ---


class SurveyFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SurveyStatus.choices)

    class Meta:
        model = Survey
        fields = ["status"]


@extend_schema(tags=["Surveys"])
@extend_schema_view(
    create=extend_schema(description="A new draft survey, blank or from a `template`."),
)
class SurveyViewSet(
    IdempotentCreateMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
):
    """Surveys. Publishing makes the draft an immutable version respondents answer."""

    policy = policies.SURVEYS
    serializer_class = SurveySerializer
    filterset_class = SurveyFilterSet

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Survey)
        return selectors.survey_list(organization=self.organization)

    def get_object(self):
        return selectors.access_survey(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        touchpoint = _touchpoint(self.organization, data.pop("touchpoint", None))
        if data.get("template"):
            serializer.instance = services.survey_create_from_template(
                actor=self.actor,
                organization=self.organization,
                template_key=data["template"],
                name=data["name"],
                touchpoint=touchpoint,
            )
            return
        serializer.instance = services.survey_create(
            actor=self.actor,
            organization=self.organization,
            name=data["name"],
            touchpoint=touchpoint,
            languages=data.get("languages"),
            default_language=data.get("default_language"),
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("template", None)
        if "touchpoint" in data:
            data["touchpoint"] = _touchpoint(self.organization, data["touchpoint"])
        serializer.instance = services.survey_update(
            actor=self.actor, survey=serializer.instance, **data
        )

    def _status_change(self, service) -> APIResponse:
        survey = self.get_object()
        service(actor=self.actor, survey=survey)
        survey = self.get_object()
        return APIResponse(SurveySerializer(survey, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=VersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, *args, **kwargs):
        """Publish the draft; 400 `survey_invalid` lists the problems in `extra.problems`."""
        version = services.survey_publish(actor=self.actor, survey=self.get_object())
        return APIResponse(VersionSerializer(version).data)

    @extend_schema(request=None, responses=SurveySerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        return self._status_change(services.survey_close)

    @extend_schema(request=None, responses=SurveySerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, *args, **kwargs):
        return self._status_change(services.survey_reopen)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def export(self, request, *args, **kwargs):
        """The latest version as portable JSON (format `cxplatform.survey`, version 1)."""
        return APIResponse(services.survey_export(self.get_object()))

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: SurveySerializer})
    @idempotent
    @action(detail=False, methods=["post"], url_path="import")
    def import_definition(self, request, *args, **kwargs):
        """A new draft survey from an exported file; 400 `invalid_survey_file` lists errors."""
        survey = services.survey_import(
            actor=self.actor, organization=self.organization, data=request.data
        )
        return APIResponse(
            SurveySerializer(survey, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


SURVEY_ID = OpenApiParameter(
    "survey_id", OpenApiTypes.STR, location=OpenApiParameter.PATH, description="srv_..."
)


class SurveyChildMixin:
    def survey(self) -> Survey:
        if not hasattr(self, "_survey"):
            self._survey = selectors.access_survey(
                organization=self.organization, public_id=self.kwargs["survey_id"]
            )
        return self._survey


@extend_schema(parameters=[SURVEY_ID], tags=["Survey versions"])
class VersionViewSet(
    SurveyChildMixin, OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    """A survey's versions, newest first, with their questions (read only)."""

    policy = policies.SURVEYS
    serializer_class = VersionSerializer
    pagination_class = None

    def get_queryset(self):
        if self.schema_only:
            return no_rows(SurveyVersion)
        return selectors.version_list(
            organization=self.organization, survey=self.survey()
        ).prefetch_related("questions")

    def get_object(self):
        found = self.get_queryset().filter(public_id=self.kwargs["public_id"]).first()
        if found is None:
            raise Http404
        return found


@extend_schema(parameters=[SURVEY_ID], tags=["Survey questions"])
class QuestionViewSet(
    IdempotentCreateMixin,
    SurveyChildMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Questions of the survey's working version (the draft, else the current version).

    Writes always land on the draft: changing a question of a published version changes its
    twin on the next version's draft (made when missing) and returns that.
    """

    policy = policies.SURVEYS
    serializer_class = QuestionSerializer
    pagination_class = None

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Question)
        version = selectors.working_version(self.survey())
        if version is None:
            return Question.objects.none()
        return selectors.question_list(organization=self.organization, version=version)

    def get_object(self):
        question = selectors.access_question(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )
        if question.version.survey_id != self.survey().pk:
            raise Http404
        return question

    def perform_create(self, serializer):
        serializer.instance = services.question_add(
            actor=self.actor, survey=self.survey(), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.question_update(
            actor=self.actor, question=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.question_remove(actor=self.actor, question=instance)

    @extend_schema(
        request=inline_serializer("QuestionMove", {"position": serializers.IntegerField()}),
        responses=QuestionSerializer,
    )
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        position = request.data.get("position")
        if not isinstance(position, int) or isinstance(position, bool):
            raise ApplicationError(
                "Give the new position as a whole number.",
                code="invalid",
                extra={"field": "position"},
            )
        question = services.question_move(
            actor=self.actor, question=self.get_object(), position=position
        )
        return APIResponse(QuestionSerializer(question).data)


API_ROUTES: list[tuple[str, type, str]] = [  # (url prefix, viewset, basename)
    ("surveys", SurveyViewSet, "survey"),
    (r"surveys/(?P<survey_id>[^/.]+)/versions", VersionViewSet, "survey-version"),
    (r"surveys/(?P<survey_id>[^/.]+)/questions", QuestionViewSet, "survey-question"),
    *RESPONSE_ROUTES,
]
