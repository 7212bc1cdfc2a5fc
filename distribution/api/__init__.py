"""DRF views of the distribution app; API_ROUTES is registered under /api/v1/orgs/<org_slug>/ by
cxplatform.api_urls."""

from distribution.api.configuration import ROUTES as CONFIGURATION_ROUTES
from distribution.api.contacts import ROUTES as CONTACT_ROUTES
from distribution.api.invitations import ROUTES as INVITATION_ROUTES
from distribution.api.kiosks import ROUTES as KIOSK_ROUTES
from distribution.api.segments import ROUTES as SEGMENT_ROUTES

API_ROUTES: list[tuple[str, type, str]] = [
    *CONTACT_ROUTES,
    *SEGMENT_ROUTES,
    *INVITATION_ROUTES,
    *CONFIGURATION_ROUTES,
    *KIOSK_ROUTES,
]
