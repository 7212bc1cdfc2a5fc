"""`all_objects` (the unscoped manager) only where a tenant is not known yet or all are meant.

Everywhere else code reads through the scoped default manager, which raises outside
`tenant_scope()`: a forgotten organization filter fails loudly instead of leaking. A new use of
`all_objects` fails this test until it is added below with the reason it is safe.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "core",
    "tenancy",
    "accounts",
    "journeys",
    "surveys",
    "distribution",
    "metrics",
    "alerts",
    "reports",
    "webhooks",
]

ALLOWED = {
    # Before the tenant is known: an API key, a personal link, a share link, an invitation token.
    "accounts/authentication.py": "resolves an API key to its organization",
    "accounts/selectors.py": "a member invitation is found by its token",
    "accounts/services.py": "API key use stamp and invitation acceptance by token",
    "tenancy/selectors.py": "a user's memberships across the organizations they belong to",
    "surveys/selectors.py": "a respondent's link is resolved before the organization is known",
    "distribution/services/sms.py": "an inbound SMS or status callback names a phone number, not a tenant",
    "distribution/services/email_events.py": "a provider's event names a message id, not a tenant",
    "distribution/views/invitations.py": "an unsubscribe link is resolved before the tenant is known",
    "distribution/services/invitations.py": "delivery reports and answers arrive by webhook or sweep, before a scope",
    "distribution/services/messaging.py": "emails are rendered by sweeps and previews, filtered by organization",
    "distribution/services/configuration.py": "a sender number must belong to no other organization",
    "distribution/selectors.py": "a kiosk token is resolved through its handle before the tenant is known",
    "surveys/receivers.py": "a deleted response's counter, whatever deleted it (admin, GDPR erase)",
    "reports/exports.py": "export chunks stream after the view returned, filtered by organization",
    # Periodic sweeps fan out per organization; they only list the organizations with work.
    "accounts/tasks.py": "purges expired member invitations of every organization",
    "reports/tasks.py": "fans digests and export clean-ups out per organization",
    "alerts/tasks.py": "fans the unchecked-response sweep out per organization",
    "metrics/tasks.py": "fans the unprocessed-response sweep out per organization",
    "distribution/tasks.py": "fans invitation sweeps out per organization",
    "surveys/tasks.py": "fans import sweeps out per organization",
    "webhooks/tasks.py": "purges 30-day-old webhook history of every organization",
    "webhooks/delivery.py": "the delivery sweep lists the organizations with deliveries due",
    "webhooks/services.py": "events are emitted by services that may run before a scope "
    "(provider webhooks); every statement filters by the organization",
    # The manager itself, admin, and idempotency keys that span endpoints.
    "core/models.py": "declares the managers",
    "core/admin.py": "staff see every organization",
    "core/idempotency.py": "stored answers are keyed by the credential's organization",
    "core/outbox.py": "the relay sends every organization's lost tasks; each row keeps its organization",
    "core/scoping.py": "no_rows(): an empty queryset for the OpenAPI schema, built with no tenant",
}

USE = re.compile(r"\ball_objects\b")


def python_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_unscoped_manager_only_where_a_reason_is_given():
    unexpected = {}
    for path in python_files():
        relative = path.relative_to(ROOT).as_posix()
        count = len(USE.findall(path.read_text(encoding="utf-8")))
        if count and relative not in ALLOWED:
            unexpected[relative] = count
    assert not unexpected, f"all_objects used without a reason in ALLOWED: {unexpected}"


def test_every_allowed_file_still_needs_it():
    unused = [name for name in ALLOWED if not USE.search((ROOT / name).read_text(encoding="utf-8"))]
    assert not unused, f"no longer uses all_objects; drop it from ALLOWED: {unused}"
