import re
import secrets
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import MemberInvitation, User, hash_secret
from core.models import ActivityLog
from tenancy.enums import Role
from tenancy.models import Membership
from tests.conftest import client_for
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db

MEMBERS = "/o/acme/members/"
NEW_PASSWORD = "a-long-and-unusual-passphrase-42"
LINK = re.compile(r"https?://[^\s\"<>]+/accounts/invitations/[\w-]+/")


@pytest.fixture
def eager_tasks(settings):
    """Celery tasks run in-process, as soon as they are sent."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def invite(eager_tasks, smtp_outbox, django_capture_on_commit_callbacks):
    """Send an invitation through the members page; the email goes out after the commit."""

    def send(client: Client, email: str, role: str = Role.VIEWER):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(MEMBERS, {"email": email, "role": role})

    return send


def link_path(url: str) -> str:
    return urlparse(url).path


def membership(org, user) -> Membership | None:
    return Membership.all_objects.filter(organization=org, user=user).first()


def make_invitation(org, *, email="late@example.com", role=Role.ANALYST, **fields) -> str:
    """An invitation made directly in the database; returns its link's path."""
    token = secrets.token_urlsafe(32)
    MemberInvitation.all_objects.create(
        organization=org,
        email=email,
        role=role,
        token_hash=hash_secret(token),
        expires_at=fields.pop("expires_at", timezone.now() + timedelta(days=7)),
        **fields,
    )
    return f"/accounts/invitations/{token}/"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Inviting


def test_invited_colleague_gets_an_email_whose_link_creates_their_account_with_the_role(
    org, personas, owner_client, invite, smtp_outbox
):
    response = invite(owner_client, "New.Person@Example.com", Role.CX_MANAGER)
    assert response.status_code == 302

    message = smtp_outbox.wait_for(1)[0]
    assert message.to == ["new.person@example.com"]
    assert "Acme Oy" in message.subject
    url = LINK.search(message.text).group(0)
    assert url in message.html
    assert url.startswith("http://127.0.0.1:8000/")  # PUBLIC_BASE_URL, not the request's host
    invitation = MemberInvitation.all_objects.get(organization=org)
    assert invitation.token_hash == hash_secret(link_path(url).rstrip("/").rsplit("/", 1)[1])

    colleague = Client()
    page = colleague.get(link_path(url))
    assert page.status_code == 200
    assert "Join Acme Oy" in page.content.decode()

    accepted = colleague.post(link_path(url), {"full_name": "New Person", "password": NEW_PASSWORD})
    assert accepted.status_code == 302
    assert accepted["Location"] == "/o/acme/"
    user = User.objects.get(email="new.person@example.com")
    assert user.full_name == "New Person"
    assert membership(org, user).role == Role.CX_MANAGER
    assert colleague.get("/o/acme/").status_code == 200
    later = Client()
    later.post("/accounts/login/", {"username": "new.person@example.com", "password": NEW_PASSWORD})
    assert "_auth_user_id" in later.session
    actions = set(ActivityLog.all_objects.filter(organization=org).values_list("action", flat=True))
    assert {"accounts.invitation.created", "tenancy.membership.added"} <= actions


def test_an_invitation_link_works_once(org, personas, owner_client, invite, smtp_outbox):
    invite(owner_client, "once@example.com", Role.VIEWER)
    path = link_path(LINK.search(smtp_outbox.wait_for(1)[0].text).group(0))
    Client().post(path, {"full_name": "Once", "password": NEW_PASSWORD})

    someone_else = Client()
    assert someone_else.get(path).status_code == 410
    again = someone_else.post(path, {"full_name": "Twice", "password": NEW_PASSWORD})
    assert again.status_code == 410
    assert "can no longer be used" in again.content.decode()
    assert User.objects.get(email="once@example.com").full_name == "Once"


def test_an_expired_invitation_answers_410_and_creates_nobody(org):
    path = make_invitation(org, expires_at=timezone.now() - timedelta(minutes=1))

    page = Client().get(path)
    assert page.status_code == 410
    assert "can no longer be used" in page.content.decode()
    refused = Client().post(path, {"full_name": "Late", "password": NEW_PASSWORD})
    assert refused.status_code == 410
    assert not User.objects.filter(email="late@example.com").exists()


def test_an_unknown_invitation_link_answers_410():
    assert Client().get("/accounts/invitations/not-a-real-token/").status_code == 410


def test_a_withdrawn_invitation_no_longer_works_and_leaves_the_waiting_list(
    org, personas, owner_client, invite, smtp_outbox
):
    invite(owner_client, "withdrawn@example.com", Role.VIEWER)
    path = link_path(LINK.search(smtp_outbox.wait_for(1)[0].text).group(0))
    invitation = MemberInvitation.all_objects.get(organization=org)
    assert "withdrawn@example.com" in owner_client.get(MEMBERS).content.decode()

    response = owner_client.post(f"/o/acme/invitations/{invitation.public_id}/revoke/")

    assert response.status_code == 302
    assert "withdrawn@example.com" not in owner_client.get(MEMBERS).content.decode()
    assert Client().get(path).status_code == 410


def test_a_signed_in_person_accepts_an_invitation_into_a_second_organization(
    org, other_org, personas
):
    path = make_invitation(org, email=personas.outsider.email, role=Role.ANALYST)
    outsider = client_for(personas.outsider)

    page = outsider.get(path)
    assert "You are signed in as" in page.content.decode()
    response = outsider.post(path)

    assert response["Location"] == "/o/acme/"
    assert membership(org, personas.outsider).role == Role.ANALYST
    assert membership(other_org, personas.outsider).role == Role.OWNER
    assert outsider.get("/o/acme/").status_code == 200


def test_someone_with_an_account_who_is_not_signed_in_is_told_so_on_the_invitation(org, personas):
    path = make_invitation(org, email=personas.outsider.email)
    response = Client().post(path, {"full_name": "Impostor", "password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "An account with this email exists already" in response.content.decode()
    assert membership(org, personas.outsider) is None
    assert personas.outsider.__class__.objects.get(pk=personas.outsider.pk).check_password(PASSWORD)


def test_a_weak_password_on_the_invitation_page_is_refused_and_the_link_stays_usable(org):
    path = make_invitation(org)
    assert Client().post(path, {"full_name": "W", "password": "password"}).status_code == 400
    assert Client().get(path).status_code == 200


def test_inviting_an_existing_member_is_refused_on_the_form(personas, owner_client, invite):
    response = invite(owner_client, personas.viewer.email.upper(), Role.ADMIN)
    assert response.status_code == 400
    assert "is a member already" in response.content.decode()
    assert not MemberInvitation.all_objects.exists()


def test_only_an_owner_can_invite_an_owner(org, personas, invite, smtp_outbox):
    admin = client_for(personas.admin)
    invite_select = (
        admin.get(MEMBERS).content.decode().split('id="id_role"')[1].split("</select>")[0]
    )
    assert 'value="owner"' not in invite_select
    assert 'value="admin"' in invite_select

    refused = invite(admin, "boss@example.com", Role.OWNER)
    assert refused.status_code == 400
    assert not MemberInvitation.all_objects.exists()

    accepted = invite(client_for(personas.owner), "boss@example.com", Role.OWNER)
    assert accepted.status_code == 302
    assert MemberInvitation.all_objects.get().role == Role.OWNER
    smtp_outbox.wait_for(1)


def test_an_admin_can_invite_other_roles(org, personas, invite, smtp_outbox):
    response = invite(client_for(personas.admin), "helper@example.com", Role.ADMIN)
    assert response.status_code == 302
    assert smtp_outbox.wait_for(1)[0].to == ["helper@example.com"]


@pytest.mark.parametrize("persona", ["viewer", "analyst", "cx_manager"])
def test_members_without_the_manage_permission_cannot_invite(personas, invite, persona):
    client = client_for(getattr(personas, persona))
    page = client.get(MEMBERS).content.decode()
    assert "Invite a colleague" not in page
    assert 'name="role"' not in page
    assert invite(client, "sneaky@example.com", Role.OWNER).status_code == 403
    assert not MemberInvitation.all_objects.exists()


def test_an_invalid_email_address_sends_nothing(personas, owner_client, invite, smtp_outbox):
    invite(owner_client, "not-an-email", Role.VIEWER)
    assert smtp_outbox.settle() == []


# Managing members


def role_url(member_membership) -> str:
    return f"/o/acme/members/{member_membership.public_id}/role/"


def remove_url(member_membership) -> str:
    return f"/o/acme/members/{member_membership.public_id}/remove/"


def test_an_admin_changes_a_members_role(org, personas):
    target = membership(org, personas.cx_manager)
    admin = client_for(personas.admin)

    response = admin.post(role_url(target), {"role": Role.ANALYST}, follow=True)

    assert response.status_code == 200
    assert "Role changed." in messages_of(response)
    target.refresh_from_db()
    assert target.role == Role.ANALYST
    assert ActivityLog.all_objects.filter(
        organization=org, action="tenancy.membership.role_changed", object_id=target.public_id
    ).exists()


def test_changing_a_role_with_htmx_returns_only_the_updated_row(org, personas):
    target = membership(org, personas.viewer)
    response = client_for(personas.admin).post(
        role_url(target), {"role": Role.ANALYST}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    html = response.content.decode().strip()
    assert html.startswith(f'<tr id="member-{target.public_id}">')
    assert "<html" not in html
    assert '<option value="analyst" selected>' in html
    target.refresh_from_db()
    assert target.role == Role.ANALYST


def test_demoting_the_last_owner_with_htmx_shows_the_reason_in_the_row(org, personas):
    owner = membership(org, personas.owner)
    response = client_for(personas.owner).post(
        role_url(owner), {"role": Role.ADMIN}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "An organization needs at least one owner." in html
    assert 'role="alert"' in html
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_the_last_owner_cannot_be_demoted(org, personas):
    owner = membership(org, personas.owner)
    response = client_for(personas.owner).post(role_url(owner), {"role": Role.VIEWER}, follow=True)
    assert "An organization needs at least one owner." in messages_of(response)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_the_last_owner_cannot_be_removed(org, personas):
    owner = membership(org, personas.owner)
    response = client_for(personas.owner).post(remove_url(owner), follow=True)
    assert "An organization needs at least one owner." in messages_of(response)
    assert membership(org, personas.owner) is not None


def test_an_owner_can_step_down_once_there_is_another_owner(org, personas):
    second = membership(org, personas.admin)
    owner_client = client_for(personas.owner)
    owner_client.post(role_url(second), {"role": Role.OWNER})
    first = membership(org, personas.owner)

    owner_client.post(role_url(first), {"role": Role.ADMIN})

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.role, second.role) == (Role.ADMIN, Role.OWNER)


def test_an_admin_cannot_change_an_owner_or_make_one(org, personas):
    admin = client_for(personas.admin)
    owner = membership(org, personas.owner)
    viewer = membership(org, personas.viewer)

    demote = admin.post(role_url(owner), {"role": Role.VIEWER}, follow=True)
    promote = admin.post(role_url(viewer), {"role": Role.OWNER}, follow=True)
    remove = admin.post(remove_url(owner), follow=True)

    assert "Only an owner can change an owner's role or make an owner." in messages_of(demote)
    assert "Only an owner can change an owner's role or make an owner." in messages_of(promote)
    assert "Only an owner can change an owner's role or make an owner." in messages_of(remove)
    owner.refresh_from_db()
    viewer.refresh_from_db()
    assert (owner.role, viewer.role) == (Role.OWNER, Role.VIEWER)


def test_an_unknown_role_is_refused(org, personas):
    target = membership(org, personas.viewer)
    response = client_for(personas.admin).post(
        role_url(target), {"role": "emperor"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    target.refresh_from_db()
    assert target.role == Role.VIEWER


def test_removing_a_member_takes_away_their_access(org, personas):
    viewer_client = client_for(personas.viewer)
    assert viewer_client.get("/o/acme/").status_code == 200
    target = membership(org, personas.viewer)
    admin = client_for(personas.admin)

    assert personas.viewer.email in admin.get(remove_url(target)).content.decode()
    response = admin.post(remove_url(target), follow=True)

    assert f"{personas.viewer.email} was removed." in messages_of(response)
    assert membership(org, personas.viewer) is None
    assert viewer_client.get("/o/acme/").status_code == 404
    assert viewer_client.get(MEMBERS).status_code == 404
    assert "You are not in any organization" in viewer_client.get("/").content.decode()
    assert ActivityLog.all_objects.filter(
        organization=org, action="tenancy.membership.removed"
    ).exists()


def test_an_owner_who_leaves_goes_to_their_remaining_organizations(org, other_org, personas):
    MembershipFactory(organization=other_org, user=personas.owner, role=Role.VIEWER)
    owner_client = client_for(personas.owner)
    owner_client.post(role_url(membership(org, personas.admin)), {"role": Role.OWNER})

    response = owner_client.post(remove_url(membership(org, personas.owner)))

    assert response["Location"] == "/"
    assert owner_client.get("/")["Location"] == "/o/rival/"


def test_members_of_another_organization_cannot_be_touched_through_this_one(
    org, other_org, personas
):
    foreign = membership(other_org, personas.outsider)
    admin = client_for(personas.admin)
    assert admin.post(role_url(foreign), {"role": Role.VIEWER}).status_code == 404
    assert admin.post(remove_url(foreign)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.OWNER


def test_the_members_page_lists_members_of_this_organization_only(personas, owner_client):
    html = owner_client.get(MEMBERS).content.decode()
    for person in (personas.owner, personas.admin, personas.viewer):
        assert person.email in html
    assert personas.outsider.email not in html


def test_the_members_page_does_not_query_per_member(org, personas, owner_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(MEMBERS).status_code == 200
        return len(captured)

    few = queries()
    for n in range(8):
        user = User.objects.create(email=f"extra{n}@example.com")
        MembershipFactory(organization=org, user=user, role=Role.ANALYST)
    assert queries() == few


def test_the_members_page_query_count_is_pinned(
    personas, owner_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = owner_client.get(MEMBERS)
    assert response.status_code == 200
