"""The email unsubscribe link: an opaque signed token that names no internal row, refuses forged,
altered, expired and old-format tokens with a friendly page, and works for a long time."""

import base64
import binascii
import json
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.core import signing

from distribution.services.messaging import unsubscribe_token
from tests.distribution.factories import reachable_contact

INVALID = "This unsubscribe link is not valid or has expired."


@pytest.fixture
def anna(org):
    return reachable_contact(org, email="anna@example.fi", name="Anna")


def _emailed_token(write_api, anna, survey, sending, capture) -> str:
    with capture(execute=True):
        body = {"contact": anna.public_id, "survey": survey.public_id, "channel": "email"}
        created = write_api.post("/api/v1/orgs/acme/invitations/", body, format="json")
    assert created.status_code == 201, created.json()
    message = sending["outbox"].wait_for(1)[0]
    path = urlparse(message.headers["List-Unsubscribe"].strip().strip("<>")).path
    assert path in message.html  # the same link is in the footer
    return path.split("/")[2]


def _decodings(token: str) -> list[str]:
    """Everything a curious reader gets by base64-decoding the token's parts."""
    found = []
    for part in token.replace(":", ".").split("."):
        try:
            found.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode())
        except (binascii.Error, UnicodeDecodeError):
            continue
    return found


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def test_the_emailed_link_names_no_internal_id_and_unsubscribes(
    client, org, write_api, anna, nps_survey, sending, django_capture_on_commit_callbacks
):
    token = _emailed_token(write_api, anna, nps_survey, sending, django_capture_on_commit_callbacks)

    assert not any(_is_json_object(text) for text in [token, *_decodings(token)])
    assert not {str(anna.pk), str(org.pk)} & set(token.replace(".", ":").split(":"))
    page = client.get(f"/u/{token}/")
    assert page.status_code == 200 and b'<form method="post"' in page.content
    assert client.post(f"/u/{token}/", {"List-Unsubscribe": "One-Click"}).status_code == 200
    anna.refresh_from_db()
    assert anna.email_opted_out_at is not None


def _assert_refused(client, anna, token: str) -> None:
    for page in (client.get(f"/u/{token}/"), client.post(f"/u/{token}/")):
        assert page.status_code == 404
        assert INVALID in page.content.decode()
    anna.refresh_from_db()
    assert anna.email_opted_out_at is None


@pytest.mark.django_db
def test_an_altered_token_is_refused_with_the_friendly_page(client, org, anna):
    other = reachable_contact(org, email="bertta@example.fi")
    _value, stamp, signature = unsubscribe_token(other.public_id).split(":")
    _assert_refused(client, anna, f"{anna.public_id}:{stamp}:{signature}")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    _assert_refused(client, anna, f"{anna.public_id}:{stamp}:{flipped}")
    _assert_refused(client, anna, "garbage")


@pytest.mark.django_db
def test_a_token_of_the_old_readable_format_is_refused(client, org, anna):
    old = signing.dumps({"o": org.pk, "c": anna.pk, "ch": "email"}, salt="distribution.unsubscribe")
    _assert_refused(client, anna, old)


@pytest.mark.django_db
def test_the_link_works_for_400_days_and_then_expires(client, anna, monkeypatch):
    def made_days_ago(days: int) -> str:
        with monkeypatch.context() as patch:
            sent = time.time() - timedelta(days=days).total_seconds()
            patch.setattr(signing.time, "time", lambda: sent)
            return unsubscribe_token(anna.public_id)

    _assert_refused(client, anna, made_days_ago(401))
    page = client.get(f"/u/{made_days_ago(399)}/")
    assert page.status_code == 200 and b'<form method="post"' in page.content
