"""The Celery queues, one per class of work, each consumed by a worker pool of its own in
production (docker-compose.yml, docs/scaling.md), so one class never starves another: a slow mail
provider cannot hold up rollups, a purge cannot hold up a low score's alert.

Routes are matched in order, first match wins. Pure data: settings import it.
"""

DEFAULT = (
    "default"  # the response path's own work: spool drain, outbox relay, imports, sends' set-up
)
METRICS = "metrics"  # rollups
ALERTS = "alerts"  # evaluating a response or an aggregate against the alert rules
NOTIFICATIONS = "notifications"  # anything that talks to a provider: email, SMS, chat, webhooks
MAINTENANCE = "maintenance"  # periodic sweeps and purges (they only find work and queue it)

ALL = (DEFAULT, METRICS, ALERTS, NOTIFICATIONS, MAINTENANCE)

ROUTES = {
    # Sweeps that fan out per organization hand that work to its own pool.
    "metrics.tasks.sweep_organization": {"queue": METRICS},
    "alerts.tasks.sweep_organization_responses": {"queue": ALERTS},
    # Sweeps and purges: their names would otherwise match their app's pattern below.
    "*.tasks.purge_*": {"queue": MAINTENANCE},
    "*.tasks.sweep_*": {"queue": MAINTENANCE},
    "accounts.tasks.send_unsent_invitations": {"queue": MAINTENANCE},
    "distribution.tasks.resend_lost_sends": {"queue": MAINTENANCE},
    "alerts.tasks.escalate_overdue_cases": {"queue": MAINTENANCE},
    "alerts.tasks.resend_unsent_notifications": {"queue": MAINTENANCE},
    "reports.tasks.send_due_digests": {"queue": MAINTENANCE},
    "metrics.*": {"queue": METRICS},
    "alerts.tasks.evaluate_response": {"queue": ALERTS},
    "alerts.tasks.evaluate_pending_responses": {"queue": ALERTS},
    "alerts.tasks.evaluate_aggregate_rule": {"queue": ALERTS},
    "alerts.*": {"queue": NOTIFICATIONS},
    "reports.tasks.send_digest": {"queue": NOTIFICATIONS},
    "distribution.tasks.send_*": {"queue": NOTIFICATIONS},
    "webhooks.*": {"queue": NOTIFICATIONS},
}
