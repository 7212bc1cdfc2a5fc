"""DRF views of the alerts app; API_ROUTES is registered under /api/v1/orgs/<org_slug>/ by
cxplatform.api_urls.

Alert rules are written with the build permission, cases and their taxonomy with the
handle-cases permission, the case settings by admins only; read-only keys get 403 on every write
and another organization's key or ids get 404. Every operation is tagged per resource in the
OpenAPI schema.
"""

from alerts.api.case_settings import ROUTES as CASE_SETTINGS_ROUTES
from alerts.api.cases import ROUTES as CASE_ROUTES
from alerts.api.improvements import ROUTES as IMPROVEMENT_ROUTES
from alerts.api.rules import ROUTES as RULE_ROUTES

API_ROUTES: list[tuple[str, type, str]] = [
    *RULE_ROUTES,
    *CASE_ROUTES,
    *IMPROVEMENT_ROUTES,
    *CASE_SETTINGS_ROUTES,
]
