"""DRF views of response exports as jobs: `POST /exports/` starts one (202 with the job),
`GET /exports/<id>/` answers its progress and, once ready, the download URL, and
`GET /exports/<id>/download/` streams the file from the database.

The API always makes a job, whatever the number of rows, so a client has one way to follow: the
browser's export builds small files in the request instead. Jobs are the browser's `ExportJob`s,
built by the same task (`reports.tasks.run_export`) and listed on the same page.

API_ROUTES is registered under /api/v1/orgs/<org_slug>/ by cxplatform.api_urls.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core import idempotency
from core.exceptions import ConflictError
from core.scoping import no_rows
from reports import exports
from reports.filters import Preset
from reports.models import ExportFormat, ExportJob, ExportStatus
from surveys.enums import Channel
from tenancy import policies
from tenancy.api import OrganizationViewSet
from tenancy.enums import Language

# Exports need the export permission to start and to read: analysts, read keys and up.
EXPORT_POLICY = policies.Policy(read=policies.Permission.EXPORT, write=policies.Permission.EXPORT)


class ExportJobSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    filters = serializers.DictField(
        child=serializers.CharField(),
        help_text="The filters as the job applies them (a preset turned into its dates).",
    )
    contact_details = serializers.BooleanField(source="include_contact_details")
    total_rows = serializers.IntegerField(help_text="Responses in the export.")
    processed_rows = serializers.IntegerField(help_text="Rows written so far.")
    file_size = serializers.IntegerField(help_text="Bytes, once ready.")
    download_url = serializers.SerializerMethodField(
        help_text="Where to download the file once `status` is `ready`; null until then."
    )
    failure = serializers.CharField(help_text="Why a failed export stopped.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(help_text="The file is deleted after this time.")

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportStatus.READY:
            return None
        path = reverse(
            "export-download",
            kwargs={"org_slug": self.context["organization"].slug, "public_id": job.public_id},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ExportCreateSerializer(serializers.Serializer):
    """The browser export's choices: a format and the dashboards' filters (`from` is a Python
    keyword, so the date fields are added in get_fields)."""

    format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.CSV)
    range = serializers.ChoiceField(
        choices=[value for value, _label in Preset.CHOICES],
        required=False,
        help_text="A preset (7d, 30d, 90d, 12m, quarter, ytd) or custom with `from` and `to`; "
        "90d by default, in the organization's time zone. Dates alone mean custom.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    survey = serializers.CharField(required=False, help_text="A survey's id (srv_...).")
    segment = serializers.CharField(
        required=False, help_text="A contact segment's id (seg_...): its contacts' responses."
    )
    contact_details = serializers.BooleanField(
        default=False,
        help_text="Add the contact's email and phone (responses to personal invitations only).",
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, help_text="First day (custom).")
        fields["to"] = serializers.DateField(required=False, help_text="Last day (custom).")
        return fields

    def validate(self, attrs):
        params = {
            name: value.isoformat() if hasattr(value, "isoformat") else value
            for name, value in attrs.items()
            if name not in ("format", "contact_details")
        }
        form = exports.export_filter_form(params, organization=self.context["organization"])
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    ("non_field_errors" if name == "__all__" else name): [str(e) for e in errors]
                    for name, errors in form.errors.items()
                }
            )
        return {**attrs, "filters": form.report_filters()}


class ExportFileRenderer(BaseRenderer):
    """Lets a client ask for the file's own type (`Accept: text/csv`); the download view
    answers with a streamed file, and errors in the JSON error format."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


FILE_TYPES = {
    (200, content_type.split(";")[0]): OpenApiResponse(
        OpenApiTypes.BINARY, description=f"The {label} file."
    )
    for (fmt, content_type), label in zip(
        exports.CONTENT_TYPES.items(), ExportFormat.labels, strict=True
    )
}


@extend_schema(tags=["Exports"])
@extend_schema_view(
    list=extend_schema(description="Export jobs of the last 7 days, newest first."),
    retrieve=extend_schema(
        description="An export's progress. Poll until `status` is `ready` (then download from "
        "`download_url`) or `failed`."
    ),
    create=extend_schema(
        request=ExportCreateSerializer,
        responses={202: ExportJobSerializer},
        parameters=[idempotency.IDEMPOTENCY_PARAMETER],
        description="Start a response export with the dashboards' filters: 202 with the job, "
        "built in the background. CSV (UTF-8 with a byte-order mark), XLSX or JSON Lines; one "
        "row per response, one column per question key.",
    ),
)
class ExportJobViewSet(
    OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Response exports (CSV, XLSX or JSON Lines) built in the background."""

    policy = EXPORT_POLICY
    serializer_class = ExportJobSerializer

    def get_queryset(self):
        if self.schema_only:
            return no_rows(ExportJob)
        return exports.export_job_list(organization=self.organization)

    def get_object(self):
        return exports.access_export_job(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    @idempotency.idempotent
    def create(self, request, *args, **kwargs):
        incoming = ExportCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        job = exports.export_job_start(
            actor=self.actor,
            organization=self.organization,
            filters=incoming.validated_data["filters"],
            export_format=incoming.validated_data["format"],
            contact_details=incoming.validated_data["contact_details"],
        )
        body = self.get_serializer(job).data
        location = reverse(
            "export-detail", kwargs={"org_slug": self.organization.slug, "public_id": job.public_id}
        )
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})

    @extend_schema(
        responses={**FILE_TYPES, 409: OpenApiResponse(description="Not ready, or failed.")},
        description="The finished file, streamed. 409 `export_not_ready` while the job runs, "
        "409 `export_failed` when it failed.",
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, ExportFileRenderer])
    def download(self, request, *args, **kwargs):
        job = self.get_object()
        if job.status == ExportStatus.FAILED:
            raise ConflictError(_("The export failed: %s") % job.failure, code="export_failed")
        if job.status != ExportStatus.READY:
            raise ConflictError(_("The export is not ready yet."), code="export_not_ready")
        chunks = exports.export_job_download(
            actor=self.actor, organization=self.organization, job=job
        )
        response = StreamingHttpResponse(chunks, content_type=exports.CONTENT_TYPES[job.format])
        response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
        response["Content-Length"] = str(job.file_size)
        response["Cache-Control"] = "no-store"
        return response


API_ROUTES: list[tuple[str, type, str]] = [("exports", ExportJobViewSet, "export")]
