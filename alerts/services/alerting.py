"""Raising alerts: a response against the response rules, a scope against the aggregate rules.

Idempotent by keys, not by luck: a response rule's match is claimed as one `RuleEvaluation` row
(unique per rule and response) in the same transaction as its alert, case and notifications, so
a task that runs twice, or a sweep that races the task, raises nothing twice. Aggregate alerts
are de-duplicated by a lock on the rule row and the one-open-alert-per-scope constraint.
"""

import logging
from datetime import timedelta

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.enums import AlertStatus, CaseEventKind, RuleKind
from alerts.evaluation import (
    ResponseFacts,
    Scope,
    active_scopes,
    evaluate_aggregate,
    in_scope,
    matching_answers,
    responses_facts,
    scope_of_response,
)
from alerts.models import Alert, AlertRule, Case, CaseEvent, ResponseCheck, RuleEvaluation
from alerts.notifications import notifications_for_alert, recovery_notification
from alerts.services.cases import case_open_for_alert
from core.tasks import enqueue_on_commit
from journeys.models import Touchpoint
from surveys.models import Response, Survey
from webhooks.enums import EventType
from webhooks.services import event_emit

logger = logging.getLogger(__name__)

# Aggregate rules are tested a few seconds after a response, once for a burst of responses.
AGGREGATE_DEBOUNCE_SECONDS = 5
SWEEP_LOOK_BACK = timedelta(days=2)
SWEEP_GRACE = timedelta(seconds=30)


def active_rules(organization) -> list[AlertRule]:
    return list(AlertRule.objects.filter(organization=organization, is_active=True).order_by("id"))


def response_evaluate(*, organization, response_id: int) -> list[Alert]:
    """Test one committed response against every active rule in its scope (see
    `responses_evaluate`). Returns the alerts raised now."""
    return responses_evaluate(organization=organization, response_ids=[response_id])


def responses_evaluate(*, organization, response_ids: list[int]) -> list[Alert]:
    """Test committed responses against every active rule in their scope.

    Response rules raise an alert (and a case, notifications, a recovery message) per matching
    rule and response, once; aggregate rules in scope are tested for each response's touchpoint
    (debounced, once per rule and scope in the batch). Marks the responses checked, so the sweep
    leaves them alone. Reading the batch costs four queries however many responses it holds;
    each alert raised is its own transaction. Returns the alerts raised now.
    """
    facts_by_id = responses_facts(organization=organization, response_ids=response_ids)
    if not facts_by_id:
        return []
    rules = active_rules(organization)
    raised = []
    scheduled: set[tuple[int, str]] = set()
    for response_id in response_ids:
        facts = facts_by_id.get(response_id)
        if facts is None:
            continue
        for rule in rules:
            if not in_scope(rule, facts):
                continue
            if rule.kind == RuleKind.RESPONSE:
                alert = _raise_for_response(rule, facts)
                if alert is not None:
                    raised.append(alert)
            elif rule.kind != RuleKind.VOLUME_DROP:  # silence is not seen on a response
                scope = scope_of_response(facts.response)
                if (rule.pk, scope.key) not in scheduled:
                    scheduled.add((rule.pk, scope.key))
                    _schedule_aggregate(rule, scope)
    ResponseCheck.objects.bulk_create(
        [ResponseCheck(organization=organization, response_id=pk) for pk in facts_by_id],
        ignore_conflicts=True,
    )
    return raised


def _raise_for_response(rule: AlertRule, facts: ResponseFacts) -> Alert | None:
    matches = matching_answers(rule, facts)
    if not matches:
        return None
    response = facts.response
    with transaction.atomic():
        try:
            with transaction.atomic():
                RuleEvaluation.objects.create(
                    organization_id=rule.organization_id,
                    rule=rule,
                    response=response,
                )
        except IntegrityError:
            return None  # evaluated before: its alert exists already
        alert = Alert.objects.create(
            organization_id=rule.organization_id,
            rule=rule,
            kind=rule.kind,
            priority=rule.priority,
            title=_response_alert_title(rule, facts, matches),
            scope_key=f"rsp:{response.pk}",
            touchpoint=response.touchpoint,
            survey=response.survey,
            response=response,
            evidence={"answers": matches, "channel": response.channel},
        )
        _announce(alert)
        case = _case_for(rule, alert, facts)
        _notify(rule, alert, case)
        recovery = recovery_notification(rule=rule, alert=alert, case=case, facts=facts)
        if recovery is not None:
            _enqueue_send(recovery)
    return alert


def _announce(alert: Alert) -> None:
    event_emit(
        organization=alert.organization_id,
        type=EventType.ALERT_CREATED,
        data=lambda: _alert_webhook_data(alert),
    )


def _alert_webhook_data(alert: Alert) -> dict:
    """The `data` of an `alert.created` webhook event (docs/webhooks.md)."""
    return {
        "id": alert.public_id,
        "rule": alert.rule.public_id if alert.rule_id else None,
        "kind": alert.kind,
        "priority": alert.priority,
        "title": alert.title,
        "touchpoint": alert.touchpoint.public_id if alert.touchpoint_id else None,
        "survey": alert.survey.public_id if alert.survey_id else None,
        "response": alert.response.public_id if alert.response_id else None,
        "evidence": alert.evidence,
        "created_at": alert.created_at.isoformat(),
    }


def _response_alert_title(rule: AlertRule, facts: ResponseFacts, matches: list[dict]) -> str:
    place = facts.touchpoint.name if facts.touchpoint else facts.response.survey.name
    first = matches[0]
    if "value" in first:
        detail = f"{first['question']} = {first['value']}"
    else:
        detail = ", ".join(first["words"])
    return f"{rule.name} · {place} · {detail}"[:300]


def _case_for(rule: AlertRule, alert: Alert, facts: ResponseFacts | None) -> Case | None:
    if not rule.open_case:
        return None
    if facts is not None:
        # One case per alerting response: a second rule on the same response joins the first.
        open_case = (
            Case.objects.filter(organization_id=rule.organization_id, response=facts.response)
            .exclude(alert=alert)
            .first()
        )
        if open_case is not None:
            CaseEvent.objects.create(
                organization_id=rule.organization_id,
                case=open_case,
                kind=CaseEventKind.NOTE,
                actor_label="system",
                text=_("Also matched the rule “%(rule)s”.") % {"rule": rule.name},
            )
            return open_case
    return case_open_for_alert(alert=alert, contact=getattr(facts, "contact", None))


def _notify(rule: AlertRule, alert: Alert, case: Case | None) -> None:
    for notification in notifications_for_alert(rule=rule, alert=alert, case=case):
        _enqueue_send(notification)


def _enqueue_send(notification) -> None:
    from alerts.tasks import send_notification

    enqueue_on_commit(
        send_notification,
        organization_id=notification.organization_id,
        notification_id=notification.pk,
    )


# --- aggregate rules -------------------------------------------------------------------------


def _schedule_aggregate(rule: AlertRule, scope: Scope) -> None:
    """Test the rule for the scope a few seconds from now, once however many responses come."""
    if django_settings.CELERY_TASK_ALWAYS_EAGER:
        aggregate_check(rule=rule, scope=scope)
        return
    from alerts.tasks import evaluate_aggregate_rule

    try:
        first = cache.add(
            f"alerts:aggregate:{rule.pk}:{scope.key}", 1, timeout=AGGREGATE_DEBOUNCE_SECONDS
        )
    except Exception:  # Redis down: test at once rather than not at all
        logger.warning("cache unavailable; testing %s without debounce", rule.public_id)
        first = True
    if not first:
        return
    enqueue_on_commit(
        evaluate_aggregate_rule,
        eta=timezone.now() + timedelta(seconds=AGGREGATE_DEBOUNCE_SECONDS),
        organization_id=rule.organization_id,
        rule_id=rule.pk,
        scope=scope_payload(scope),
    )


def scope_payload(scope: Scope) -> dict:
    return {"touchpoint_id": scope.touchpoint_id, "survey_id": scope.survey_id}


def aggregate_check(*, rule: AlertRule, scope: Scope, now=None) -> Alert | None:
    """Test an aggregate rule for one scope: raise an alert when it fires and none of that rule
    and scope is open or cooling down; resolve an open one after a window without rejection."""
    now = now or timezone.now()
    result = evaluate_aggregate(rule, scope, now=now, tz=rule.organization.zone)
    with transaction.atomic():
        AlertRule.objects.select_for_update().filter(
            organization_id=rule.organization_id, pk=rule.pk
        ).first()
        latest = (
            Alert.objects.filter(
                organization_id=rule.organization_id, rule=rule, scope_key=scope.key
            )
            .order_by("-created_at", "-id")
            .first()
        )
        is_open = latest is not None and latest.status == AlertStatus.OPEN
        if not result.fires:
            window = timedelta(minutes=rule.window_minutes)
            if is_open and latest.created_at <= now - window:
                latest.status = AlertStatus.RESOLVED
                latest.resolved_at = now
                latest.evidence = {**latest.evidence, "resolved_with": result.evidence}
                latest.save(update_fields=["status", "resolved_at", "evidence"])
            return None
        cooling = (
            latest is not None
            and latest.resolved_at is not None
            and latest.resolved_at > now - timedelta(minutes=rule.cooldown_minutes)
        )
        if is_open or cooling:
            return None
        alert = Alert.objects.create(
            organization_id=rule.organization_id,
            rule=rule,
            kind=rule.kind,
            priority=rule.priority,
            title=_aggregate_alert_title(rule, scope),
            scope_key=scope.key,
            touchpoint_id=scope.touchpoint_id,
            survey_id=scope.survey_id,
            evidence=result.evidence,
            created_at=now,
        )
        _announce(alert)
        case = _case_for(rule, alert, None)
        _notify(rule, alert, case)
    return alert


def _aggregate_alert_title(rule: AlertRule, scope: Scope) -> str:
    if scope.touchpoint_id is not None:
        place = (
            Touchpoint.objects.filter(organization_id=rule.organization_id, pk=scope.touchpoint_id)
            .values_list("name", flat=True)
            .first()
        )
    else:
        place = (
            Survey.objects.filter(organization_id=rule.organization_id, pk=scope.survey_id)
            .values_list("name", flat=True)
            .first()
        )
    return f"{rule.name} · {place or '-'}"[:300]


def aggregate_rules_sweep(*, organization, now=None) -> int:
    """Test every aggregate rule for every scope that had responses (every 15 minutes), which
    also resolves alerts whose window has calmed down. Returns the alerts raised."""
    now = now or timezone.now()
    raised = 0
    for rule in active_rules(organization):
        if rule.kind == RuleKind.RESPONSE:
            continue
        scopes = set(active_scopes(rule, now=now))
        for key in Alert.objects.filter(
            organization=organization, rule=rule, status=AlertStatus.OPEN
        ).values_list("scope_key", flat=True):
            kind, _sep, value = key.partition(":")
            if kind == "tp":
                scopes.add(Scope(int(value), None))
            elif kind == "srv":
                scopes.add(Scope(None, int(value)))
        for scope in sorted(scopes, key=lambda s: s.key):
            if aggregate_check(rule=rule, scope=scope, now=now) is not None:
                raised += 1
    return raised


# --- the sweep for responses whose task never ran --------------------------------------------


def unchecked_response_ids(*, organization, now=None, limit: int = 500) -> list[int]:
    """Responses of the last two days not yet evaluated (the broker was down, a worker died)."""
    now = now or timezone.now()
    checked = ResponseCheck.objects.filter(organization=organization, response_id=OuterRef("pk"))
    return list(
        Response.objects.filter(
            organization=organization,
            created_at__gte=now - SWEEP_LOOK_BACK,
            created_at__lte=now - SWEEP_GRACE,
        )
        .filter(~Exists(checked))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
