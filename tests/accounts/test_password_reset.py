import re
from urllib.parse import urlparse

import pytest
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

RESET = "/accounts/password-reset/"
LOGIN = "/accounts/login/"
NEW_PASSWORD = "another-long-passphrase-77"
LINK = re.compile(r"https?://[^\s\"<>]+/accounts/password-reset/[\w-]+/[\w-]+/")


def sign_in(email: str, password: str) -> Client:
    client = Client()
    client.post(LOGIN, {"username": email, "password": password})
    return client


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def ask_for_link(client: Client, email: str, smtp_outbox) -> str:
    response = client.post(RESET, {"email": email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    message = smtp_outbox.wait_for(1)[-1]
    return urlparse(LINK.search(message.text).group(0)).path


def test_reset_email_arrives_with_a_link_in_both_text_and_html(personas, smtp_outbox):
    Client().post(RESET, {"email": personas.viewer.email})

    message = smtp_outbox.wait_for(1)[0]
    assert message.to == [personas.viewer.email]
    assert message.subject == "Choose a new password for cxplatform"
    link = LINK.search(message.text).group(0)
    assert link in message.html
    assert "\n" not in message.subject


def test_following_the_link_sets_a_new_password_and_the_old_one_stops_working(
    personas, smtp_outbox
):
    client = Client()
    path = ask_for_link(client, personas.viewer.email, smtp_outbox)

    form = client.get(path, follow=True)
    assert form.status_code == 200
    assert "Choose a new password" in form.content.decode()
    set_password_path = form.redirect_chain[-1][0]
    saved = client.post(
        set_password_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert saved.status_code == 302
    assert saved["Location"] == "/accounts/password-reset/complete/"
    assert "Your password is changed" in client.get(saved["Location"]).content.decode()

    assert not signed_in(sign_in(personas.viewer.email, PASSWORD))
    assert signed_in(sign_in(personas.viewer.email, NEW_PASSWORD))


def test_the_reset_link_works_once(personas, smtp_outbox):
    client = Client()
    path = ask_for_link(client, personas.viewer.email, smtp_outbox)
    form = client.get(path, follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    again = Client().get(path, follow=True)
    assert "This link can no longer be used" in again.content.decode()


def test_a_tampered_link_is_refused(personas, smtp_outbox):
    path = ask_for_link(Client(), personas.viewer.email, smtp_outbox)
    tampered = path[:-3] + ("x" if path[-3] != "x" else "y") + path[-2:]
    response = Client().get(tampered, follow=True)
    assert "This link can no longer be used" in response.content.decode()


def test_a_weak_new_password_is_refused_and_the_old_one_keeps_working(personas, smtp_outbox):
    client = Client()
    path = ask_for_link(client, personas.viewer.email, smtp_outbox)
    form = client.get(path, follow=True)
    refused = client.post(
        form.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"}
    )
    assert refused.status_code == 200
    assert 'class="error"' in refused.content.decode()
    assert signed_in(sign_in(personas.viewer.email, PASSWORD))


def test_an_unknown_address_gets_the_same_answer_and_no_email(db, smtp_outbox):
    response = Client().post(RESET, {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert smtp_outbox.settle() == []


def test_the_sent_page_explains_what_happens_next():
    html = Client().get("/accounts/password-reset/sent/").content.decode()
    assert "Check your email" in html
