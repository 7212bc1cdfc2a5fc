"""A real SMTP server (aiosmtpd) for tests that check what email arrives.

`smtp_server` listens on 127.0.0.1 on a free port and keeps every message it receives, parsed:
recipients, subject, the text and the html part. `smtp_outbox` also points Django's SMTP backend
at it, so the code under test sends through a real socket exactly as in production:

    def test_reset(client, smtp_outbox):
        client.post("/accounts/password-reset/", {"email": "a@example.com"})
        message = smtp_outbox.wait_for(1)[0]
        assert "/accounts/password-reset/" in message.text
"""

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy

import pytest
from aiosmtpd.controller import Controller


@dataclass
class ReceivedMessage:
    """One message as the SMTP server received it."""

    mail_from: str
    to: list[str]  # the envelope recipients (To, Cc and Bcc alike)
    subject: str
    text: str  # the text/plain part ("" when there is none)
    html: str  # the text/html part ("" when there is none)
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""


def parse_message(mail_from: str, rcpt_tos: list[str], content: bytes) -> ReceivedMessage:
    parsed = message_from_bytes(content, policy=email_policy.default)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    return ReceivedMessage(
        mail_from=mail_from,
        to=list(rcpt_tos),
        subject=str(parsed["Subject"] or ""),
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else "",
        headers={key: str(value) for key, value in parsed.items()},
        raw=content,
    )


class Outbox(list):
    """The messages received so far (a list), filled from the server's thread."""

    def __init__(self):
        super().__init__()
        self._arrived = threading.Condition()

    def deliver(self, message: ReceivedMessage) -> None:
        with self._arrived:
            self.append(message)
            self._arrived.notify_all()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> "Outbox":
        """Wait until at least `count` messages arrived; fail the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(
                        f"expected {count} email(s) within {timeout}s, got {len(self)}: "
                        f"{[m.subject for m in self]}"
                    )
                self._arrived.wait(remaining)
        return self

    def settle(self, seconds: float = 0.3) -> "Outbox":
        """Give a message that should not come a moment to arrive anyway (before asserting none)."""
        time.sleep(seconds)
        return self

    def to(self, address: str) -> list[ReceivedMessage]:
        return [m for m in self if address.lower() in (r.lower() for r in m.to)]


class _CollectingHandler:
    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    async def handle_DATA(self, server, session, envelope) -> str:
        self.outbox.deliver(
            parse_message(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    outbox: Outbox


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A running SMTP server on 127.0.0.1; `.outbox` lists what it received."""
    host = "127.0.0.1"
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
    outbox = Outbox()
    controller = Controller(_CollectingHandler(outbox), hostname=host, port=_free_port(host))
    controller.start()
    try:
        yield SmtpServer(host=host, port=controller.port, outbox=outbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp_outbox(smtp_server, settings) -> Outbox:
    """Django sends email through `smtp_server`; the fixture is the list of messages received."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return smtp_server.outbox
