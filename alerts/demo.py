"""Demo alerting: rules, a retail root-cause taxonomy, and the closed loop of the last six weeks
(cases opened from the demo's low scores, contacted, resolved with root causes, two improvement
items). Deterministic and idempotent: nothing is added when the demo already has rules."""

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.enums import (
    AlertStatus,
    CaseEventKind,
    CaseStatus,
    ConditionMetric,
    ContactMethod,
    ContactOutcome,
    ImprovementStatus,
    Priority,
    ReferenceMode,
    RuleKind,
)
from alerts.models import (
    Alert,
    AlertRule,
    Case,
    CaseEvent,
    ResponseCheck,
    RootCause,
    RuleEvaluation,
)
from alerts.service_levels import case_settings_get, case_settings_update, due_times
from alerts.services.rules import improvement_create, root_causes_load_starter, rule_create
from surveys.models import Answer

DAYS = 42
ACTIONS = [
    "Called the customer, apologised and refunded the delivery fee.",
    "Called back; the order was re-sent with express delivery.",
    "Explained the return policy and sent a gift card.",
    "Talked with the store manager; staffing at rush hours is reviewed.",
    "Fixed the price label and thanked the customer for telling us.",
]
NOTES = [
    "Customer prefers a call after 16:00.",
    "Second complaint this month from this store.",
    "Checked the order history: the delay was in the warehouse.",
]


def load_demo_alerts(*, organization, actor, users: dict) -> dict:
    """Returns counts of what was made ({} when the demo had rules already)."""
    if AlertRule.objects.filter(organization=organization).exists():
        return {}
    with transaction.atomic():
        case_settings_update(
            actor=actor,
            organization=organization,
            default_assignee=users["cx"],
            escalation_contact=users["owner"],
        )
        root_causes_load_starter(actor=actor, organization=organization, industry="retail")
        rules = _rules(organization, actor)
        cases = _closed_loop(organization, rules["csat"], users)
    return {"rules": len(rules), "cases": cases}


def _rules(organization, actor) -> dict:
    return {
        "csat": rule_create(
            actor=actor,
            organization=organization,
            name="CSAT 1-2: call the customer",
            kind=RuleKind.RESPONSE,
            metric=ConditionMetric.CSAT,
            operator="lte",
            threshold=2,
            priority=Priority.HIGH,
        ),
        "nps": rule_create(
            actor=actor,
            organization=organization,
            name="Angry detractor (NPS 0-3)",
            kind=RuleKind.RESPONSE,
            metric=ConditionMetric.NPS,
            operator="lte",
            threshold=3,
            priority=Priority.NORMAL,
        ),
        "words": rule_create(
            actor=actor,
            organization=organization,
            name="Words that need a manager",
            kind=RuleKind.RESPONSE,
            metric=ConditionMetric.TEXT,
            keywords=["lawyer", "asianajaja", "kuluttajavirasto", "advokat", "dangerous"],
            priority=Priority.URGENT,
        ),
        "share": rule_create(
            actor=actor,
            organization=organization,
            name="Detractors rising against the last 28 days",
            kind=RuleKind.NEGATIVE_SHARE,
            metric=ConditionMetric.NPS,
            operator="lte",
            threshold=6,
            reference_mode=ReferenceMode.BASELINE,
            baseline_margin="0.10",
            notify_email=True,
        ),
        "volume": rule_create(
            actor=actor,
            organization=organization,
            name="Responses stopped coming (broken link?)",
            kind=RuleKind.VOLUME_DROP,
            metric=ConditionMetric.NPS,
            operator="lte",
            threshold=6,
            window_minutes=240,
            open_case=False,
            notify_email=True,
        ),
    }


def _closed_loop(organization, rule: AlertRule, users: dict) -> int:
    """Cases for the CSAT 1-2 answers of the last six weeks, in every state of the loop."""
    rng = random.Random(2026)
    now = timezone.now()
    low = list(
        Answer.objects.filter(
            Q(organization=organization)
            & Q(question__type="csat", value_int__lte=2)
            & Q(response__submitted_at__gte=now - timedelta(days=DAYS))
        )
        .select_related("response", "response__touchpoint", "response__survey")
        .order_by("-response__submitted_at")[:80]
    )
    low.reverse()  # the newest 80, numbered oldest first
    causes = list(RootCause.objects.filter(organization=organization))
    settings_row = case_settings_get(organization=organization)
    improvements = [
        improvement_create(
            actor=None,
            organization=organization,
            title="Staff the checkout for the lunch rush",
            description="Queues at 11-13 explain a third of the low scores in stores.",
            root_cause=causes[0] if causes else None,
            owner=users["cx"],
        ),
        improvement_create(
            actor=None,
            organization=organization,
            title="Tell customers when a delivery is late",
            description="Send an SMS as soon as the warehouse misses the promised day.",
            root_cause=causes[1] if len(causes) > 1 else None,
            owner=users["owner"],
        ),
    ]
    improvements[1].status = ImprovementStatus.IN_PROGRESS
    improvements[1].save(update_fields=["status"])
    made = 0
    for number, answer in enumerate(low, start=1):
        response = answer.response
        opened = response.submitted_at + timedelta(minutes=rng.randint(0, 3))
        age = now - opened
        RuleEvaluation.objects.create(organization=organization, rule=rule, response=response)
        ResponseCheck.objects.create(organization=organization, response=response)
        place = response.touchpoint.name if response.touchpoint else response.survey.name
        alert = Alert.objects.create(
            organization=organization,
            rule=rule,
            kind=rule.kind,
            priority=rule.priority,
            title=f"{rule.name} · {place} · csat = {answer.value_int}",
            scope_key=f"rsp:{response.pk}",
            touchpoint=response.touchpoint,
            survey=response.survey,
            response=response,
            evidence={"answers": [{"question": "csat", "value": answer.value_int}]},
            created_at=opened,
        )
        first_due, resolution_due = due_times(
            settings=settings_row, organization=organization, priority=rule.priority, start=opened
        )
        owner = (response.touchpoint.owner if response.touchpoint else None) or users["cx"]
        case = Case.objects.create(
            organization=organization,
            number=number,
            alert=alert,
            response=response,
            touchpoint=response.touchpoint,
            title=alert.title,
            priority=rule.priority,
            assignee=owner,
            first_contact_due=first_due,
            resolution_due=resolution_due,
        )
        events = [(opened, CaseEventKind.CREATED, alert.title, {})]
        events.append((opened, CaseEventKind.ASSIGNED, "", {"assignee": owner.email}))
        status = CaseStatus.NEW
        contacted_at = resolved_at = None
        if age > timedelta(days=2) or rng.random() < 0.5:
            contacted_at = opened + timedelta(hours=rng.choice([1, 2, 3, 5, 9, 20, 30]))
            if contacted_at < now:
                status = CaseStatus.IN_PROGRESS
                events.append(
                    (
                        contacted_at,
                        CaseEventKind.CONTACTED,
                        rng.choice(NOTES),
                        {
                            "method": rng.choice(ContactMethod.values[:3]),
                            "outcome": ContactOutcome.REACHED,
                        },
                    )
                )
            else:
                contacted_at = None
        if contacted_at and age > timedelta(days=5) and rng.random() < 0.85:
            resolved_at = contacted_at + timedelta(hours=rng.choice([2, 6, 24, 48, 70]))
            status = CaseStatus.CLOSED if age > timedelta(days=20) else CaseStatus.RESOLVED
            cause = rng.choice(causes)
            case.root_cause = cause
            case.controllable = cause.controllable
            case.action_taken = rng.choice(ACTIONS)
            if cause in (improvements[0].root_cause, improvements[1].root_cause):
                case.improvement = (
                    improvements[0] if cause == improvements[0].root_cause else improvements[1]
                )
            events.append(
                (resolved_at, CaseEventKind.STATUS, "", {"old": "in_progress", "new": "resolved"})
            )
            if status == CaseStatus.CLOSED:
                events.append(
                    (
                        resolved_at + timedelta(days=3),
                        CaseEventKind.STATUS,
                        "",
                        {"old": "resolved", "new": "closed"},
                    )
                )
            alert.status, alert.resolved_at = AlertStatus.RESOLVED, resolved_at
            alert.save(update_fields=["status", "resolved_at"])
        case.status = status
        case.first_contacted_at = contacted_at
        case.resolved_at = resolved_at
        case.closed_at = resolved_at + timedelta(days=3) if status == CaseStatus.CLOSED else None
        case.save()
        Case.objects.filter(organization=organization, pk=case.pk).update(created_at=opened)
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    organization=organization,
                    case=case,
                    kind=kind,
                    actor_label="system" if kind == CaseEventKind.CREATED else owner.email,
                    text=text,
                    data=data,
                )
                for _when, kind, text, data in events
            ]
        )
        for event, (when, *_rest) in zip(
            CaseEvent.objects.filter(organization=organization, case=case).order_by("id"),
            events,
            strict=True,
        ):
            CaseEvent.objects.filter(organization=organization, pk=event.pk).update(created_at=when)
        made += 1
    return made
