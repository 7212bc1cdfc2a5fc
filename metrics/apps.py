from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from metrics.receivers import on_response_deleting, on_response_submitted
        from surveys.models import Response
        from surveys.signals import response_submitted

        response_submitted.connect(on_response_submitted, dispatch_uid="metrics.process_response")
        pre_delete.connect(
            on_response_deleting, sender=Response, dispatch_uid="metrics.response_deleting"
        )
