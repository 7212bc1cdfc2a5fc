from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from surveys.models import Response
        from surveys.receivers import on_response_deleted

        post_delete.connect(
            on_response_deleted, sender=Response, dispatch_uid="surveys.response_count"
        )
