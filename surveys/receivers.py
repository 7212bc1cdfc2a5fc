"""Receivers of the surveys app's own model signals."""

from django.db.models import F

from surveys.models import Response, Survey


def on_response_deleted(sender, instance: Response, **kwargs) -> None:
    """A deleted response leaves its survey's `response_count`, whatever deleted it (admin, a
    GDPR erase, a test). Runs inside the deleting transaction, so a rollback undoes it too."""
    Survey.all_objects.filter(
        organization_id=instance.organization_id, pk=instance.survey_id, response_count__gt=0
    ).update(response_count=F("response_count") - 1)
