"""The case status machine: forward freely, back only with a note, resolved only with a cause."""

import pytest

from alerts.enums import AlertStatus, CaseEventKind, CaseStatus
from alerts.models import Alert
from alerts.services.cases import case_assign, case_change_status, case_create
from alerts.services.rules import root_cause_create
from core.exceptions import ApplicationError
from tenancy.actors import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(scoped):
    return Actor.system(scoped)


@pytest.fixture
def case(scoped, actor):
    return case_create(actor=actor, organization=scoped, title="Parcel never came")


@pytest.fixture
def cause(scoped, actor):
    return root_cause_create(
        actor=actor,
        organization=scoped,
        category="Delivery",
        name="Carrier lost it",
        controllable=False,
    )


def test_a_case_moves_forward_and_records_each_step(case, actor, cause):
    case = case_change_status(actor=actor, case=case, status=CaseStatus.IN_PROGRESS)
    case = case_change_status(
        actor=actor, case=case, status=CaseStatus.RESOLVED, root_cause=cause, action_taken="Refund"
    )
    assert case.resolved_at is not None and case.controllable is False
    case = case_change_status(actor=actor, case=case, status=CaseStatus.CLOSED)
    assert case.closed_at is not None
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds.count(CaseEventKind.STATUS) == 3


def test_resolving_needs_a_root_cause_and_the_action_taken(case, actor, cause):
    with pytest.raises(ApplicationError) as refused:
        case_change_status(actor=actor, case=case, status=CaseStatus.RESOLVED)
    assert refused.value.code == "root_cause_required"
    assert set(refused.value.extra["fields"]) == {"root_cause", "action_taken"}


def test_going_back_needs_a_note(case, actor, cause):
    case_change_status(
        actor=actor, case=case, status=CaseStatus.RESOLVED, root_cause=cause, action_taken="Refund"
    )
    with pytest.raises(ApplicationError) as refused:
        case_change_status(actor=actor, case=case, status=CaseStatus.IN_PROGRESS)
    assert refused.value.code == "note_required"
    reopened = case_change_status(
        actor=actor, case=case, status=CaseStatus.IN_PROGRESS, note="Customer called again"
    )
    assert reopened.status == CaseStatus.IN_PROGRESS and reopened.resolved_at is None


@pytest.mark.parametrize(
    ("start", "target"),
    [(CaseStatus.CLOSED, CaseStatus.NEW), (CaseStatus.NEW, CaseStatus.CLOSED)],
)
def test_impossible_moves_are_refused(case, actor, start, target):
    case.status = start
    case.save()
    with pytest.raises(ApplicationError) as refused:
        case_change_status(actor=actor, case=case, status=target, note="try")
    assert refused.value.code == "invalid_transition"


def test_a_root_cause_of_another_organization_is_refused(case, actor, other_org):
    from core.scoping import tenant_scope

    with tenant_scope(other_org):
        foreign = root_cause_create(
            actor=Actor.system(other_org),
            organization=other_org,
            category="X",
            name="Y",
            controllable=True,
        )
    with pytest.raises(ApplicationError):
        case_change_status(
            actor=actor, case=case, status=CaseStatus.RESOLVED, root_cause=foreign, action_taken="z"
        )


def test_assigning_to_someone_outside_the_organization_is_refused(case, actor, personas):
    with pytest.raises(ApplicationError) as refused:
        case_assign(actor=actor, case=case, assignee=personas.outsider)
    assert refused.value.code == "not_a_member"
    assert (
        case_assign(actor=actor, case=case, assignee=personas.cx_manager).assignee
        == personas.cx_manager
    )


def test_resolving_the_case_resolves_its_alert_and_starts_the_cooldown(scoped, actor, cause):
    from alerts.services.cases import case_open_for_alert

    alert = Alert.objects.create(organization=scoped, kind="response", title="t", scope_key="rsp:1")
    case = case_open_for_alert(alert=alert)
    assert case_open_for_alert(alert=alert) == case  # one case per alert
    case_change_status(
        actor=actor, case=case, status=CaseStatus.RESOLVED, root_cause=cause, action_taken="Called"
    )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_at is not None
