"""What every alerts page shares: the policies, the members to choose from, safe redirects."""

from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from alerts import page_selectors
from tenancy import policies
from tenancy.views import OrganizationView

CASES = policies.CASES
# Rules are built like surveys; the case settings are the organization's settings.
RULES = policies.Policy(read=policies.Permission.VIEW, write=policies.Permission.BUILD)
RULE_EDIT = policies.Policy(read=policies.Permission.BUILD, write=policies.Permission.BUILD)
CASE_SETTINGS = policies.Policy(
    read=policies.Permission.VIEW, write=policies.Permission.MANAGE_ORGANIZATION
)
# Root causes and improvement items are kept by the people who handle cases.
TAXONOMY_EDIT = policies.Policy(
    read=policies.Permission.HANDLE_CASES, write=policies.Permission.HANDLE_CASES
)
# Every member keeps their own alert settings (a viewer may own a touchpoint too).
OWN_SETTINGS = policies.Policy(read=policies.Permission.VIEW, write=policies.Permission.VIEW)

PAGE_SIZE = 50


class AlertsView(OrganizationView):
    policy = CASES

    @property
    def can_handle(self) -> bool:
        return self.actor.can(policies.Permission.HANDLE_CASES)

    def members(self):
        return page_selectors.member_users(organization=self.organization)

    def redirect_back(self, request, fallback: str, *args):
        """To the `next` address the form carried when it is ours, else to `fallback`."""
        target = request.POST.get("next") or ""
        if target.startswith(f"/o/{self.organization.slug}/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(target)
        return redirect(fallback, self.organization.slug, *args)


def local_time(organization):
    """Times shown and typed on these pages are the organization's local time."""
    return timezone.override(organization.zone)
