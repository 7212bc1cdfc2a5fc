"""DRF views of responses: list, detail, submit one, submit up to 1,000 at once.

Submitting is the hot path of integrations (kiosks, call centres, CRM pushes), so it does no
more than it must: the organization, the key and the survey with its current version and
touchpoint are read (the version's questions are cached per process), the response, its
answers, the survey's counter and the Idempotency-Key row are written in one statement
(`surveys.services.responses_save`), and the 201 body is built from what was written.
The request body is checked by hand against the serializers below, which document it: DRF's
serializers cost more per response than saving it.
"""

import django_filters
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response as APIResponse

from core.api import CursorPagination, flatten_errors
from core.exceptions import ApplicationError
from core.filters import MomentFilter, OrganizationFilterSet, public_id_filter
from core.idempotency import (
    HEADER,
    IdempotencyClaim,
    KeyReusedError,
    idempotent,
    replayed_response,
    request_fingerprint,
    stored_answer,
)
from core.scoping import no_rows
from journeys.models import Touchpoint
from surveys import selectors, services
from surveys.enums import Channel, QuestionType
from surveys.models import Answer, Response, Survey
from surveys.services.responses import (
    CHANNELS,
    MAX_IDEMPOTENCY_KEY,
    PreparedResponse,
    version_definition,
)
from tenancy import policies
from tenancy.api import OrganizationViewSet

MAX_BULK = 1000
# Keys of API submissions are stored namespaced, so a client's key never matches a web
# submission's (`web:`) or an import row's (`import:`).
KEY_PREFIX = "api:"
MAX_KEY = MAX_IDEMPOTENCY_KEY - len(KEY_PREFIX)

IDEMPOTENCY = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description=f"1 to {MAX_KEY} characters. The same key again returns the first response "
    "with 200 (not 201); the same key with another body answers 422 `idempotency_key_reused`.",
)


def touchpoint_from_id(organization, public_id: str | None):
    """The organization's touchpoint with this public id; a 400 field error when there is none."""
    if not public_id:
        return None
    touchpoint = Touchpoint.objects.filter(organization=organization, public_id=public_id).first()
    if touchpoint is None:
        raise ApplicationError(
            "No such touchpoint.", code="invalid_touchpoint", extra={"field": "touchpoint"}
        )
    return touchpoint


# --- what a response looks like ---


def _answer_value(question_type: str, stored):
    """The JSON value of a stored answer (an Answer row or the cleaned values about to be one)."""
    if question_type == QuestionType.WOMI:
        return {"recommend": stored.value_int, "discourage": stored.value_int_2}
    if question_type == QuestionType.MULTIPLE_CHOICE:
        return stored.value_choices
    if question_type in (QuestionType.TEXT, QuestionType.SINGLE_CHOICE):
        return stored.value_text
    return stored.value_int


_DATETIME = serializers.DateTimeField()


def _response_json(
    *,
    public_id,
    survey,
    version,
    touchpoint,
    channel,
    language,
    submitted_at,
    hidden_fields,
    answers,
) -> dict:
    """The one shape of a response (documented by ResponseSerializer); `answers` are
    (question, stored values) pairs in question order."""
    return {
        "id": public_id,
        "survey": survey.public_id,
        "version": version.number,
        "touchpoint": touchpoint.public_id if touchpoint is not None else None,
        "channel": channel,
        "language": language,
        "submitted_at": _DATETIME.to_representation(submitted_at),
        "hidden_fields": hidden_fields,
        "answers": [
            {
                "question": question.public_id,
                "key": question.key,
                "value": _answer_value(question.type, stored),
            }
            for question, stored in answers
        ],
    }


def _prepared_json(prepared: PreparedResponse) -> dict:
    by_key = prepared.definition.by_key
    return _response_json(
        public_id=prepared.public_id,
        survey=prepared.survey,
        version=prepared.definition.version,
        touchpoint=prepared.touchpoint,
        channel=prepared.channel,
        language=prepared.language,
        submitted_at=prepared.submitted_at,
        hidden_fields=prepared.hidden_fields,
        answers=[(by_key[key], cleaned) for key, cleaned in prepared.answers.items()],
    )


class AnswerSerializer(serializers.Serializer):
    """One stored answer (an Answer row with its question)."""

    question = serializers.SerializerMethodField(help_text="The question's id (q_...).")
    key = serializers.SerializerMethodField()
    value = serializers.SerializerMethodField(
        help_text='An integer; WOMI {"recommend": n, "discourage": n}; yes/no 1 or 0; a choice '
        "value; a list of choice values; text."
    )

    def get_question(self, answer: Answer) -> str:
        return answer.question.public_id

    def get_key(self, answer: Answer) -> str:
        return answer.question.key

    @extend_schema_field(OpenApiTypes.ANY)
    def get_value(self, answer: Answer):
        return _answer_value(answer.question.type, answer)


class ResponseSerializer(serializers.Serializer):
    id = serializers.CharField()
    survey = serializers.CharField(help_text="srv_...")
    version = serializers.IntegerField(help_text="The number of the version answered.")
    touchpoint = serializers.CharField(allow_null=True, help_text="tp_...")
    channel = serializers.CharField()
    language = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    hidden_fields = serializers.DictField()
    answers = AnswerSerializer(many=True)

    def to_representation(self, response: Response) -> dict:
        return _response_json(
            public_id=response.public_id,
            survey=response.survey,
            version=response.version,
            touchpoint=response.touchpoint if response.touchpoint_id else None,
            channel=response.channel,
            language=response.language,
            submitted_at=response.submitted_at,
            hidden_fields=response.hidden_fields,
            answers=[(answer.question, answer) for answer in response.answers.all()],
        )


class AnswerInputSerializer(serializers.Serializer):
    question = serializers.CharField(help_text="A question id (q_...) or its key.")
    value = serializers.JSONField(
        allow_null=True,
        help_text='A JSON integer for scales (text such as "9" is refused); yes/no: '
        'true/false, 1/0 or "yes"/"no"; WOMI {"recommend": n, "discourage": n}; a choice value; '
        "a list of choice values; text.",
    )


class ResponseCreateSerializer(serializers.Serializer):
    survey = serializers.CharField(help_text="A survey id (srv_...).")
    touchpoint = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="tp_...; default the survey's."
    )
    submitted_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="ISO 8601; default now."
    )
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    language = serializers.CharField(max_length=2)
    hidden_fields = serializers.DictField(required=False)
    answers = AnswerInputSerializer(many=True)


class BulkResponseSerializer(ResponseCreateSerializer):
    idempotency_key = serializers.CharField(
        required=False,
        max_length=MAX_KEY,
        help_text="This response's own key: sent again (in any batch, or as the "
        "Idempotency-Key of a single submit) it is reported as a duplicate, not saved twice.",
    )


class BulkRequestSerializer(serializers.Serializer):
    responses = BulkResponseSerializer(many=True, max_length=MAX_BULK)


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in `responses`.")
    status = serializers.ChoiceField(choices=["created", "duplicate", "invalid"])
    id = serializers.CharField(
        required=False, help_text="The response saved now (created) or before (duplicate)."
    )
    idempotency_key = serializers.CharField(required=False)
    code = serializers.CharField(required=False, help_text="Why the item was refused.")
    message = serializers.CharField(required=False)
    errors = serializers.DictField(required=False, help_text="Messages per field or question key.")


class BulkReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    invalid = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


# --- reading a submitted response ---


def _text(raw: dict, name: str, errors: dict, *, required: bool = False) -> str | None:
    value = raw.get(name)
    if value in (None, ""):
        if required:
            errors[name] = [_("This field is required.")]
        return None
    if not isinstance(value, str):
        errors[name] = [_("Not a valid string.")]
        return None
    return value


def _moment_of(value: str, organization):
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but impossible, such as 2026-02-30
        parsed = None
    if parsed is None:
        return None
    return timezone.make_aware(parsed, organization.zone) if timezone.is_naive(parsed) else parsed


def _read(raw, organization, *, with_key: bool = False) -> dict:
    """The fields of one submitted response (see ResponseCreateSerializer), or ValidationError."""
    if not isinstance(raw, dict):
        raise ValidationError({"non_field_errors": [_("Send each response as an object.")]})
    errors: dict[str, list[str]] = {}
    fields = {
        "survey": _text(raw, "survey", errors, required=True),
        "touchpoint": _text(raw, "touchpoint", errors),
        "language": _text(raw, "language", errors, required=True),
        "channel": raw.get("channel") or Channel.API,
        "hidden_fields": raw.get("hidden_fields"),
        "submitted_at": None,
        "idempotency_key": _text(raw, "idempotency_key", errors) if with_key else None,
    }
    if not isinstance(fields["channel"], str) or fields["channel"] not in CHANNELS:
        errors["channel"] = [_("Unknown channel.")]
    if raw.get("submitted_at") not in (None, ""):
        fields["submitted_at"] = _moment_of(raw["submitted_at"], organization)
        if fields["submitted_at"] is None:
            errors["submitted_at"] = [_("Use ISO 8601, e.g. 2025-03-31T14:05:00+03:00.")]
    if fields["idempotency_key"] is not None and len(fields["idempotency_key"]) > MAX_KEY:
        errors["idempotency_key"] = [_("Use 1 to %(n)s characters.") % {"n": MAX_KEY}]
    answers = raw.get("answers")
    if not isinstance(answers, list) or not all(
        isinstance(item, dict) and isinstance(item.get("question"), str) and "value" in item
        for item in answers
    ):
        errors["answers"] = [_('Give a list of {"question": "<id or key>", "value": ...}.')]
    if errors:
        raise ValidationError(errors)
    fields["answers"] = [(item["question"], item["value"]) for item in answers]
    return fields


def _prepare(fields: dict, organization, surveys: dict, touchpoints: dict) -> PreparedResponse:
    survey = surveys.get(fields["survey"])
    if survey is None:
        raise ApplicationError(
            _("No such survey."), code="invalid_survey", extra={"field": "survey"}
        )
    touchpoint = None
    if fields["touchpoint"]:
        touchpoint = touchpoints.get(fields["touchpoint"])
        if touchpoint is None:
            raise ApplicationError(
                _("No such touchpoint."), code="invalid_touchpoint", extra={"field": "touchpoint"}
            )
    keys = {}
    if survey.current_version_id is not None:
        keys = version_definition(survey.current_version).keys_by_public_id
    key = fields["idempotency_key"]
    return services.response_prepare(
        organization=organization,
        survey=survey,
        answers={keys.get(question, question): value for question, value in fields["answers"]},
        channel=fields["channel"],
        language=fields["language"],
        touchpoint=touchpoint,
        hidden_fields=fields["hidden_fields"],
        submitted_at=fields["submitted_at"],
        idempotency_key=KEY_PREFIX + key if key else None,
        json_answers=True,
    )


def _refusal(error: Exception) -> dict:
    """An item's refusal in a bulk report: code, message and messages per field."""
    if isinstance(error, ValidationError):
        return {
            "code": "invalid",
            "message": _("The response has invalid fields."),
            "errors": flatten_errors(error.detail),
        }
    fields = error.extra.get("fields")
    if fields is None:
        field = error.extra.get("field")
        fields = {field: [error.message]} if field else {}
    return {"code": error.code, "message": error.message, "errors": fields}


# --- the views ---


class ResponsePagination(CursorPagination):
    ordering = ("-submitted_at", "-id")


class ResponseFilterSet(OrganizationFilterSet):
    survey = public_id_filter(Survey, "A survey's id (srv_...).")
    touchpoint = public_id_filter(Touchpoint, "A touchpoint's id (tp_...).")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    submitted_after = MomentFilter(
        field_name="submitted_at",
        label="ISO 8601 time or date (inclusive; dates in the organization's time zone).",
    )
    submitted_before = MomentFilter(
        field_name="submitted_at",
        before=True,
        label="ISO 8601 time (exclusive) or date (that whole day included).",
    )

    class Meta:
        model = Response
        fields = ["survey", "touchpoint", "channel", "submitted_after", "submitted_before"]


@extend_schema(tags=["Responses"])
@extend_schema_view(
    create=extend_schema(
        request=ResponseCreateSerializer,
        responses={201: ResponseSerializer, 200: ResponseSerializer},
        parameters=[IDEMPOTENCY],
        description="Feedback collected elsewhere (call centre, kiosk, integrations). "
        "Validated like a web answer, except that a scale must be answered with a JSON "
        "integer; 400 `invalid_answers` gives messages per question key in `extra.fields`. "
        "A repeated `Idempotency-Key` returns the first response with 200.",
    ),
)
class ResponseViewSet(
    OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Responses with their answers, newest first, cursor-paginated."""

    policy = policies.RESPONSES
    serializer_class = ResponseSerializer
    pagination_class = ResponsePagination
    filterset_class = ResponseFilterSet

    def get_serializer_class(self):
        if self.action == "create":
            return ResponseCreateSerializer
        return ResponseSerializer

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Response)
        return selectors.response_list(organization=self.organization)

    def get_object(self):
        return selectors.access_response(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def create(self, request, *args, **kwargs):
        organization = self.organization
        key = request.headers.get(HEADER)
        digest = None
        if key is not None:
            if not 0 < len(key) <= MAX_KEY:
                raise ValidationError(
                    {"idempotency_key": [_("Use 1 to %(n)s characters.") % {"n": MAX_KEY}]}
                )
            digest = request_fingerprint(request)
        try:
            fields = _read(request.data, organization)
            fields["idempotency_key"] = key
            surveys = selectors.surveys_for_answering(
                organization=organization, public_ids=[fields["survey"]]
            )
            touchpoints = {}
            if fields["touchpoint"]:
                found = touchpoint_from_id(organization, fields["touchpoint"])
                touchpoints = {found.public_id: found}
            prepared = _prepare(fields, organization, surveys, touchpoints)
        except (ApplicationError, ValidationError):
            # A retry of a saved response is answered as one even when it would be refused
            # now (say the survey was closed meanwhile); another body under the key is a 422.
            if key is not None and (
                stored := stored_answer(organization=organization, key=key, fingerprint=digest)
            ):
                return replayed_response(status.HTTP_200_OK, stored[1])
            raise
        body = _prepared_json(prepared)
        claim = None
        if key is not None:
            claim = IdempotencyClaim(
                key=key, fingerprint=digest, status=status.HTTP_201_CREATED, body=body
            )
        (saved,) = services.responses_save(
            organization=organization, prepared=[prepared], claim=claim
        )
        if saved is not None:
            return APIResponse(body, status=status.HTTP_201_CREATED)
        return self._replay(key, digest)

    def _replay(self, key: str, digest: str) -> APIResponse:
        stored = stored_answer(organization=self.organization, key=key, fingerprint=digest)
        if stored is not None:
            return replayed_response(status.HTTP_200_OK, stored[1])
        # The stored answer was forgotten (after 24 hours) or the key came in a bulk item:
        # the response itself stays unique per key.
        existing = (
            selectors.response_list(organization=self.organization)
            .filter(idempotency_key=KEY_PREFIX + key)
            .first()
        )
        if existing is None:
            raise KeyReusedError()  # the key was stored for another endpoint's request
        return replayed_response(status.HTTP_200_OK, ResponseSerializer(existing).data)

    @extend_schema(
        request=BulkRequestSerializer,
        responses={200: BulkReportSerializer, 207: BulkReportSerializer},
        description=f"Up to {MAX_BULK:,} responses (kiosks, CRM pushes), each validated on its "
        "own like a single submit: the valid ones are saved together, the others reported. "
        "`results` has one entry per item, in order: `created` with the new id, `duplicate` "
        "with the id saved before under the item's `idempotency_key`, or `invalid` with its "
        "code and messages per field in `errors` (a survey of another organization is "
        "`No such survey.`, as an unknown one). 200 when no item was invalid, else 207. More "
        f"than {MAX_BULK:,} items is 400 `too_many_responses`.",
    )
    @idempotent
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request, *args, **kwargs):
        organization = self.organization
        items = request.data.get("responses") if isinstance(request.data, dict) else None
        if not isinstance(items, list) or not items:
            raise ApplicationError(
                _("Give the responses as a list in `responses`."),
                code="invalid",
                extra={"field": "responses"},
            )
        if len(items) > MAX_BULK:
            raise ApplicationError(
                _("Send at most %(n)s responses per request.") % {"n": f"{MAX_BULK:,}"},
                code="too_many_responses",
                extra={"field": "responses", "max": MAX_BULK},
            )
        read: list[dict | Exception] = []
        for raw in items:
            try:
                read.append(_read(raw, organization, with_key=True))
            except ValidationError as invalid:
                read.append(invalid)
        wanted = [fields for fields in read if isinstance(fields, dict)]
        surveys = selectors.surveys_for_answering(
            organization=organization, public_ids={fields["survey"] for fields in wanted}
        )
        touchpoint_ids = {fields["touchpoint"] for fields in wanted if fields["touchpoint"]}
        touchpoints = {}
        if touchpoint_ids:
            found = Touchpoint.objects.filter(
                organization=organization, public_id__in=touchpoint_ids
            )
            touchpoints = {touchpoint.public_id: touchpoint for touchpoint in found}
        results: list[dict] = []
        prepared: list[tuple[dict, PreparedResponse]] = []
        for index, fields in enumerate(read):
            result = {"index": index}
            results.append(result)
            try:
                if isinstance(fields, Exception):
                    raise fields
                if fields["idempotency_key"]:
                    result["idempotency_key"] = fields["idempotency_key"]
                prepared.append((result, _prepare(fields, organization, surveys, touchpoints)))
            except (ApplicationError, ValidationError) as refused:
                result.update(status="invalid", **_refusal(refused))
        saved = services.responses_save(
            organization=organization, prepared=[item for _, item in prepared]
        )
        skipped = [
            item.idempotency_key
            for (_, item), pk in zip(prepared, saved, strict=True)
            if pk is None
        ]
        earlier = {}
        if skipped:
            earlier = selectors.response_ids_by_idempotency_key(
                organization=organization, keys=[key for key in skipped if key]
            )
        for (result, item), pk in zip(prepared, saved, strict=True):
            if pk is not None:
                result.update(status="created", id=item.public_id)
            elif item.idempotency_key in earlier:
                result.update(status="duplicate", id=earlier[item.idempotency_key])
            else:  # only a random id colliding with another could get here
                result.update(
                    status="invalid", code="retry", message=_("Not saved; send it again.")
                )
        counts = {state: 0 for state in ("created", "duplicate", "invalid")}
        for result in results:
            counts[result["status"]] += 1
        report = {
            "created": counts["created"],
            "duplicates": counts["duplicate"],
            "invalid": counts["invalid"],
            "results": results,
        }
        return APIResponse(
            report, status=status.HTTP_207_MULTI_STATUS if counts["invalid"] else status.HTTP_200_OK
        )


ROUTES: list[tuple[str, type, str]] = [("responses", ResponseViewSet, "response")]
