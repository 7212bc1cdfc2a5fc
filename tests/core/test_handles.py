"""The handle directory (core.handles): a value a request carries before its organization is
known (a survey's link slug, a personal link's token, an API key's prefix, the hash of a member
invitation's, kiosk's or share link's token, a provider's message id) names one organization's
row, and stays unique across organizations although tenant tables keep it unique only within
their own (issue 18, point 5)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from accounts.authentication import _api_key_for as api_key_for
from accounts.models import ApiKey, hash_secret
from accounts.selectors import invitation_for_token
from core import handles
from core.models import Handle, HandleKind
from distribution.models import kiosk_token_hash
from distribution.selectors import kiosk_device_for_token
from surveys.models import Survey
from surveys.selectors import personal_link_for_token, survey_for_link_slug
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def make_survey(**fields) -> Survey:
    return Survey.all_objects.create(name="Checkout", **fields)


def test_a_link_slug_finds_its_own_organizations_survey(org, other_org):
    ours, theirs = make_survey(organization=org), make_survey(organization=other_org)
    assert survey_for_link_slug(ours.link_slug) == ours
    assert survey_for_link_slug(theirs.link_slug) == theirs
    assert survey_for_link_slug("no-such-slug") is None
    assert survey_for_link_slug("x" * 500) is None
    found = handles.resolve(HandleKind.SURVEY_LINK, theirs.link_slug)
    assert (found.organization_id, found.object_id) == (other_org.pk, theirs.pk)


def test_a_handle_is_unique_across_organizations_where_the_table_is_not(org, other_org):
    ours = make_survey(organization=org)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_survey(organization=other_org, link_slug=ours.link_slug)
    # The table alone (sharded by organization) would take the same slug in another one:
    # the directory is what keeps a link pointing at one survey.
    Survey.all_objects.bulk_create(
        [Survey(organization=other_org, name="copy", link_slug=ours.link_slug)]
    )
    assert survey_for_link_slug(ours.link_slug) == ours


def test_a_released_handle_stops_resolving_and_a_replaced_one_moves(org):
    survey = make_survey(organization=org)
    handles.replace(HandleKind.SURVEY_LINK, survey, "new-slug")
    assert handles.resolve(HandleKind.SURVEY_LINK, survey.link_slug) is None
    assert handles.resolve(HandleKind.SURVEY_LINK, "new-slug").object_id == survey.pk
    handles.release(HandleKind.SURVEY_LINK, survey)
    assert not Handle.objects.filter(organization=org).exists()


def test_deleting_an_organization_deletes_its_handles(other_org):
    doomed = OrganizationFactory(slug="doomed")
    make_survey(organization=doomed)
    make_survey(organization=other_org)
    with transaction.atomic():
        Survey.all_objects.filter(organization=doomed).delete()
        doomed.delete()
    assert list(Handle.objects.values_list("organization_id", flat=True)) == [other_org.pk]


# Every app at its last migration before the directory and the composite keys came in.
BEFORE = [
    ("tenancy", "0003_embed_allowed_origins"),
    ("core", "0003_outbox"),
    ("accounts", "0004_api_key_rate_limit"),
    ("journeys", "0001_initial"),
    ("surveys", "0005_lean_indexes"),
    ("distribution", "0008_invitations_awaiting"),
    ("metrics", "0003_rollup_survey_day"),
    ("reports", "0002_export_jsonl"),
    ("alerts", "0001_initial"),
    ("webhooks", "0002_event_feed"),
]


@pytest.mark.django_db(transaction=True)
def test_links_and_keys_made_before_the_directory_keep_working():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        made = _rows_of_the_old_schema(executor.loader.project_state(BEFORE).apps)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert survey_for_link_slug(made["slug"]).pk == made["survey"]
    assert personal_link_for_token(made["token"]).pk == made["link"]
    assert invitation_for_token(made["invitation_token"]).pk == made["invitation"]
    assert kiosk_device_for_token(made["kiosk_token"]).pk == made["kiosk"]
    share = handles.resolve(HandleKind.SHARE_LINK, made["share_hash"])
    assert (share.organization_id, share.object_id) == (made["organization"], made["share"])
    message = handles.resolve(HandleKind.PROVIDER_MESSAGE, "SMold-message")
    assert message.object_id == made["sent"]
    prefix = made["key"].split(".")[0]
    assert api_key_for(prefix, None).pk == made["api_key"]  # through the directory
    response = Client().get("/api/v1/orgs/old/surveys/", HTTP_AUTHORIZATION=f"Bearer {made['key']}")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [made["survey_public_id"]]
    # And the old organization takes new rows under the new keys.
    assert make_survey(organization_id=made["organization"]).link_slug


def _rows_of_the_old_schema(old) -> dict:
    model = old.get_model
    organization = model("tenancy", "Organization").objects.create(name="Old Oy", slug="old")
    survey = model("surveys", "Survey").objects.create(organization=organization, name="Old")
    link = model("surveys", "PersonalLink").objects.create(
        organization=organization, survey=survey, language="fi"
    )
    full_key, prefix, secret_hash = ApiKey.generate()
    api_key = model("accounts", "ApiKey").objects.create(
        organization=organization, name="old", prefix=prefix, secret_hash=secret_hash, scope="read"
    )
    invitation = model("accounts", "MemberInvitation").objects.create(
        organization=organization,
        email="new@example.com",
        token_hash=hash_secret("invitation-token"),
        expires_at=timezone.now() + timedelta(days=7),
    )
    kiosk = model("distribution", "KioskDevice").objects.create(
        organization=organization, name="Lobby", survey=survey
    )
    model("distribution", "KioskHandle").objects.create(
        token_hash=kiosk_token_hash("kiosk-token"), organization=organization, device_id=kiosk.pk
    )
    share = model("reports", "ShareLink").objects.create(
        organization=organization,
        dashboard_type="overview",
        token_hash="f" * 64,
        expires_at=timezone.now() + timedelta(days=7),
    )
    model("reports", "ShareLinkHandle").objects.create(
        token_hash="f" * 64, organization=organization, share_link_id=share.pk
    )
    sent = model("distribution", "Invitation").objects.create(
        organization=organization,
        survey=survey,
        channel="sms",
        language="fi",
        natural_key="old",
        scheduled_for=timezone.now(),
        provider_message_id="SMold-message",
    )
    return {
        "organization": organization.pk,
        "survey": survey.pk,
        "survey_public_id": survey.public_id,
        "slug": survey.link_slug,
        "link": link.pk,
        "token": link.token,
        "api_key": api_key.pk,
        "key": full_key,
        "invitation": invitation.pk,
        "invitation_token": "invitation-token",
        "kiosk": kiosk.pk,
        "kiosk_token": "kiosk-token",
        "share": share.pk,
        "share_hash": "f" * 64,
        "sent": sent.pk,
    }
