"""Alert rules, the root-cause taxonomy and improvement items: create, change, retire."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from alerts.enums import (
    DEFAULT_CONDITIONS,
    ConditionMetric,
    ImprovementStatus,
    Operator,
    Priority,
    ReferenceMode,
    RuleKind,
)
from alerts.models import AlertRule, ImprovementItem, RootCause
from alerts.taxonomies import STARTER_TAXONOMIES
from core.exceptions import ApplicationError
from core.safe_http import validate_public_url
from core.services import Actor, activity_record
from tenancy.models import Membership, Organization

# The raw scale of each metric, for checking thresholds.
METRIC_RANGES: dict[str, tuple[int, int]] = {
    ConditionMetric.NPS: (0, 10),
    ConditionMetric.CSAT: (1, 5),
    ConditionMetric.CES: (1, 7),
    ConditionMetric.CES_LEGACY: (1, 5),
    ConditionMetric.SMILEY: (1, 4),
    ConditionMetric.YES_NO: (0, 1),
    ConditionMetric.RATING: (0, 10),
}
KIOSK_WINDOWS = (15, 120)  # minutes: the short windows kiosks use
MAX_WINDOW_MINUTES = 7 * 24 * 60
RULE_FIELDS = {
    "name",
    "kind",
    "is_active",
    "journey",
    "touchpoint",
    "survey",
    "contact_attributes",
    "hidden_fields",
    "metric",
    "question_key",
    "operator",
    "threshold",
    "keywords",
    "window_minutes",
    "reference_mode",
    "reference_rate",
    "baseline_margin",
    "alpha",
    "min_n",
    "drop_points",
    "volume_ratio",
    "priority",
    "open_case",
    "notify_email",
    "notify_sms",
    "slack_webhook_url",
    "teams_webhook_url",
    "recovery_message",
    "cooldown_minutes",
}


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("NaN")


def rule_validate(rule: AlertRule) -> dict[str, list[str]]:
    """Field errors of a rule as it stands (used by create, update and the forms)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not (rule.name or "").strip():
        add("name", _("Give the rule a name."))
    if rule.kind not in RuleKind.values:
        add("kind", _("Unknown kind of rule."))
    if rule.metric not in ConditionMetric.values:
        add("metric", _("Unknown metric."))
    if rule.priority not in Priority.values:
        add("priority", _("Unknown priority."))
    if rule.metric == ConditionMetric.TEXT:
        words = rule.keywords if isinstance(rule.keywords, list) else None
        if (
            not words
            or not all(isinstance(w, str) and 0 < len(w.strip()) <= 100 for w in words)
            or len(words) > 50
        ):
            add("keywords", _("List the words to look for (1 to 50 words)."))
    elif rule.metric in METRIC_RANGES:
        low, high = METRIC_RANGES[rule.metric]
        if rule.operator not in Operator.values:
            add("operator", _("Unknown comparison."))
        if not isinstance(rule.threshold, int) or not low <= rule.threshold <= high:
            add(
                "threshold",
                _("Give a whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
            )
    for field in ("contact_attributes", "hidden_fields"):
        value = getattr(rule, field)
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int) for k, v in value.items()
        ):
            add(field, _("Give name and value pairs."))
    if rule.kind != RuleKind.RESPONSE:
        _validate_aggregate(rule, add)
    for field in ("slack_webhook_url", "teams_webhook_url"):
        url = getattr(rule, field)
        if url:
            try:
                validate_public_url(url)
            except ValidationError as error:
                add(field, " ".join(error.messages))
    if rule.cooldown_minutes is None or not 0 <= rule.cooldown_minutes <= MAX_WINDOW_MINUTES:
        add("cooldown_minutes", _("From 0 minutes to 7 days."))
    return errors


def _validate_aggregate(rule: AlertRule, add) -> None:
    if rule.contact_attributes:
        add("contact_attributes", _("Aggregate rules watch a touchpoint, not single contacts."))
    if not isinstance(rule.window_minutes, int) or not (
        KIOSK_WINDOWS[0] <= rule.window_minutes <= MAX_WINDOW_MINUTES
    ):
        add("window_minutes", _("From 15 minutes to 7 days."))
    alpha = _decimal(rule.alpha)
    if alpha is None or alpha.is_nan() or not Decimal("0.000001") <= alpha <= Decimal("0.05"):
        add("alpha", _("From 0.000001 to 0.05."))
    if not isinstance(rule.min_n, int) or rule.min_n < 10:
        add("min_n", _("At least 10 answers."))
    if rule.kind == RuleKind.NEGATIVE_SHARE:
        if rule.metric == ConditionMetric.TEXT:
            return
        if rule.reference_mode == ReferenceMode.THRESHOLD:
            rate = _decimal(rule.reference_rate)
            if rate is None or rate.is_nan() or not Decimal(0) <= rate < Decimal(1):
                add("reference_rate", _("Give a share from 0 to 0.99."))
        elif rule.reference_mode == ReferenceMode.BASELINE:
            margin = _decimal(rule.baseline_margin)
            if margin is None or margin.is_nan() or not Decimal(0) <= margin < Decimal(1):
                add("baseline_margin", _("Give a margin from 0 to 0.99."))
        else:
            add("reference_mode", _("Unknown reference."))
    if rule.kind == RuleKind.NPS_DROP:
        drop = _decimal(rule.drop_points)
        if drop is None or drop.is_nan() or not Decimal(1) <= drop <= Decimal(200):
            add("drop_points", _("From 1 to 200 points."))
    if rule.kind == RuleKind.VOLUME_DROP:
        ratio = _decimal(rule.volume_ratio)
        if ratio is None or ratio.is_nan() or not Decimal(0) <= ratio < Decimal(1):
            add("volume_ratio", _("Give a share from 0 to 0.99."))


def _check_scope(organization: Organization, rule: AlertRule) -> None:
    for field in ("journey", "touchpoint", "survey"):
        value = getattr(rule, field)
        if value is not None and value.organization_id != organization.pk:
            raise ApplicationError(
                _("Choose from this organization."),
                "invalid",
                {"fields": {field: [_("Not found.")]}},
            )
    if (
        rule.touchpoint is not None
        and rule.journey is not None
        and rule.touchpoint.journey_id != rule.journey.pk
    ):
        raise ApplicationError(
            _("The touchpoint is not on that journey."),
            "invalid",
            {"fields": {"touchpoint": [_("Not on the chosen journey.")]}},
        )


def _apply(rule: AlertRule, changes: dict[str, Any]) -> dict:
    unknown = set(changes) - RULE_FIELDS
    if unknown:
        raise ApplicationError(
            _("Unknown fields."), "invalid", {"fields": {f: [_("Unknown field.")] for f in unknown}}
        )
    diff = {}
    for field, value in changes.items():
        if field == "keywords" and isinstance(value, list):
            value = [str(word).strip() for word in value if str(word).strip()]
        if field == "name" and isinstance(value, str):
            value = value.strip()
        if getattr(rule, field) != value:
            diff[field] = True
            setattr(rule, field, value)
    return diff


def rule_defaults(metric: str) -> dict:
    operator, threshold = DEFAULT_CONDITIONS.get(metric, (Operator.LTE, None))
    return {"operator": operator, "threshold": threshold}


def rule_create(*, actor: Actor, organization: Organization, **fields: Any) -> AlertRule:
    """Create a rule. Raises ApplicationError `invalid` with field errors."""
    metric = fields.get("metric", ConditionMetric.CSAT)
    rule = AlertRule(organization=organization, created_by=getattr(actor, "user", None))
    _apply(rule, {**rule_defaults(metric), **fields})
    _check_scope(organization, rule)
    errors = rule_validate(rule)
    if errors:
        raise ApplicationError(_("Check the rule."), "invalid", {"fields": errors})
    with transaction.atomic():
        rule.save()
        activity_record(
            organization=organization, actor=actor, action="alerts.rule.created", target=rule
        )
    return rule


def rule_update(*, actor: Actor, rule: AlertRule, **changes: Any) -> AlertRule:
    diff = _apply(rule, changes)
    _check_scope(rule.organization, rule)
    errors = rule_validate(rule)
    if errors:
        raise ApplicationError(_("Check the rule."), "invalid", {"fields": errors})
    if not diff:
        return rule
    with transaction.atomic():
        rule.save()
        activity_record(
            organization=rule.organization,
            actor=actor,
            action="alerts.rule.updated",
            target=rule,
            data={"fields": sorted(diff)},
        )
    return rule


def rule_delete(*, actor: Actor, rule: AlertRule) -> None:
    """Delete a rule; its alerts and cases stay (they lose the link)."""
    with transaction.atomic():
        activity_record(
            organization=rule.organization, actor=actor, action="alerts.rule.deleted", target=rule
        )
        rule.delete()


# --- root causes and improvement items -------------------------------------------------------


def root_cause_create(
    *, actor: Actor, organization: Organization, category: str, name: str, controllable: bool
) -> RootCause:
    category, name = (category or "").strip(), (name or "").strip()
    errors = {}
    if not category:
        errors["category"] = [_("Required.")]
    if not name:
        errors["name"] = [_("Required.")]
    if errors:
        raise ApplicationError(_("Check the root cause."), "invalid", {"fields": errors})
    try:
        with transaction.atomic():
            cause = RootCause.objects.create(
                organization=organization,
                category=category[:100],
                name=name[:200],
                controllable=controllable,
            )
            activity_record(
                organization=organization,
                actor=actor,
                action="alerts.root_cause.created",
                target=cause,
            )
    except IntegrityError:
        raise ApplicationError(
            _("That root cause exists already."),
            "duplicate",
            {"fields": {"name": [_("Exists already in this category.")]}},
        ) from None
    return cause


def root_cause_update(*, actor: Actor, cause: RootCause, **changes: Any) -> RootCause:
    for field in ("category", "name", "controllable", "is_active"):
        if field in changes:
            setattr(cause, field, changes[field])
    with transaction.atomic():
        try:
            with transaction.atomic():
                cause.save()
        except IntegrityError:
            raise ApplicationError(
                _("That root cause exists already."),
                "duplicate",
                {"fields": {"name": [_("Exists already in this category.")]}},
            ) from None
        activity_record(
            organization=cause.organization,
            actor=actor,
            action="alerts.root_cause.updated",
            target=cause,
        )
    return cause


def root_causes_load_starter(*, actor: Actor, organization: Organization, industry: str) -> int:
    """Add a starter taxonomy (retail, banking, telecom); causes that exist are kept. Returns
    how many were added."""
    if industry not in STARTER_TAXONOMIES:
        raise ApplicationError(
            _("Unknown industry."), "invalid", {"fields": {"industry": [_("Unknown industry.")]}}
        )
    rows = [
        RootCause(
            organization=organization,
            category=str(category),
            name=str(name),
            controllable=controllable,
        )
        for category, name, controllable in STARTER_TAXONOMIES[industry]
    ]
    with transaction.atomic():
        before = RootCause.objects.filter(organization=organization).count()
        RootCause.objects.bulk_create(rows, ignore_conflicts=True)
        added = RootCause.objects.filter(organization=organization).count() - before
        activity_record(
            organization=organization,
            actor=actor,
            action="alerts.root_cause.starter_loaded",
            data={"industry": industry, "added": added},
        )
    return added


def improvement_create(
    *,
    actor: Actor,
    organization: Organization,
    title: str,
    description: str = "",
    root_cause: RootCause | None = None,
    owner=None,
    due_date=None,
) -> ImprovementItem:
    title = (title or "").strip()
    if not title:
        raise ApplicationError(
            _("Give the improvement a title."), "invalid", {"fields": {"title": [_("Required.")]}}
        )
    if (
        owner is not None
        and not Membership.objects.filter(organization=organization, user=owner).exists()
    ):
        raise ApplicationError(
            _("Choose a member of this organization."),
            "invalid",
            {"fields": {"owner": [_("Not a member.")]}},
        )
    with transaction.atomic():
        item = ImprovementItem.objects.create(
            organization=organization,
            title=title[:200],
            description=description or "",
            root_cause=root_cause,
            owner=owner,
            due_date=due_date,
        )
        activity_record(
            organization=organization, actor=actor, action="alerts.improvement.created", target=item
        )
    return item


def improvement_update(*, actor: Actor, item: ImprovementItem, **changes: Any) -> ImprovementItem:
    if "status" in changes and changes["status"] not in ImprovementStatus.values:
        raise ApplicationError(
            _("Unknown status."), "invalid", {"fields": {"status": [_("Unknown status.")]}}
        )
    owner = changes.get("owner")
    if (
        owner is not None
        and not Membership.objects.filter(organization=item.organization, user=owner).exists()
    ):
        raise ApplicationError(
            _("Choose a member of this organization."),
            "invalid",
            {"fields": {"owner": [_("Not a member.")]}},
        )
    for field in ("title", "description", "root_cause", "owner", "status", "due_date"):
        if field in changes:
            setattr(item, field, changes[field])
    if not (item.title or "").strip():
        raise ApplicationError(
            _("Give the improvement a title."), "invalid", {"fields": {"title": [_("Required.")]}}
        )
    with transaction.atomic():
        item.save()
        activity_record(
            organization=item.organization,
            actor=actor,
            action="alerts.improvement.updated",
            target=item,
        )
    return item
