from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKeyScope, User
from tenancy.enums import Role
from tenancy.models import Organization


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        # Emails are stored lower-case (UserManager.create_user); sign-in matches them exactly.
        return self.cleaned_data["username"].strip().lower()


class PasswordFields(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class SignUpForm(PasswordFields):
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    organization_name = forms.CharField(label=_("Organization"), max_length=200)
    organization_slug = forms.SlugField(
        label=_("Short name in addresses"),
        max_length=50,
        required=False,
        help_text=_(
            "Letters, digits and hyphens, e.g. acme. Left empty, it is made from the name."
        ),
    )
    field_order = ["full_name", "email", "password", "organization_name", "organization_slug"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(
                _("An account with this email exists already. Sign in instead.")
            )
        return email

    def clean(self):
        cleaned = super().clean()
        slug = (
            cleaned.get("organization_slug") or slugify(cleaned.get("organization_name", ""))[:50]
        )
        if not slug:
            self.add_error("organization_slug", _("Choose a short name of letters and digits."))
        elif Organization.objects.filter(slug=slug).exists():
            self.add_error("organization_slug", _("That short name is taken; choose another."))
        cleaned["organization_slug"] = slug
        return cleaned


class AcceptInvitationForm(PasswordFields):
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    field_order = ["full_name", "password"]


class InviteMemberForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)

    def __init__(self, *args, may_invite_owner: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_invite_owner:
            self.fields["role"].choices = [c for c in Role.choices if c[0] != Role.OWNER]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What uses the key, e.g. CRM sync.")
    )
    scope = forms.ChoiceField(
        label=_("Scope"), choices=ApiKeyScope.choices, initial=ApiKeyScope.READ
    )
