import pytest
from django.test import Client

from accounts.models import User
from core.models import ActivityLog
from tenancy.enums import Role
from tenancy.models import Membership, Organization
from tests.conftest import client_for
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
NEW_PASSWORD = "a-long-and-unusual-passphrase-42"


def signup_data(**overrides) -> dict:
    data = {
        "full_name": "Sanna Founder",
        "email": "sanna@example.com",
        "password": NEW_PASSWORD,
        "organization_name": "Kahvila Oy",
        "organization_slug": "kahvila",
    }
    return {**data, **overrides}


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# Sign up


def test_sign_up_creates_the_organization_and_its_owner_and_lands_on_its_overview():
    client = Client()
    response = client.post(SIGNUP, signup_data())

    assert response.status_code == 302
    assert response["Location"] == "/o/kahvila/"
    organization = Organization.objects.get(slug="kahvila")
    assert organization.name == "Kahvila Oy"
    user = User.objects.get(email="sanna@example.com")
    assert user.full_name == "Sanna Founder"
    assert user.check_password(NEW_PASSWORD)
    membership = Membership.all_objects.get(organization=organization)
    assert (membership.user, membership.role) == (user, Role.OWNER)
    assert ActivityLog.all_objects.filter(
        organization=organization, action="tenancy.organization.created"
    ).exists()

    overview = client.get("/o/kahvila/")
    assert overview.status_code == 200
    assert "Kahvila Oy" in overview.content.decode()


def test_sign_up_without_a_short_name_makes_one_from_the_organization_name():
    response = Client().post(
        SIGNUP, signup_data(organization_name="Pohjolan Kauppa", organization_slug="")
    )
    assert response.status_code == 302
    assert response["Location"] == "/o/pohjolan-kauppa/"


def test_sign_up_normalizes_the_email_so_the_same_person_cannot_sign_up_twice():
    Client().post(SIGNUP, signup_data(email="Sanna@Example.COM"))
    assert User.objects.filter(email="sanna@example.com").exists()

    again = Client().post(SIGNUP, signup_data(email="sanna@example.com", organization_slug="b"))
    assert again.status_code == 400


def test_sign_up_with_an_email_that_has_an_account_shows_a_form_error_and_creates_nothing(org):
    UserFactory(email="taken@example.com")
    response = Client().post(SIGNUP, signup_data(email="taken@example.com"))

    assert response.status_code == 400
    assert "An account with this email exists already" in response.content.decode()
    assert not Organization.objects.filter(slug="kahvila").exists()


def test_sign_up_with_a_taken_short_name_shows_a_form_error_and_creates_nothing(org):
    response = Client().post(SIGNUP, signup_data(organization_slug="acme"))

    assert response.status_code == 400
    assert "That short name is taken" in response.content.decode()
    assert not User.objects.filter(email="sanna@example.com").exists()
    assert Organization.objects.filter(slug="acme").get().name == "Acme Oy"


def test_sign_up_whose_name_makes_a_taken_short_name_shows_a_form_error(org):
    response = Client().post(SIGNUP, signup_data(organization_name="Acme", organization_slug=""))
    assert response.status_code == 400
    assert "That short name is taken" in response.content.decode()


def test_sign_up_with_a_weak_password_is_refused_with_the_reason():
    response = Client().post(SIGNUP, signup_data(password="12345678"))
    assert response.status_code == 400
    assert not User.objects.filter(email="sanna@example.com").exists()
    assert "password" in response.content.decode().lower()


def test_sign_up_with_a_short_name_that_is_not_a_slug_is_refused():
    response = Client().post(SIGNUP, signup_data(organization_slug="not a slug!"))
    assert response.status_code == 400
    assert not Organization.objects.exists()


def test_sign_up_page_labels_every_field():
    html = Client().get(SIGNUP).content.decode()
    for field in ("full_name", "email", "password", "organization_name", "organization_slug"):
        assert f'<label for="id_{field}">' in html


# Sign in and out


def test_sign_in_with_email_and_password_lands_on_the_organization(personas):
    client = Client()
    response = client.post(LOGIN, {"username": personas.owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert is_signed_in(client)

    home = client.get(response["Location"])
    assert home.status_code == 302
    assert home["Location"] == "/o/acme/"


def test_sign_in_accepts_the_email_in_another_case(personas):
    client = Client()
    client.post(LOGIN, {"username": personas.owner.email.upper(), "password": PASSWORD})
    # Emails are stored lower-case; a person typing capitals is not told their password is wrong.
    assert is_signed_in(client)


def test_sign_in_follows_next_to_the_page_asked_for(personas):
    client = Client()
    response = client.post(
        LOGIN, {"username": personas.owner.email, "password": PASSWORD, "next": "/o/acme/members/"}
    )
    assert response["Location"] == "/o/acme/members/"


def test_sign_in_does_not_follow_next_to_another_site(personas):
    client = Client()
    response = client.post(
        LOGIN,
        {"username": personas.owner.email, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert "evil.example" not in response["Location"]


def test_wrong_password_shows_an_error_and_signs_nobody_in(personas):
    client = Client()
    response = client.post(LOGIN, {"username": personas.owner.email, "password": "wrong-one"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not is_signed_in(client)


def test_sign_out_ends_the_session(personas):
    client = client_for(personas.owner)
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/o/acme/").status_code == 302


def test_root_sends_anonymous_people_to_sign_in_and_members_to_their_organization(personas):
    assert Client().get("/")["Location"] == "/accounts/login/"
    assert client_for(personas.viewer).get("/")["Location"] == "/o/acme/"


def test_a_person_in_no_organization_is_told_so():
    response = client_for(UserFactory()).get("/")
    assert response.status_code == 200
    assert "You are not in any organization" in response.content.decode()


# Throttling (django-axes: the pair of username and address is locked out)


def fail_sign_in(client: Client, email: str, times: int) -> list[int]:
    return [
        client.post(LOGIN, {"username": email, "password": f"wrong-{n}"}).status_code
        for n in range(times)
    ]


def test_after_five_wrong_passwords_the_right_one_is_refused_with_the_locked_out_page(personas):
    client = Client()
    statuses = fail_sign_in(client, personas.owner.email, 5)
    assert statuses[:4] == [200] * 4

    response = client.post(LOGIN, {"username": personas.owner.email, "password": PASSWORD})

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not is_signed_in(client)


def test_changing_the_case_of_the_email_does_not_dodge_the_lockout(personas):
    client = Client()
    email = personas.owner.email
    for variant in [email.upper(), email.title(), email, email.upper(), email.capitalize()]:
        client.post(LOGIN, {"username": variant, "password": "wrong"})
    response = client.post(LOGIN, {"username": email, "password": PASSWORD})
    assert response.status_code == 429
    assert not is_signed_in(client)


def test_four_wrong_passwords_do_not_lock_the_account(personas):
    client = Client()
    fail_sign_in(client, personas.owner.email, 4)
    client.post(LOGIN, {"username": personas.owner.email, "password": PASSWORD})
    assert is_signed_in(client)


def test_lockout_does_not_stop_another_person_at_the_same_address(personas):
    fail_sign_in(Client(), personas.owner.email, 5)
    colleague = Client()
    colleague.post(LOGIN, {"username": personas.admin.email, "password": PASSWORD})
    assert is_signed_in(colleague)


def test_lockout_does_not_stop_the_same_person_from_another_address(personas):
    fail_sign_in(Client(REMOTE_ADDR="203.0.113.7"), personas.owner.email, 5)
    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    elsewhere.post(LOGIN, {"username": personas.owner.email, "password": PASSWORD})
    assert is_signed_in(elsewhere)


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_forwarded_for_does_not_dodge_the_lockout(personas, settings, proxies):
    settings.TRUSTED_PROXY_COUNT = proxies
    # Without a proxy the peer is the client; behind one, the entry it appended is.
    peer, added = ("203.0.113.7", "") if proxies == 0 else ("10.0.0.1", ", 203.0.113.7")
    for n in range(5):
        Client(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}{added}").post(
            LOGIN, {"username": personas.owner.email, "password": "wrong"}
        )
    attacker = Client(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=f"192.0.2.1{added}")
    response = attacker.post(LOGIN, {"username": personas.owner.email, "password": PASSWORD})
    assert response.status_code == 429
    assert not is_signed_in(attacker)


def test_behind_a_proxy_a_lockout_does_not_stop_the_same_person_elsewhere(personas, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    fail_sign_in(
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7"), personas.owner.email, 5
    )
    elsewhere = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20")
    elsewhere.post(LOGIN, {"username": personas.owner.email, "password": PASSWORD})
    assert is_signed_in(elsewhere)


# Organization switcher


def test_switcher_lists_every_organization_of_a_person_in_several_and_no_others(personas):
    person = personas.analyst
    MembershipFactory(organization=OrganizationFactory(name="Third Oy", slug="third"), user=person)
    MembershipFactory(
        organization=OrganizationFactory(name="Fourth Ab", slug="fourth"),
        user=person,
        role=Role.ADMIN,
    )
    OrganizationFactory(name="Not Theirs Oy", slug="not-theirs")

    html = client_for(person).get("/o/third/").content.decode()

    switcher = html.split('id="org-switch"', 1)[1].split("</select>", 1)[0]
    for slug, name in [("acme", "Acme Oy"), ("third", "Third Oy"), ("fourth", "Fourth Ab")]:
        assert f'value="/o/{slug}/"' in switcher
        assert name in switcher
    assert "rival" not in switcher and "not-theirs" not in switcher
    assert 'value="/o/third/" selected' in switcher
    # Without JavaScript the same organizations are links.
    assert html.count('href="/o/fourth/"') == 1


def test_switcher_is_not_shown_to_a_person_in_one_organization(personas):
    html = client_for(personas.viewer).get("/o/acme/").content.decode()
    assert 'id="org-switch"' not in html
