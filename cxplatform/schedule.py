"""Every periodic task of the platform, in one place (read by Celery beat)."""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    # Answers spooled in Redis while the database was down (surveys.spool).
    "drain-response-spool": {
        "task": "surveys.tasks.drain_response_spool",
        "schedule": 5.0,
    },
    # Tasks whose publish after commit was lost (core.outbox): sent within seconds.
    "relay-outbox": {
        "task": "core.tasks.relay_outbox",
        "schedule": 5.0,
    },
    "purge-expired-member-invitations": {
        "task": "accounts.tasks.purge_expired_invitations",
        "schedule": crontab(minute=17, hour=3),
    },
    "purge-idempotency-keys": {
        "task": "core.tasks.purge_idempotency_keys",
        "schedule": crontab(minute=7),
    },
    "sweep-contact-imports": {
        "task": "distribution.tasks.sweep_contact_imports",
        "schedule": 300.0,
    },
    "purge-stale-contact-import-drafts": {
        "task": "distribution.tasks.purge_stale_import_drafts",
        "schedule": crontab(minute=37, hour=3),
    },
    "sweep-response-imports": {
        "task": "surveys.tasks.sweep_response_imports",
        "schedule": 300.0,
    },
    # Work lost after its publish (a Redis restart without its file, a killed worker) is found
    # in the database by these sweeps and done within a minute.
    "sweep-unprocessed-responses": {
        "task": "metrics.tasks.sweep_unprocessed_responses",
        "schedule": 20.0,
    },
    "send-unsent-member-invitations": {
        "task": "accounts.tasks.send_unsent_invitations",
        "schedule": 30.0,
    },
    # Distribution: resend lost invitation tasks, start scheduled campaigns, send reminders.
    "resend-lost-sends": {
        "task": "distribution.tasks.resend_lost_sends",
        "schedule": 15.0,
    },
    "sweep-invitations": {
        "task": "distribution.tasks.sweep_invitations",
        "schedule": 120.0,
    },
    # Alerts: responses whose evaluation task was lost, aggregate rules, SLA escalation.
    "alerts-sweep-unchecked-responses": {
        "task": "alerts.tasks.sweep_unchecked_responses",
        "schedule": 20.0,
    },
    "alerts-sweep-aggregate-rules": {
        "task": "alerts.tasks.sweep_aggregate_rules",
        "schedule": 900.0,
    },
    "alerts-escalate-overdue-cases": {
        "task": "alerts.tasks.escalate_overdue_cases",
        "schedule": 300.0,
    },
    "alerts-resend-unsent-notifications": {
        "task": "alerts.tasks.resend_unsent_notifications",
        "schedule": 20.0,
    },
    # Reports: scheduled digests (each period claimed once), expired and lost export jobs.
    "send-due-digests": {
        "task": "reports.tasks.send_due_digests",
        "schedule": 900.0,
    },
    "sweep-exports": {
        "task": "reports.tasks.sweep_exports",
        "schedule": crontab(minute=47),
    },
    # Webhooks: due deliveries (first attempts whose task was lost, retries, replays), and
    # events, deliveries and attempts past their 30 days.
    "webhooks-sweep-deliveries": {
        "task": "webhooks.tasks.sweep_webhook_deliveries",
        "schedule": 5.0,
    },
    "webhooks-purge-history": {
        "task": "webhooks.tasks.purge_webhook_history",
        "schedule": crontab(minute=27, hour=3),
    },
}
