import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiKey, ApiKeyScope, MemberInvitation, User, hash_secret
from accounts.tasks import send_member_invitation
from core import handles
from core.exceptions import ApplicationError
from core.models import HandleKind
from core.services import activity_record
from core.tasks import enqueue_on_commit
from tenancy.actors import Actor
from tenancy.enums import Role
from tenancy.models import Membership, Organization
from tenancy.scoping import tenant_scope
from tenancy.services import membership_add, organization_create


@transaction.atomic
def user_create(*, email: str, password: str, full_name: str = "", language: str = "") -> User:
    """Create a person who can sign in. Raises ApplicationError when the email is taken."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ApplicationError(_("An account with this email exists already."), code="email_taken")
    return User.objects.create_user(
        email=email, password=password, full_name=full_name, language=language
    )


@transaction.atomic
def user_signup(
    *, email: str, password: str, full_name: str, organization_name: str, organization_slug: str
) -> tuple[User, Organization]:
    """Sign up: a new user and a new organization they own."""
    user = user_create(email=email, password=password, full_name=full_name)
    organization = organization_create(name=organization_name, slug=organization_slug, owner=user)
    return user, organization


@transaction.atomic
def api_key_create(
    *, actor: Actor, organization: Organization, name: str, scope: str
) -> tuple[ApiKey, str]:
    """Create an API key. Returns the key row and the full key, which is shown once and never stored."""
    if scope not in ApiKeyScope.values:
        raise ApplicationError(_("Unknown scope."), code="invalid_scope", extra={"field": "scope"})
    full_key, prefix, secret_hash = ApiKey.generate()
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        scope=scope,
        prefix=prefix,
        secret_hash=secret_hash,
        created_by=actor.user,
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="accounts.api_key.created",
        target=api_key,
        data={"scope": scope},
    )
    return api_key, full_key


@transaction.atomic
def api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    """Revoke a key at once; revoking twice changes nothing."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        activity_record(
            organization=api_key.organization,
            actor=actor,
            action="accounts.api_key.revoked",
            target=api_key,
        )
    return api_key


# Writing last_used_at on every request would turn reads into writes; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def api_key_touch(api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
        ApiKey.all_objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


@transaction.atomic
def invitation_create(
    *, actor: Actor, organization: Organization, email: str, role: str
) -> MemberInvitation:
    """Invite a colleague by email; the email is sent by a task after commit."""
    if role not in Role.values:
        raise ApplicationError(_("Unknown role."), code="invalid_role", extra={"field": "role"})
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise ApplicationError(
            _("Only an owner can invite an owner."), code="owner_only", extra={"field": "role"}
        )
    email = email.strip().lower()
    if Membership.objects.filter(organization=organization, user__email=email).exists():
        raise ApplicationError(
            _("%(email)s is a member already.") % {"email": email},
            code="already_member",
            extra={"field": "email"},
        )
    token = secrets.token_urlsafe(32)
    invitation = MemberInvitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=hash_secret(token),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(days=settings.MEMBER_INVITATION_DAYS),
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="accounts.invitation.created",
        target=invitation,
        data={"role": role},
    )
    enqueue_on_commit(
        send_member_invitation,
        organization_id=organization.pk,
        invitation_id=invitation.pk,
        token=token,
    )
    return invitation


def invitation_new_token(*, invitation: MemberInvitation) -> str:
    """Replace the invitation's token (only its hash is kept) and return the new one to email."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        MemberInvitation.objects.filter(
            organization_id=invitation.organization_id, pk=invitation.pk
        ).update(token_hash=hash_secret(token))
        invitation.token_hash = hash_secret(token)
        handles.replace(HandleKind.MEMBER_INVITATION, invitation, invitation.token_hash)
    return token


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation: MemberInvitation) -> None:
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        activity_record(
            organization=invitation.organization,
            actor=actor,
            action="accounts.invitation.revoked",
            target=invitation,
        )


@transaction.atomic
def invitation_accept(*, invitation: MemberInvitation, user: User):
    """Join the organization with the invited role. The invitation works once, before it expires."""
    invitation = MemberInvitation.all_objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise ApplicationError(
            _("This invitation has expired or was used already."), code="invitation_closed"
        )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    organization = invitation.organization
    actor = Actor(organization=organization, label=user.email, permissions=frozenset(), user=user)
    with tenant_scope(organization):
        return membership_add(
            actor=actor, organization=organization, user=user, role=invitation.role
        )


def password_check(password: str, user: User | None = None) -> None:
    validate_password(password, user)
