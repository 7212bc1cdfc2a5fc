from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import ApiKey, User, hash_secret
from tenancy.enums import Role
from tenancy.models import Membership, Organization
from tests.conftest import api_client_with_key
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

OWNER_PASSWORD = "operator-chosen-passphrase-5"


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


def create_acme2(email="ops@example.com", *extra) -> list[str]:
    return run(
        "create_organization",
        "acme2",
        "--name",
        "Acme Two Oy",
        "--owner-email",
        email,
        "--owner-password",
        OWNER_PASSWORD,
        *extra,
    )


def test_create_organization_creates_it_with_its_owner_who_can_sign_in():
    output = create_acme2("Ops@Example.com")

    organization = Organization.objects.get(slug="acme2")
    assert organization.name == "Acme Two Oy"
    assert (organization.time_zone, organization.default_language) == ("Europe/Helsinki", "fi")
    owner = User.objects.get(email="ops@example.com")
    assert Membership.all_objects.get(organization=organization).user == owner
    assert Membership.all_objects.get(organization=organization).role == Role.OWNER
    assert "acme2" in output[-1]
    assert organization.public_id in output[-1]

    client = Client()
    client.post("/accounts/login/", {"username": "ops@example.com", "password": OWNER_PASSWORD})
    assert client.get("/o/acme2/").status_code == 200


def test_create_organization_takes_time_zone_and_language():
    create_acme2("ops@example.com", "--time-zone", "Europe/Stockholm", "--language", "sv")
    organization = Organization.objects.get(slug="acme2")
    assert (organization.time_zone, organization.default_language) == ("Europe/Stockholm", "sv")


def test_an_existing_person_becomes_the_owner_without_a_new_password():
    person = UserFactory(email="existing@example.com")
    run("create_organization", "acme2", "--name", "Acme Two", "--owner-email", person.email)
    assert Membership.all_objects.get(organization__slug="acme2").user == person
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_a_new_owner_needs_a_password():
    with pytest.raises(CommandError, match="--owner-password"):
        run("create_organization", "acme2", "--name", "Acme Two", "--owner-email", "n@example.com")
    assert not Organization.objects.filter(slug="acme2").exists()
    assert not User.objects.filter(email="n@example.com").exists()


def test_a_taken_slug_is_refused_and_creates_no_user(org):
    with pytest.raises(CommandError, match="taken"):
        run(
            "create_organization",
            "acme",
            "--name",
            "Another Acme",
            "--owner-email",
            "new@example.com",
            "--owner-password",
            OWNER_PASSWORD,
        )
    assert Organization.objects.get(slug="acme").name == "Acme Oy"
    assert not User.objects.filter(email="new@example.com").exists()


def test_an_unknown_time_zone_is_refused_with_a_clear_message():
    with pytest.raises(CommandError, match="Mars/Olympus is not a known time zone"):
        create_acme2("ops@example.com", "--time-zone", "Mars/Olympus")
    assert not Organization.objects.filter(slug="acme2").exists()


def test_a_slug_that_cannot_be_an_address_is_refused_with_a_clear_message():
    with pytest.raises(CommandError, match="slug"):
        run(
            "create_organization",
            "Not A Slug!",
            "--name",
            "X",
            "--owner-email",
            "x@example.com",
            "--owner-password",
            OWNER_PASSWORD,
        )
    assert not User.objects.filter(email="x@example.com").exists()


def test_create_api_key_prints_the_key_alone_on_its_last_line_and_the_key_works(org):
    create_acme2()

    output = run("create_api_key", "--org", "acme2", "--name", "N", "--scope", "write")

    full_key = output[-1]
    assert full_key == full_key.strip()
    assert " " not in full_key
    api_key = ApiKey.all_objects.get(organization__slug="acme2")
    assert (api_key.name, api_key.scope) == ("N", "write")
    assert api_key.secret_hash == hash_secret(full_key)
    assert api_key.prefix in output[0]

    client = api_client_with_key(full_key)
    response = client.get("/api/v1/orgs/acme2/")
    assert response.status_code == 200
    assert response.json()["slug"] == "acme2"
    assert client.get("/api/v1/orgs/acme/").status_code == 404


def test_create_api_key_defaults_to_a_read_key(org):
    run("create_api_key", "--org", "acme", "--name", "Dashboard")
    assert ApiKey.all_objects.get(organization=org).scope == "read"


def test_create_api_key_for_an_unknown_organization_fails_clearly(db):
    with pytest.raises(CommandError, match="nowhere"):
        run("create_api_key", "--org", "nowhere", "--name", "N")
    assert not ApiKey.all_objects.exists()


def test_create_api_key_refuses_an_unknown_scope(org):
    with pytest.raises(CommandError):
        run("create_api_key", "--org", "acme", "--name", "N", "--scope", "admin")
