"""A local fake of Twilio's Messages API, for tests that send SMS through the real twilio SDK.

`fake_twilio` runs a threading HTTP server on 127.0.0.1 that records every
`POST /2010-04-01/Accounts/<sid>/Messages.json` (form fields parsed) and answers 201 with a
message resource, and points the settings (TWILIO_API_BASE_URL, credentials) at it:

    def test_sms(fake_twilio):
        ...send...
        assert fake_twilio.messages[0]["To"] == "+358401234567"

`fake_twilio.fail_next(status, times)` makes the next requests fail (503 for a transient error,
400 for a permanent one) to exercise retries. `fake_twilio.outage` fails every request while it
is set: a status (429, 500) answers with it; "hang" holds the request `hang_seconds` and then
drops it unanswered and unsent, as a provider that stopped answering.
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-twilio-auth-token"


class FakeTwilio:
    def __init__(self):
        self.messages: list[dict[str, str]] = []
        self.failures: list[int] = []
        self.outage: int | str | None = None
        self.hang_seconds = 15.0
        self.lock = threading.Lock()
        self.base_url = ""

    def fail_next(self, status: int, times: int = 1) -> None:
        with self.lock:
            self.failures.extend([status] * times)

    def bodies(self) -> list[str]:
        return [message["Body"] for message in self.messages]


def _handler(fake: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {
                key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()
            }
            if not (
                self.path.startswith("/2010-04-01/Accounts/")
                and self.path.endswith("/Messages.json")
            ):
                self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                return
            with fake.lock:
                failure = fake.failures.pop(0) if fake.failures else fake.outage
            if failure == "hang":
                time.sleep(fake.hang_seconds)
                self.close_connection = True
                return
            if failure is not None:
                self._answer(
                    failure,
                    {
                        "code": 21211 if failure < 500 else 20500,
                        "message": "fake failure",
                        "status": failure,
                    },
                )
                return
            sid = "SM" + uuid.uuid4().hex
            with fake.lock:
                fake.messages.append({**form, "sid": sid})
            self._answer(
                201,
                {
                    "sid": sid,
                    "account_sid": ACCOUNT_SID,
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "body": form.get("Body"),
                    "status": "queued",
                    "num_segments": "1",
                },
            )

    return Handler


@pytest.fixture
def fake_twilio_server():
    fake = FakeTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_twilio(fake_twilio_server, settings) -> FakeTwilio:
    """The twilio SDK sends to `fake_twilio_server`; the fixture records what it received."""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_API_BASE_URL = fake_twilio_server.base_url
    settings.TWILIO_DEFAULT_SENDER = "+358400000000"
    return fake_twilio_server
