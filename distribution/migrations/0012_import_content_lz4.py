from django.db import migrations

from core.db.compression import lz4_for


class Migration(migrations.Migration):
    dependencies = [("distribution", "0011_organization_index_is_the_primary_key")]

    operations = [lz4_for("distribution_contactimport", "content")]
