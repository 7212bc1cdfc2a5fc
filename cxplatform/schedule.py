"""Every periodic task of the platform, in one place (read by Celery beat)."""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    "purge-expired-member-invitations": {
        "task": "accounts.tasks.purge_expired_invitations",
        "schedule": crontab(minute=17, hour=3),
    },
    "purge-idempotency-keys": {
        "task": "core.tasks.purge_idempotency_keys",
        "schedule": crontab(minute=7),
    },
    "purge-stale-contact-import-drafts": {
        "task": "distribution.tasks.purge_stale_import_drafts",
        "schedule": crontab(minute=37, hour=3),
    },
    "sweep-unprocessed-responses": {
        "task": "metrics.tasks.sweep_unprocessed_responses",
        "schedule": 300.0,
    },
    "send-unsent-member-invitations": {
        "task": "accounts.tasks.send_unsent_invitations",
        "schedule": 600.0,
    },
    # Distribution: resend lost invitation tasks, start scheduled campaigns, send reminders.
    "sweep-invitations": {
        "task": "distribution.tasks.sweep_invitations",
        "schedule": 120.0,
    },
}
