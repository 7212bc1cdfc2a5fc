"""Survey.response_count: a counter the response path keeps, so the survey list stops counting
responses row by row. The backfill counts once per organization (the index on organization,
survey and submission time serves it)."""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    Organization = apps.get_model("tenancy", "Organization")
    Survey = apps.get_model("surveys", "Survey")
    Response = apps.get_model("surveys", "Response")
    for organization_id in Organization._base_manager.values_list("pk", flat=True):
        counted = (
            Response._base_manager.filter(organization_id=organization_id, survey=OuterRef("pk"))
            .order_by()
            .values("survey")
            .annotate(n=Count("id"))
            .values("n")
        )
        Survey._base_manager.filter(organization_id=organization_id).update(
            response_count=Coalesce(Subquery(counted), Value(0))
        )


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0001_initial"),
        ("tenancy", "0002_respondent_metadata_setting"),
    ]

    operations = [
        migrations.AddField(
            model_name="survey",
            name="response_count",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="responses"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
