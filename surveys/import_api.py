"""DRF views of response imports: `POST /response-imports/` queues a CSV file (202 with the
import), `GET /response-imports/<id>/` answers its progress and the rows that failed.

ROUTES is registered under /api/v1/orgs/<org_slug>/ by cxplatform.api_urls.
"""

import hashlib

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response as APIResponse

from core import idempotency
from core.exceptions import ApplicationError
from core.scoping import no_rows
from surveys import importing
from surveys.models import ResponseImport, Survey
from tenancy import policies
from tenancy.api import OrganizationViewSet

ERRORS_IN_BODY = 1000


class ResponseImportSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    survey = serializers.CharField(source="survey.public_id")
    filename = serializers.CharField()
    status = serializers.CharField()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    created = serializers.IntegerField(source="created_count")
    duplicates = serializers.IntegerField(source="duplicate_count")
    failed = serializers.IntegerField(source="error_count")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ResponseImportDetailSerializer(ResponseImportSerializer):
    errors = serializers.SerializerMethodField(
        help_text=f"The first {ERRORS_IN_BODY} problems: row (as a spreadsheet numbers it), "
        "field and message."
    )

    def get_errors(self, job) -> list[dict]:
        rows = importing.response_import_errors(organization=job.organization, job=job)
        return [
            {"row": row, "field": column, "message": message}
            for row, column, message in rows.values_list("row_number", "column", "message")[
                :ERRORS_IN_BODY
            ]
        ]


@extend_schema(tags=["Response imports"])
@extend_schema_view(
    list=extend_schema(description="Response imports, newest first (the last 100)."),
    retrieve=extend_schema(
        description="An import's progress; when `status` is `done`, `errors` lists the rows "
        "that were not saved."
    ),
    create=extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "ResponseImportUpload",
                {"survey": serializers.CharField(), "file": serializers.FileField()},
            )
        },
        responses={202: ResponseImportSerializer},
        parameters=[idempotency.IDEMPOTENCY_PARAMETER],
        description=importing.__doc__,
    ),
)
class ResponseImportViewSet(
    OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """CSV files of historical responses, imported in the background."""

    policy = policies.RESPONSES
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = None

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ResponseImportDetailSerializer
        return ResponseImportSerializer

    def get_queryset(self):
        if self.schema_only:
            return no_rows(ResponseImport)
        return importing.response_import_list(organization=self.organization)[:100]

    def get_object(self):
        job = importing.access_response_import(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )
        job.organization = self.organization
        return job

    def create(self, request, *args, **kwargs):
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
        raw = upload.read(importing.MAX_BYTES + 1)

        def start() -> tuple[int, dict]:
            job = importing.response_import_start(
                actor=self.actor,
                organization=self.organization,
                survey=survey,
                filename=upload.name,
                raw=raw,
            )
            return status.HTTP_202_ACCEPTED, dict(ResponseImportSerializer(job).data)

        key = request.headers.get(idempotency.HEADER)
        if key is None:
            code, body = start()
            replayed = False
        else:
            # A file is not JSON: the request is known by its survey and the file's hash.
            sent = {"survey": survey.public_id, "file": hashlib.sha256(raw).hexdigest()}
            code, body, replayed = idempotency.run_once(
                organization=self.organization,
                key=key,
                fingerprint=idempotency.fingerprint(method="POST", path=request.path, body=sent),
                work=start,
            )
        location = reverse(
            "response-import-detail",
            kwargs={"org_slug": self.organization.slug, "public_id": body["id"]},
        )
        answer = idempotency.replayed_response(code, body) if replayed else APIResponse(body, code)
        answer["Location"] = location
        return answer


ROUTES: list[tuple[str, type, str]] = [
    ("response-imports", ResponseImportViewSet, "response-import")
]
