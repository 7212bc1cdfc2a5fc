from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views import View

from accounts import selectors, services
from accounts.forms import (
    AcceptInvitationForm,
    ApiKeyForm,
    InviteMemberForm,
    RoleForm,
    SignInForm,
    SignUpForm,
)
from core.exceptions import ApplicationError
from core.forms import add_application_error
from tenancy import policies
from tenancy.enums import Role
from tenancy.selectors import access_membership, membership_list, memberships_of_user
from tenancy.services import membership_change_role, membership_remove
from tenancy.views import OrganizationView


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


class SignUpView(View):
    template_name = "accounts/signup.html"

    def get(self, request):
        return render(request, self.template_name, {"form": SignUpForm()})

    def post(self, request):
        form = SignUpForm(request.POST)
        if form.is_valid():
            try:
                user, organization = services.user_signup(**form.cleaned_data)
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("tenancy:home", org_slug=organization.slug)
        return render(request, self.template_name, {"form": form}, status=400)


class HomeView(View):
    """The root: the user's first organization, or sign-in."""

    def get(self, request):
        if not request.user.is_authenticated:
            return redirect("accounts:login")
        memberships = memberships_of_user(request.user)
        if not memberships:
            return render(request, "accounts/no_organization.html")
        return redirect("tenancy:home", org_slug=memberships[0].organization.slug)


class InvitationAcceptView(View):
    template_name = "accounts/invitation_accept.html"

    def _context(self, invitation, form=None):
        return {"invitation": invitation, "form": form}

    def get(self, request, token: str):
        invitation = selectors.invitation_for_token(token)
        form = None if request.user.is_authenticated else AcceptInvitationForm()
        status = 200 if invitation and invitation.is_open else 410
        return render(request, self.template_name, self._context(invitation, form), status=status)

    def post(self, request, token: str):
        invitation = selectors.invitation_for_token(token)
        if invitation is None or not invitation.is_open:
            return render(request, self.template_name, self._context(invitation), status=410)
        form = None
        user = request.user if request.user.is_authenticated else None
        if user is None:
            form = AcceptInvitationForm(request.POST)
            if not form.is_valid():
                return render(
                    request, self.template_name, self._context(invitation, form), status=400
                )
            try:
                user = services.user_create(
                    email=invitation.email,
                    password=form.cleaned_data["password"],
                    full_name=form.cleaned_data["full_name"],
                )
            except ApplicationError as error:
                add_application_error(form, error)
                return render(
                    request, self.template_name, self._context(invitation, form), status=400
                )
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        try:
            services.invitation_accept(invitation=invitation, user=user)
        except ApplicationError as error:
            messages.error(request, error.message)
            return render(request, self.template_name, self._context(invitation, form), status=410)
        messages.success(
            request, _("Welcome to %(name)s.") % {"name": invitation.organization.name}
        )
        return redirect("tenancy:home", org_slug=invitation.organization.slug)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    html_email_template_name = "accounts/email/password_reset.html"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def assignable_roles(actor) -> list[tuple[str, str]]:
    """Only owners make owners; the others are not offered what would be refused."""
    return [
        choice for choice in Role.choices if choice[0] != Role.OWNER or actor.role == Role.OWNER
    ]


class MembersView(OrganizationView):
    """Members, their roles, and open invitations; admins invite, change roles and remove."""

    policy = policies.MEMBERS
    template_name = "accounts/members.html"

    def _context(self, invite_form=None):
        can_manage = self.actor.can(policies.Permission.MANAGE_MEMBERS)
        return {
            "memberships": membership_list(organization=self.organization),
            "invitations": selectors.invitation_open_list(organization=self.organization)
            if can_manage
            else [],
            "invite_form": invite_form
            or InviteMemberForm(may_invite_owner=self.actor.role == Role.OWNER),
            "role_choices": assignable_roles(self.actor),
            "can_manage": can_manage,
        }

    def get(self, request, **kwargs):
        return render(request, self.template_name, self._context())

    def post(self, request, **kwargs):
        form = InviteMemberForm(request.POST, may_invite_owner=self.actor.role == Role.OWNER)
        if form.is_valid():
            try:
                services.invitation_create(
                    actor=self.actor, organization=self.organization, **form.cleaned_data
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % form.cleaned_data)
                return redirect("accounts:members", org_slug=self.organization.slug)
        return render(request, self.template_name, self._context(form), status=400)


class MemberRoleView(OrganizationView):
    policy = policies.Policy(
        read=policies.Permission.MANAGE_MEMBERS, write=policies.Permission.MANAGE_MEMBERS
    )

    def post(self, request, public_id: str, **kwargs):
        membership = access_membership(organization=self.organization, public_id=public_id)
        form = RoleForm(request.POST)
        error_message = None
        if form.is_valid():
            try:
                membership = membership_change_role(
                    actor=self.actor, membership=membership, **form.cleaned_data
                )
            except ApplicationError as error:
                error_message = error.message
        else:
            error_message = _("Choose a role.")
        if request.htmx:
            context = {
                "m": membership,
                "role_choices": assignable_roles(self.actor),
                "can_manage": True,
                "row_error": error_message,
            }
            return render(
                request,
                "accounts/partials/member_row.html",
                context,
                status=400 if error_message else 200,
            )
        if error_message:
            messages.error(request, error_message)
        else:
            messages.success(request, _("Role changed."))
        return redirect("accounts:members", org_slug=self.organization.slug)


class MemberRemoveView(OrganizationView):
    policy = policies.Policy(
        read=policies.Permission.MANAGE_MEMBERS, write=policies.Permission.MANAGE_MEMBERS
    )
    template_name = "accounts/member_remove.html"

    def get(self, request, public_id: str, **kwargs):
        membership = access_membership(organization=self.organization, public_id=public_id)
        return render(request, self.template_name, {"m": membership})

    def post(self, request, public_id: str, **kwargs):
        membership = access_membership(organization=self.organization, public_id=public_id)
        try:
            membership_remove(actor=self.actor, membership=membership)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(user)s was removed.") % {"user": membership.user.email})
        if membership.user_id == request.user.pk:
            return redirect("home")
        return redirect("accounts:members", org_slug=self.organization.slug)


class InvitationRevokeView(OrganizationView):
    policy = policies.Policy(
        read=policies.Permission.MANAGE_MEMBERS, write=policies.Permission.MANAGE_MEMBERS
    )

    def post(self, request, public_id: str, **kwargs):
        invitation = selectors.access_invitation(
            organization=self.organization, public_id=public_id
        )
        services.invitation_revoke(actor=self.actor, invitation=invitation)
        messages.success(request, _("Invitation withdrawn."))
        return redirect("accounts:members", org_slug=self.organization.slug)


class ApiKeysView(OrganizationView):
    policy = policies.API_KEYS
    template_name = "accounts/api_keys.html"

    def _render(self, request, form=None, new_key=None, status=200):
        context = {
            "api_keys": selectors.api_key_list(organization=self.organization),
            "form": form or ApiKeyForm(),
            "new_key": new_key,
            "docs_url": reverse("api-docs"),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        return self._render(request)

    def post(self, request, **kwargs):
        form = ApiKeyForm(request.POST)
        if not form.is_valid():
            return self._render(request, form=form, status=400)
        api_key, full_key = services.api_key_create(
            actor=self.actor, organization=self.organization, **form.cleaned_data
        )
        # The full key is shown on this one response only; it is never stored or shown again.
        return self._render(request, new_key={"key": full_key, "api_key": api_key})


class ApiKeyRevokeView(OrganizationView):
    policy = policies.API_KEYS

    def post(self, request, public_id: str, **kwargs):
        api_key = selectors.access_api_key(organization=self.organization, public_id=public_id)
        services.api_key_revoke(actor=self.actor, api_key=api_key)
        messages.success(request, _("Key %(prefix)s revoked.") % {"prefix": api_key.prefix})
        return redirect("accounts:api_keys", org_slug=self.organization.slug)
