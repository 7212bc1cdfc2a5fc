"""DRF views of journeys; API_ROUTES is registered under /api/v1/orgs/<org_slug>/ by cxplatform.api_urls."""

API_ROUTES: list[tuple[str, type, str]] = []  # (url prefix, viewset, basename)
