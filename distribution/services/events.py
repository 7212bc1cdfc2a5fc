"""The parts of distribution's webhook events (docs/webhooks.md) that several services share."""

from distribution.models import Contact


def contact_webhook_data(contact: Contact) -> dict:
    """A contact in a webhook payload. `email` and `phone` reach only endpoints that include
    contact details (webhooks.services.event_emit keeps them apart)."""
    return {
        "id": contact.public_id,
        "external_id": contact.external_id,
        "email": contact.email,
        "phone": contact.phone,
    }
