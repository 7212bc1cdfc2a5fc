"""DRF views of the sending settings (a singleton) and the surveys' invitation email texts."""

import django_filters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.response import Response

from core.filters import public_id_filter
from core.idempotency import IdempotentCreateMixin
from core.scoping import no_rows
from distribution.models import SurveyEmailTemplate
from distribution.services import configuration
from surveys.models import Survey
from tenancy import policies
from tenancy.api import OrganizationViewSet


def _days(name: str, help_text: str) -> serializers.IntegerField:
    low, high = configuration.DAY_BOUNDS[name]
    return serializers.IntegerField(min_value=low, max_value=high, help_text=help_text)


class DistributionSettingsSerializer(serializers.Serializer):
    survey_throttle_days = _days(
        "survey_throttle_days",
        "A contact sent this survey within this many days is skipped (0: off).",
    )
    quarantine_days = _days(
        "quarantine_days", "A contact sent any survey within this many days is skipped (0: off)."
    )
    link_expiry_days = _days(
        "link_expiry_days", "Days a new invitation's personal link takes answers."
    )
    sms_sender = serializers.CharField(
        max_length=20,
        allow_blank=True,
        help_text="E.164 number (+358401234567) or a sender name of 1-11 letters and digits with "
        "at least one letter; replies reach only a number. Blank: the service's default sender.",
    )
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Null while the defaults were never changed."
    )


class _SingletonSchema(AutoSchema):
    """`list` here answers one object: no array and no pagination in the schema."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


@extend_schema(tags=["Distribution settings"])
class DistributionSettingsViewSet(OrganizationViewSet):
    """The organization's sending settings: contact-frequency rules, link expiry, SMS sender."""

    policy = policies.CONTACTS
    serializer_class = DistributionSettingsSerializer
    schema = _SingletonSchema()
    pagination_class = None

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        # The router maps only GET and POST on a collection URL; this singleton is read and
        # changed at that one URL, so PATCH is added there (and no detail URL exists).
        if actions and actions.get("get") == "list":
            actions = {**actions, "patch": "change"}
        return super().as_view(actions, **initkwargs)

    @extend_schema(summary="Read the sending settings")
    def list(self, request, *args, **kwargs):
        current = configuration.distribution_settings_get(organization=self.organization)
        return Response(self.get_serializer(current).data)

    @extend_schema(
        summary="Change the sending settings",
        request=DistributionSettingsSerializer(partial=True),
        description="Send only the fields to change. The next invitation queued (frequency "
        "rules, link expiry) or SMS sent (sender) uses them. 400 with `extra.fields` for "
        "invalid values; 403 for read-only keys and roles.",
    )
    def change(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        updated = configuration.distribution_settings_update(
            actor=self.actor, organization=self.organization, **incoming.validated_data
        )
        return Response(self.get_serializer(updated).data)


class EmailTemplateSerializer(serializers.Serializer):
    """A survey's own invitation subject and introduction in one language."""

    id = serializers.CharField(source="public_id", read_only=True)
    survey = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Survey.objects.none(), help_text="srv_..."
    )
    language = serializers.CharField(max_length=2, help_text="fi, sv or en.")
    subject = serializers.CharField(max_length=configuration.SUBJECT_MAX)
    intro = serializers.CharField(
        max_length=configuration.INTRO_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="Blank: the default introduction of the language.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            self.fields["survey"].queryset = Survey.objects.filter(organization=organization)


class EmailTemplateTextsSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=configuration.SUBJECT_MAX)
    intro = serializers.CharField(
        max_length=configuration.INTRO_MAX, required=False, allow_blank=True, default=""
    )


class EmailTemplateFilterSet(django_filters.FilterSet):
    survey = public_id_filter(Survey, "A survey's id (srv_...).")

    class Meta:
        model = SurveyEmailTemplate
        fields = ["survey"]


@extend_schema(tags=["Email templates"])
@extend_schema_view(
    list=extend_schema(
        description="Texts that replace the defaults; a language without one uses the default "
        "subject and introduction.",
    ),
    create=extend_schema(
        description="One per survey and language: 400 `email_template_exists` when the "
        "language already has texts (change them with PUT)."
    ),
    update=extend_schema(request=EmailTemplateTextsSerializer),
    destroy=extend_schema(description="The language goes back to the default texts."),
)
class EmailTemplateViewSet(
    IdempotentCreateMixin,
    OrganizationViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    """Surveys' invitation email texts (subject and introduction per language)."""

    policy = policies.CONTACTS
    serializer_class = EmailTemplateSerializer
    filterset_class = EmailTemplateFilterSet

    def get_queryset(self):
        if self.schema_only:
            return no_rows(SurveyEmailTemplate)
        return configuration.survey_email_template_list(organization=self.organization)

    def get_object(self):
        return configuration.access_survey_email_template(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def perform_create(self, serializer):
        serializer.instance = configuration.survey_email_template_create(
            actor=self.actor, organization=self.organization, **serializer.validated_data
        )

    def update(self, request, *args, **kwargs):
        template = self.get_object()
        incoming = EmailTemplateTextsSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        saved = configuration.survey_email_template_save(
            actor=self.actor,
            organization=self.organization,
            survey=template.survey,
            language=template.language,
            **incoming.validated_data,
        )
        return Response(self.get_serializer(saved).data)

    def perform_destroy(self, instance):
        configuration.survey_email_template_delete(
            actor=self.actor, organization=self.organization, template=instance
        )


ROUTES: list[tuple[str, type, str]] = [
    ("distribution-settings", DistributionSettingsViewSet, "distribution-settings"),
    ("email-templates", EmailTemplateViewSet, "email-template"),
]
