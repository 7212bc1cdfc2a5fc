"""Every write of the distribution app. Contacts and segments are re-exported here; the other
modules (invitations, configuration, importing, messaging, sms, email_events) are imported by
name, e.g. `from distribution.services import invitations`."""

from distribution.services.contacts import (
    contact_create,
    contact_erase,
    contact_export,
    contact_mark_bounced,
    contact_opt_in,
    contact_opt_out,
    contact_set_consent,
    contact_update,
)
from distribution.services.segments import segment_create, segment_delete, segment_update

__all__ = [
    "contact_create",
    "contact_erase",
    "contact_export",
    "contact_mark_bounced",
    "contact_opt_in",
    "contact_opt_out",
    "contact_set_consent",
    "contact_update",
    "segment_create",
    "segment_delete",
    "segment_update",
]
