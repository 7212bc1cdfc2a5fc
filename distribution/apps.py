from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "distribution"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.tasks import enqueue_on_commit
        from distribution.tasks import mark_invitation_answered
        from surveys.signals import response_submitted

        def on_response_submitted(sender, *, organization_id: int, response_id: int, **kwargs):
            if kwargs.get("through_personal_link") is False:
                return  # only a personal link answers an invitation
            # Only enqueue: nothing may write inside the respondent's request after the save.
            enqueue_on_commit(
                mark_invitation_answered, organization_id=organization_id, response_id=response_id
            )

        response_submitted.connect(
            on_response_submitted, dispatch_uid="distribution.invitation_answered", weak=False
        )

        from anymail.signals import tracking

        from distribution.services.email_events import on_tracking_event

        tracking.connect(on_tracking_event, dispatch_uid="distribution.email_events", weak=False)
