"""Follow-up cases: the inbox, the case with its timeline, and the actions that work it."""

from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts import selectors
from alerts.api.common import MemberField, NewestFirst, TenantRelatedField, public_id
from alerts.enums import CaseEventKind, CaseStatus, ContactMethod, ContactOutcome, Priority
from alerts.models import Case, CaseEvent, ImprovementItem, RootCause
from alerts.services import cases as case_services
from core.idempotency import idempotent
from core.schema import NULLABLE_STR
from core.scoping import no_rows
from distribution.models import Contact
from journeys.models import Touchpoint
from surveys.models import Response as SurveyResponse
from tenancy import policies
from tenancy.api import OrganizationViewSet

CASES_TAG = "Cases"


class CaseEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CaseEventKind.choices, read_only=True)
    actor = serializers.SerializerMethodField()
    actor_label = serializers.CharField(
        read_only=True, help_text='Who acted: an email, an API key or "system".'
    )
    text = serializers.CharField(read_only=True)
    data = serializers.JSONField(
        read_only=True, help_text="Details of the event (old and new status, contact method...)."
    )
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(NULLABLE_STR)
    def get_actor(self, event: CaseEvent) -> str | None:
        return public_id(event.actor)


class CaseSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    number = serializers.IntegerField(read_only=True, help_text="Counts up per organization.")
    title = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=CaseStatus.choices, read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    assignee = serializers.SerializerMethodField()
    assignee_email = serializers.SerializerMethodField()
    touchpoint = serializers.SerializerMethodField()
    contact = serializers.SerializerMethodField()
    response = serializers.SerializerMethodField()
    alert = serializers.SerializerMethodField()
    improvement = serializers.SerializerMethodField()
    root_cause = serializers.SerializerMethodField()
    controllable = serializers.BooleanField(read_only=True, allow_null=True)
    action_taken = serializers.CharField(read_only=True)
    first_contact_due = serializers.DateTimeField(read_only=True, allow_null=True)
    resolution_due = serializers.DateTimeField(read_only=True, allow_null=True)
    first_contacted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(NULLABLE_STR)
    def get_assignee(self, case: Case) -> str | None:
        return public_id(case.assignee)

    @extend_schema_field(NULLABLE_STR)
    def get_assignee_email(self, case: Case) -> str | None:
        return case.assignee.email if case.assignee is not None else None

    @extend_schema_field(NULLABLE_STR)
    def get_touchpoint(self, case: Case) -> str | None:
        return public_id(case.touchpoint)

    @extend_schema_field(NULLABLE_STR)
    def get_contact(self, case: Case) -> str | None:
        return public_id(case.contact)

    @extend_schema_field(NULLABLE_STR)
    def get_response(self, case: Case) -> str | None:
        return public_id(case.response)

    @extend_schema_field(NULLABLE_STR)
    def get_alert(self, case: Case) -> str | None:
        return public_id(case.alert)

    @extend_schema_field(NULLABLE_STR)
    def get_improvement(self, case: Case) -> str | None:
        return public_id(case.improvement)

    @extend_schema_field(NULLABLE_STR)
    def get_root_cause(self, case: Case) -> str | None:
        return public_id(case.root_cause)

    def get_overdue(self, case: Case) -> bool:
        """Open and past its first-contact time without a contact, or past its resolution."""
        return bool(getattr(case, "is_overdue", False))


class CaseDetailSerializer(CaseSerializer):
    timeline = CaseEventSerializer(many=True, read_only=True, help_text="Oldest first.")


class CaseCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    touchpoint = TenantRelatedField(Touchpoint, required=False, allow_null=True, help_text="tp_...")
    response = TenantRelatedField(
        SurveyResponse, required=False, allow_null=True, help_text="rsp_..."
    )
    contact = TenantRelatedField(Contact, required=False, allow_null=True, help_text="ct_...")
    assignee = MemberField(
        required=False,
        allow_null=True,
        help_text="usr_...; left out: the touchpoint's owner, else the organization's default.",
    )


class CaseStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    note = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when the case goes back (400 `note_required`).",
    )
    root_cause = TenantRelatedField(
        RootCause,
        required=False,
        allow_null=True,
        default=None,
        help_text="rc_...; required to resolve (400 `root_cause_required`).",
    )
    controllable = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Left out: the root cause's own flag.",
    )
    action_taken = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="What was done; required to resolve.",
    )


class CaseAssignSerializer(serializers.Serializer):
    assignee = MemberField(allow_null=True, help_text="usr_... of a member; null for nobody.")


class CaseNoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class CaseContactSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=ContactMethod.choices)
    outcome = serializers.ChoiceField(choices=ContactOutcome.choices)
    contacted_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Left out: now."
    )
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class CaseImprovementSerializer(serializers.Serializer):
    improvement = TenantRelatedField(
        ImprovementItem, allow_null=True, help_text="imp_...; null to unlink."
    )


class CaseFilterSerializer(serializers.Serializer):
    status = serializers.MultipleChoiceField(
        choices=CaseStatus.choices, required=False, help_text="Repeat for several."
    )
    open = serializers.BooleanField(required=False, help_text="Only new and in progress.")
    assignee = MemberField(
        allow_me=True,
        required=False,
        help_text='usr_... of a member, or "me" for the signed-in person.',
    )
    unassigned = serializers.BooleanField(required=False)
    touchpoint = TenantRelatedField(Touchpoint, required=False, help_text="tp_...")
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    overdue = serializers.BooleanField(required=False)
    contact = TenantRelatedField(Contact, required=False, help_text="ct_...")
    response = TenantRelatedField(SurveyResponse, required=False, help_text="rsp_...")
    q = serializers.CharField(
        max_length=200, required=False, help_text="Words of the title, or a case number."
    )


@extend_schema_view(
    list=extend_schema(summary="List cases", parameters=[CaseFilterSerializer]),
    retrieve=extend_schema(summary="Read a case with its timeline", responses=CaseDetailSerializer),
    create=extend_schema(
        summary="Open a case by hand",
        request=CaseCreateSerializer,
        responses={201: CaseDetailSerializer},
        description="For feedback that came another way (a call, a letter). Due times follow "
        "the organization's service levels for the priority.",
    ),
)
@extend_schema(tags=[CASES_TAG])
class CaseViewSet(
    OrganizationViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Follow-up cases, newest first (cursor-paginated). Writing needs the handle-cases
    permission; read-only keys get 403."""

    policy = policies.CASES
    serializer_class = CaseSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        if self.schema_only:
            return no_rows(Case)
        incoming = CaseFilterSerializer(
            data=self.request.query_params, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        given = incoming.validated_data
        now = timezone.now()
        filters = selectors.CaseFilters(
            assignee_id=given["assignee"].pk if given.get("assignee") else None,
            unassigned=given.get("unassigned", False),
            statuses=tuple(sorted(given.get("status", ()))),
            open_only=given.get("open", False),
            touchpoint_id=given["touchpoint"].pk if given.get("touchpoint") else None,
            priority=given.get("priority", ""),
            overdue=given.get("overdue", False),
            contact_id=given["contact"].pk if given.get("contact") else None,
            response_id=given["response"].pk if given.get("response") else None,
            query=given.get("q", ""),
        )
        return (
            selectors.case_list(organization=self.organization, filters=filters, now=now)
            .select_related("alert", "response", "contact", "improvement")
            .annotate(
                is_overdue=ExpressionWrapper(selectors.overdue_q(now), output_field=BooleanField())
            )
        )

    def get_object(self):
        return selectors.access_case(
            organization=self.organization, public_id=self.kwargs["public_id"]
        )

    def _detail(self, case: Case, *, status_code: int = status.HTTP_200_OK) -> Response:
        """The case with its timeline; after a write, `case` is read again first (`_fresh`)."""
        case.timeline = list(selectors.case_timeline(case=case))
        case.is_overdue = (
            Case.objects.filter(organization=self.organization, pk=case.pk)
            .filter(selectors.overdue_q(timezone.now()))
            .exists()
        )
        return Response(CaseDetailSerializer(case).data, status=status_code)

    def _fresh(self, case: Case) -> Case:
        return selectors.access_case(organization=self.organization, public_id=case.public_id)

    def _valid(self, serializer_class, request) -> dict:
        incoming = serializer_class(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        return incoming.validated_data

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    @idempotent
    def create(self, request, *args, **kwargs):
        case = case_services.case_create(
            actor=self.actor,
            organization=self.organization,
            **self._valid(CaseCreateSerializer, request),
        )
        return self._detail(self._fresh(case), status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a case's status",
        request=CaseStatusSerializer,
        responses=CaseDetailSerializer,
        description="new -> in_progress -> resolved -> closed, or cancelled. Going back needs a "
        "`note` (400 `note_required`); resolving needs `root_cause` and `action_taken` (400 "
        "`root_cause_required`); other moves are 400 `invalid_transition`.",
    )
    @action(detail=True, methods=["post", "patch"], url_path="status")
    def change_status(self, request, *args, **kwargs):
        case = case_services.case_change_status(
            actor=self.actor, case=self.get_object(), **self._valid(CaseStatusSerializer, request)
        )
        return self._detail(self._fresh(case))

    @extend_schema(
        summary="Assign a case",
        request=CaseAssignSerializer,
        responses=CaseDetailSerializer,
        description="To a member of the organization (400 with a field error for anyone else), "
        "or to nobody with null.",
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, *args, **kwargs):
        case = case_services.case_assign(
            actor=self.actor, case=self.get_object(), **self._valid(CaseAssignSerializer, request)
        )
        return self._detail(self._fresh(case))

    @extend_schema(
        summary="Add a note to a case",
        request=CaseNoteSerializer,
        responses={201: CaseEventSerializer},
    )
    @action(detail=True, methods=["post"])
    def notes(self, request, *args, **kwargs):
        event = case_services.case_add_note(
            actor=self.actor, case=self.get_object(), **self._valid(CaseNoteSerializer, request)
        )
        return Response(CaseEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record a contact with the customer",
        request=CaseContactSerializer,
        responses={201: CaseDetailSerializer},
        description="When, how and with what outcome. The first contact stops the first-contact "
        "clock; a new case moves to in progress.",
    )
    @action(detail=True, methods=["post"])
    def contacts(self, request, *args, **kwargs):
        case = case_services.case_record_contact(
            actor=self.actor, case=self.get_object(), **self._valid(CaseContactSerializer, request)
        )
        return self._detail(self._fresh(case), status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Link a case to an improvement item",
        request=CaseImprovementSerializer,
        responses=CaseDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def improvement(self, request, *args, **kwargs):
        case = case_services.case_link_improvement(
            actor=self.actor,
            case=self.get_object(),
            **self._valid(CaseImprovementSerializer, request),
        )
        return self._detail(self._fresh(case))


ROUTES: list[tuple[str, type, str]] = [("cases", CaseViewSet, "case")]
