"""Template tags of the alerts pages and emails; pure (no queries)."""

from django import template

from alerts.explain import evidence_in_words

register = template.Library()


@register.simple_tag
def alert_evidence(alert) -> list[dict]:
    """`{% alert_evidence alert as rows %}`: the alert's evidence in words, [{label, text}]."""
    if alert is None:
        return []
    return evidence_in_words(alert.kind, alert.evidence, alert.rule if alert.rule_id else None)
