"""Only the configured email provider's tracking webhook answers; the others are 404, never 500."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

SECRET = "hooks:s3cret-webhook"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def postmark_configured(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    settings.EMAIL_WEBHOOK_PROVIDER = "postmark"


def post(client, url: str, secret: str = SECRET):
    auth = base64.b64encode(secret.encode()).decode()
    return client.post(
        url, "{}", content_type="application/json", HTTP_AUTHORIZATION=f"Basic {auth}"
    )


@pytest.mark.parametrize(
    "provider",
    ["mailgun", "amazon_ses", "mailersend", "postal", "unisender_go", "mandrill", "sendgrid"],
)
def test_other_providers_webhooks_are_not_found(client, postmark_configured, provider):
    assert post(client, f"/hooks/email/{provider}/tracking/").status_code == 404
    assert post(client, f"/hooks/email/{provider}/inbound/").status_code == 404


def test_no_provider_configured_mounts_no_webhook(client, settings):
    settings.EMAIL_WEBHOOK_PROVIDER = ""
    assert post(client, "/hooks/email/postmark/tracking/").status_code == 404


def test_the_configured_providers_webhook_checks_its_secret(client, postmark_configured):
    assert post(client, "/hooks/email/postmark/tracking/", secret="hooks:wrong").status_code == 400
    # An event for no invitation of ours is accepted and changes nothing.
    assert post(client, "/hooks/email/postmark/tracking/").status_code == 200


def test_the_provider_follows_the_email_backend():
    env = {
        **os.environ,
        "EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend",
        "SECRET_KEY": "x",
    }
    env.pop("EMAIL_WEBHOOK_PROVIDER", None)
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(settings.EMAIL_WEBHOOK_PROVIDER)"
    env["DJANGO_SETTINGS_MODULE"] = "cxplatform.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "mailgun"
