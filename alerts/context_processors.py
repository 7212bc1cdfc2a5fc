from functools import cache

from alerts.selectors import open_case_count
from tenancy.scoping import tenant_scope


def case_count(request) -> dict:
    """`my_open_case_count` for the navigation: the open cases assigned to the signed-in member.

    Only on organization pages, and lazily: the template calls it (once, the result is kept), so
    a page that does not show the navigation, an HTMX fragment say, runs no query. The scope is
    opened here because an error page may render after the view's scope has closed.
    """
    organization = getattr(request, "organization", None)
    user = getattr(request, "user", None)
    if organization is None or getattr(request, "actor", None) is None:
        return {}
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def count() -> int:
        with tenant_scope(organization):
            return open_case_count(organization=organization, user=user)

    return {"my_open_case_count": count}
