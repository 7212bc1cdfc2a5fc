"""Key the tables made before the sharding rule by (organization_id, id), with composite
foreign keys between them, and fill the handle directory from the rows that exist."""

from django.db import migrations

from core.tenant_keys import RekeyTenantTables

# The tables each handle lives in: (kind, table, handle column, row id column, condition).
HANDLES = [
    ("survey_link", "surveys_survey", "link_slug", "id", "true"),
    ("personal_link", "surveys_personallink", "token", "id", "true"),
    ("api_key", "accounts_apikey", "prefix", "id", "true"),
    ("member_invitation", "accounts_memberinvitation", "token_hash", "id", "true"),
    ("kiosk", "distribution_kiosk_handle", "token_hash", "device_id", "true"),
    ("share_link", "reports_sharelinkhandle", "token_hash", "share_link_id", "true"),
    (
        "provider_message",
        "distribution_invitation",
        "provider_message_id",
        "id",
        "provider_message_id <> ''",
    ),
    ("inbound_sms", "distribution_inboundsms", "message_sid", "id", "true"),
]


def fill_handles(apps, schema_editor):
    for kind, table, column, row_id, condition in HANDLES:
        schema_editor.execute(
            f"INSERT INTO core_handle (kind, value, organization_id, object_id) "
            f"SELECT %s, {column}, organization_id, {row_id} FROM {table} WHERE {condition} "
            f"ON CONFLICT DO NOTHING",
            [kind],
        )


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_handle_directory"),
        ("accounts", "0005_per_organization_unique"),
        ("tenancy", "0004_per_organization_unique"),
        ("journeys", "0002_per_organization_unique"),
        ("surveys", "0006_per_organization_unique"),
        ("distribution", "0009_per_organization_unique"),
        ("metrics", "0004_per_organization_unique"),
        ("alerts", "0001_initial"),
        ("webhooks", "0002_event_feed"),
        ("reports", "0002_export_jsonl"),
    ]

    operations = [
        RekeyTenantTables(
            {
                "tenancy.Membership": [],
                "accounts.ApiKey": [],
                "accounts.MemberInvitation": [],
                "core.ActivityLog": [],
                "core.IdempotencyKey": [],
                "journeys.Journey": [],
                "journeys.Stage": ["journey"],
                "journeys.Touchpoint": ["journey", "stage"],
                "journeys.MeasurementPlan": ["touchpoint"],
                "surveys.Survey": ["touchpoint", "current_version"],
                "surveys.SurveyVersion": ["survey"],
                "surveys.Question": ["version"],
                "surveys.PersonalLink": ["survey", "touchpoint"],
                "surveys.Response": ["survey", "version", "touchpoint", "personal_link"],
                "surveys.Answer": ["response", "question"],
                "distribution.Contact": [],
                "distribution.Segment": [],
                "distribution.ContactImport": [],
                "distribution.ContactImportError": ["contact_import"],
                "distribution.DistributionSettings": [],
                "distribution.Campaign": ["survey", "segment"],
                "distribution.Invitation": [
                    "contact", "survey", "touchpoint", "campaign", "personal_link"
                ],
                "distribution.InvitationEvent": ["invitation"],
                "distribution.SurveyEmailTemplate": ["survey"],
                "distribution.InboundSms": ["invitation"],
                "metrics.DailyRollup": ["touchpoint", "survey"],
                "metrics.DailyTotal": ["touchpoint", "survey"],
            }
        ),
        migrations.RunPython(fill_handles, migrations.RunPython.noop, elidable=True),
    ]
