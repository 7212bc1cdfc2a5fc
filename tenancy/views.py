"""The base of every page under /o/<org_slug>/: it resolves the tenant once and opens its scope."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from tenancy import policies
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.forms import OrganizationSettingsForm
from tenancy.policies import Policy
from tenancy.scoping import tenant_scope
from tenancy.selectors import activity_list, membership_for_user, membership_list
from tenancy.services import organization_update

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class OrganizationView(View):
    """Signed-in members only; another organization's pages and objects answer 404.

    Subclasses set `policy` and write get()/post(); they cannot override dispatch(), so no page
    can skip the membership check or run outside its organization's scope.
    """

    policy: Policy

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "dispatch" in cls.__dict__:
            raise TypeError(f"{cls.__name__} must not override dispatch(); tenancy depends on it")

    def dispatch(self, request, *args, org_slug: str, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = membership_for_user(user=request.user, organization_slug=org_slug)
        if membership is None:
            raise Http404
        self.organization = request.organization = membership.organization
        self.actor = request.actor = Actor.for_membership(membership)
        needed = self.policy.read if request.method in SAFE_METHODS else self.policy.write
        if not self.actor.can(needed):
            raise PermissionDenied
        with tenant_scope(self.organization):
            response = super().dispatch(request, *args, **kwargs)
            # Templates evaluate lazy querysets: render while the scope is still open.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        return response


class OrganizationHomeView(OrganizationView):
    """The organization's landing page: its members and where to go next."""

    policy = policies.ORGANIZATION

    def get(self, request, **kwargs):
        context = {
            "member_count": membership_list(organization=self.organization).count(),
            "role_label": Role(self.actor.role).label,
        }
        return render(request, "tenancy/home.html", context)


class OrganizationSettingsView(OrganizationView):
    policy = policies.Policy(
        read=policies.Permission.MANAGE_ORGANIZATION, write=policies.Permission.MANAGE_ORGANIZATION
    )
    template_name = "tenancy/settings.html"

    def get(self, request, **kwargs):
        return render(
            request,
            self.template_name,
            {"form": OrganizationSettingsForm(instance=self.organization)},
        )

    def post(self, request, **kwargs):
        form = OrganizationSettingsForm(request.POST, instance=self.organization)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        organization_update(actor=self.actor, organization=self.organization, **form.cleaned_data)
        messages.success(request, _("Settings saved."))
        return redirect("tenancy:settings", org_slug=self.organization.slug)


class ActivityLogView(OrganizationView):
    """The audit log: who did what, newest first, 50 to a page."""

    policy = policies.ACTIVITY

    def get(self, request, **kwargs):
        page = Paginator(activity_list(organization=self.organization), 50).get_page(
            request.GET.get("page")
        )
        return render(request, "tenancy/activity.html", {"page": page})
