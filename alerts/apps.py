from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alerts.receivers import on_response_submitted
        from surveys.signals import response_submitted

        response_submitted.connect(on_response_submitted, dispatch_uid="alerts.evaluate_response")
