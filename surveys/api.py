"""DRF views of surveys, versions, questions and responses.

API_ROUTES is registered under /api/v1/orgs/<org_slug>/ by cxplatform.api_urls.
"""

from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
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
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response as APIResponse

from core.api import CursorPagination
from core.exceptions import ApplicationError
from journeys.models import Touchpoint
from surveys import importing, selectors, services
from surveys.enums import Channel, QuestionType
from surveys.models import Answer, Question, Response, Survey, SurveyVersion
from tenancy import policies
from tenancy.api import OrganizationViewSet

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="Send the same key again to get the first response back (200, not 201).",
)


def _touchpoint(organization, public_id: str | None):
    if not public_id:
        return None
    touchpoint = Touchpoint.objects.filter(organization=organization, public_id=public_id).first()
    if touchpoint is None:
        raise ApplicationError(
            "No such touchpoint.", code="invalid_touchpoint", extra={"field": "touchpoint"}
        )
    return touchpoint


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
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, survey: Survey) -> dict:
        data = super().to_representation(survey)
        data["touchpoint"] = survey.touchpoint.public_id if survey.touchpoint_id else None
        return data

    def get_link_url(self, survey: Survey) -> str:
        return f"/s/{survey.link_slug}/"

    @extend_schema_field(OpenApiTypes.STR)
    def get_current_version(self, survey: Survey) -> str | None:
        return survey.current_version.public_id if survey.current_version_id else None


class AnswerSerializer(serializers.Serializer):
    question = serializers.SerializerMethodField()
    key = serializers.SerializerMethodField()
    value = serializers.SerializerMethodField()

    def get_question(self, answer: Answer) -> str:
        return answer.question.public_id

    def get_key(self, answer: Answer) -> str:
        return answer.question.key

    @extend_schema_field(OpenApiTypes.ANY)
    def get_value(self, answer: Answer):
        question_type = answer.question.type
        if question_type == QuestionType.WOMI:
            return {"recommend": answer.value_int, "discourage": answer.value_int_2}
        if question_type == QuestionType.MULTIPLE_CHOICE:
            return answer.value_choices
        if question_type in (QuestionType.TEXT, QuestionType.SINGLE_CHOICE):
            return answer.value_text
        return answer.value_int


class ResponseSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    survey = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()
    touchpoint = serializers.SerializerMethodField()
    channel = serializers.CharField()
    language = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    hidden_fields = serializers.DictField()
    answers = AnswerSerializer(many=True)

    def get_survey(self, response: Response) -> str:
        return response.survey.public_id

    def get_version(self, response: Response) -> int:
        return response.version.number

    @extend_schema_field(OpenApiTypes.STR)
    def get_touchpoint(self, response: Response) -> str | None:
        return response.touchpoint.public_id if response.touchpoint_id else None


class AnswerInputSerializer(serializers.Serializer):
    question = serializers.CharField(help_text="A question id (q_...) or its key.")
    value = serializers.JSONField(
        allow_null=True,
        help_text='An integer for scales (yes/no: true/false, 1/0 or "yes"/"no"); '
        'WOMI {"recommend": n, "discourage": n}; a choice value; a list of choice values; text.',
    )


class ResponseCreateSerializer(serializers.Serializer):
    survey = serializers.CharField(help_text="A survey id (srv_...).")
    touchpoint = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    submitted_at = serializers.DateTimeField(required=False, allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    language = serializers.CharField(max_length=2)
    hidden_fields = serializers.DictField(required=False)
    answers = AnswerInputSerializer(many=True)


class ImportReportSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    failed = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())


# --- surveys ---


@extend_schema_view(
    create=extend_schema(description="A new draft survey, blank or from a `template`."),
)
class SurveyViewSet(
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
):
    """Surveys. Publishing makes the draft an immutable version respondents answer."""

    policy = policies.SURVEYS
    serializer_class = SurveySerializer

    def get_queryset(self):
        if self.schema_only:
            return Survey.all_objects.none()
        return selectors.survey_list(
            organization=self.organization, status=self.request.query_params.get("status")
        )

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


@extend_schema(parameters=[SURVEY_ID])
class VersionViewSet(
    SurveyChildMixin, OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    """A survey's versions, newest first, with their questions (read only)."""

    policy = policies.SURVEYS
    serializer_class = VersionSerializer
    pagination_class = None

    def get_queryset(self):
        if self.schema_only:
            return SurveyVersion.all_objects.none()
        return selectors.version_list(
            organization=self.organization, survey=self.survey()
        ).prefetch_related("questions")

    def get_object(self):
        found = self.get_queryset().filter(public_id=self.kwargs["public_id"]).first()
        if found is None:
            raise Http404
        return found


@extend_schema(parameters=[SURVEY_ID])
class QuestionViewSet(
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
            return Question.all_objects.none()
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


# --- responses ---


class ResponsePagination(CursorPagination):
    ordering = ("-submitted_at", "-id")


def _moment(value: str, field: str, organization, end_of_day: bool = False):
    parsed = parse_datetime(value)
    if parsed is None and (day := parse_date(value)) is not None:
        parsed = timezone.datetime.combine(day, timezone.datetime.min.time())
        if end_of_day:
            parsed += timezone.timedelta(days=1)
    if parsed is None:
        raise ApplicationError(
            "Use an ISO 8601 date or time.", code="invalid_filter", extra={"field": field}
        )
    return timezone.make_aware(parsed, organization.zone) if timezone.is_naive(parsed) else parsed


RESPONSE_FILTERS = [
    OpenApiParameter("survey", OpenApiTypes.STR, description="A survey id (srv_...)."),
    OpenApiParameter("touchpoint", OpenApiTypes.STR, description="A touchpoint id (tp_...)."),
    OpenApiParameter("channel", OpenApiTypes.STR, enum=Channel.values),
    OpenApiParameter(
        "submitted_after",
        OpenApiTypes.STR,
        description="ISO 8601 time or date (inclusive; dates in the organization's time zone).",
    ),
    OpenApiParameter(
        "submitted_before",
        OpenApiTypes.STR,
        description="ISO 8601 time (exclusive) or date (that whole day included).",
    ),
]


@extend_schema_view(
    list=extend_schema(parameters=RESPONSE_FILTERS),
    create=extend_schema(
        request=ResponseCreateSerializer,
        responses={201: ResponseSerializer, 200: ResponseSerializer},
        parameters=[IDEMPOTENCY],
        description="Feedback collected elsewhere (call centre, kiosk, integrations). "
        "Validated like a web answer; 400 `invalid_answers` gives messages per question key "
        "in `extra.fields`. A repeated `Idempotency-Key` returns the first response with 200.",
    ),
)
class ResponseViewSet(
    OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Responses with their answers, newest first, cursor-paginated."""

    policy = policies.RESPONSES
    serializer_class = ResponseSerializer
    pagination_class = ResponsePagination

    def get_serializer_class(self):
        if self.action == "create":
            return ResponseCreateSerializer
        return ResponseSerializer

    def get_queryset(self):
        if self.schema_only:
            return Response.all_objects.none()
        params = self.request.query_params
        survey = touchpoint = None
        if params.get("survey"):
            survey = Survey.objects.filter(public_id=params["survey"]).first()
            if survey is None:
                raise ApplicationError(
                    "No such survey.", code="invalid_filter", extra={"field": "survey"}
                )
        if params.get("touchpoint"):
            touchpoint = _touchpoint(self.organization, params["touchpoint"])
        return selectors.response_list(
            organization=self.organization,
            survey=survey,
            touchpoint=touchpoint,
            channel=params.get("channel") or None,
            submitted_after=_moment(params["submitted_after"], "submitted_after", self.organization)
            if params.get("submitted_after")
            else None,
            submitted_before=_moment(
                params["submitted_before"], "submitted_before", self.organization, end_of_day=True
            )
            if params.get("submitted_before")
            else None,
        )

    def get_object(self):
        return selectors.access_response(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def create(self, request, *args, **kwargs):
        serializer = ResponseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        survey = Survey.objects.filter(public_id=data["survey"]).first()
        if survey is None:
            raise ApplicationError(
                "No such survey.", code="invalid_survey", extra={"field": "survey"}
            )
        version = survey.current_version
        by_id = {q.public_id: q.key for q in version.questions.all()} if version is not None else {}
        answers = {}
        for item in data["answers"]:
            key = by_id.get(item["question"], item["question"])
            answers[key] = item["value"]
        response = services.response_submit(
            organization=self.organization,
            survey=survey,
            answers=answers,
            channel=data["channel"],
            language=data["language"],
            touchpoint=_touchpoint(self.organization, data.get("touchpoint")),
            hidden_fields=data.get("hidden_fields"),
            submitted_at=data.get("submitted_at"),
            # Namespaced so a client's key can never match a web submission's or an import's.
            idempotency_key=f"api:{key}"
            if (key := request.headers.get("Idempotency-Key"))
            else None,
        )
        body = ResponseSerializer(
            selectors.access_response(organization=self.organization, public_id=response.public_id)
        ).data
        return APIResponse(
            body, status=status.HTTP_200_OK if response.replayed else status.HTTP_201_CREATED
        )

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "ResponseImport",
                {"survey": serializers.CharField(), "file": serializers.FileField()},
            )
        },
        responses=ImportReportSerializer,
        description=importing.__doc__,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_csv(self, request, *args, **kwargs):
        """Historical responses from CSV: valid rows are saved, the others reported per row."""
        survey = Survey.objects.filter(public_id=request.data.get("survey", "")).first()
        if survey is None:
            raise ApplicationError(
                "No such survey.", code="invalid_survey", extra={"field": "survey"}
            )
        upload = request.FILES.get("file")
        if upload is None:
            raise ApplicationError(
                "Attach the CSV as `file`.", code="invalid", extra={"field": "file"}
            )
        report = importing.responses_import_csv(
            actor=self.actor, organization=self.organization, survey=survey, file=upload
        )
        return APIResponse(ImportReportSerializer(report).data)


API_ROUTES: list[tuple[str, type, str]] = [  # (url prefix, viewset, basename)
    ("surveys", SurveyViewSet, "survey"),
    (r"surveys/(?P<survey_id>[^/.]+)/versions", VersionViewSet, "survey-version"),
    (r"surveys/(?P<survey_id>[^/.]+)/questions", QuestionViewSet, "survey-question"),
    ("responses", ResponseViewSet, "response"),
]
