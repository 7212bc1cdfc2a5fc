"""Outbound HTTP to user-supplied URLs never reaches private or internal addresses.

Every server here listens on 127.0.0.1 or ::1; nothing in this module sends traffic anywhere else
(refused addresses are refused before they are dialled).
"""

import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from core import safe_http
from core.safe_http import (
    BlockedAddress,
    OutboundHTTPError,
    SafeResponse,
    address_permitted,
    encode_json,
    is_public_address,
    post_json,
    validate_public_url,
)

# --- a local server that records what reaches it ----------------------------------------------


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    drip_seconds: float | None = None  # send the body one byte at a time, forever


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class LocalServer:
    def __init__(self, host: str, family: socket.AddressFamily) -> None:
        self.requests: list[Recorded] = []
        self.connections = 0
        self.answer = Answer()
        self.stop = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def setup(self) -> None:
                server.connections += 1
                super().setup()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                server.requests.append(
                    Recorded("POST", self.path, dict(self.headers), self.rfile.read(length))
                )
                answer = server.answer
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if answer.drip_seconds is None:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if answer.drip_seconds is None:
                    self.wfile.write(answer.body)
                    return
                while not server.stop.is_set():
                    try:
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(answer.drip_seconds)

            def log_message(self, *args) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        self.httpd = Server((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, host: str, path: str = "/hook") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer("127.0.0.1", socket.AF_INET)
    yield local
    local.close()


@pytest.fixture
def server_v6() -> Iterator[LocalServer]:
    try:
        local = LocalServer("::1", socket.AF_INET6)
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    yield local
    local.close()


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """Accepts TCP connections (the kernel's backlog does) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def allow_loopback(settings) -> None:
    settings.OUTBOUND_ALLOW_HTTP = True
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def http_only(settings) -> None:
    """http:// is allowed (the local servers have no TLS) but no private network is."""
    settings.OUTBOUND_ALLOW_HTTP = True
    settings.OUTBOUND_ALLOWED_NETWORKS = []


def wait_for(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# --- sending -----------------------------------------------------------------------------------


def test_an_allowed_local_chat_server_receives_the_json_post(server, allow_loopback):
    server.answer = Answer(status=200, body=b"ok")

    response = post_json(
        server.url("127.0.0.1"), {"text": "CSAT 1 at Kamppi: «huono»"}, headers={"X-Test": "1"}
    )

    assert response == SafeResponse(status=200, text="ok")
    [request] = server.requests
    assert request.path == "/hook"
    assert request.body == encode_json({"text": "CSAT 1 at Kamppi: «huono»"})
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["X-Test"] == "1"
    assert request.headers["User-Agent"] == safe_http.USER_AGENT


def test_a_host_name_of_an_allowed_network_is_reached_too(server, allow_loopback):
    post_json(server.url("localhost"), {"text": "hi"})

    assert len(server.requests) == 1


def test_loopback_is_refused_when_not_allowed_and_the_server_gets_nothing(server, http_only):
    with pytest.raises(BlockedAddress) as caught:
        post_json(server.url("127.0.0.1"), {"text": "hi"})

    assert caught.value.transient is False
    assert caught.value.address == "127.0.0.1"
    assert server.requests == []
    assert server.connections == 0


def test_a_name_that_resolves_to_loopback_is_refused(server, http_only):
    with pytest.raises(BlockedAddress):
        post_json(server.url("localhost"), {"text": "hi"})

    assert server.requests == []
    assert server.connections == 0


def test_ipv6_loopback_is_refused(server_v6, http_only):
    with pytest.raises(BlockedAddress) as caught:
        post_json(server_v6.url("[::1]"), {"text": "hi"})

    assert caught.value.address == "::1"
    assert server_v6.requests == []
    assert server_v6.connections == 0


def test_allowing_ipv4_loopback_does_not_open_ipv6_loopback(server_v6, allow_loopback):
    with pytest.raises(BlockedAddress):
        post_json(server_v6.url("[::1]"), {"text": "hi"})

    assert server_v6.requests == []


def test_the_connected_peer_is_checked_even_if_the_address_check_was_fooled(
    server, http_only, monkeypatch
):
    # Stands for a resolver or socket layer that reached another address than the one checked
    # (DNS rebinding between check and connect): the peer check after connect still refuses,
    # before a single byte of the request is written.
    monkeypatch.setattr(safe_http, "_may_dial", lambda address: True)

    with pytest.raises(BlockedAddress) as caught:
        post_json(server.url("127.0.0.1"), {"text": "hi"})

    assert caught.value.address == "127.0.0.1"
    assert wait_for(lambda: server.connections == 1)
    time.sleep(0.1)
    assert server.requests == []


def test_the_peer_check_also_guards_https_before_the_tls_handshake(monkeypatch, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    monkeypatch.setattr(safe_http, "_may_dial", lambda address: True)
    received: list[bytes] = []

    def first_bytes() -> None:
        conn, _ = listener.accept()
        conn.settimeout(1)
        try:
            received.append(conn.recv(1024))
        except OSError:
            received.append(b"<timeout>")
        conn.close()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    thread = threading.Thread(target=first_bytes, daemon=True)
    thread.start()
    try:
        with pytest.raises(BlockedAddress):
            post_json(f"https://127.0.0.1:{listener.getsockname()[1]}/hook", {"text": "hi"})
        thread.join(2)
    finally:
        listener.close()

    assert received == [b""]  # connection closed without a TLS ClientHello


def test_a_redirect_is_not_followed(server, allow_loopback):
    server.answer = Answer(status=302, headers={"Location": server.url("127.0.0.1", "/elsewhere")})

    with pytest.raises(OutboundHTTPError) as caught:
        post_json(server.url("127.0.0.1"), {"text": "hi"})

    assert caught.value.status == 302
    assert caught.value.code == "redirect"
    assert caught.value.transient is False
    assert [request.path for request in server.requests] == ["/hook"]


def test_a_server_that_never_answers_times_out_within_the_timeout(silent_listener, allow_loopback):
    started = time.monotonic()

    with pytest.raises(OutboundHTTPError) as caught:
        post_json(f"http://127.0.0.1:{silent_listener}/hook", {"text": "hi"}, timeout=0.5)

    assert time.monotonic() - started < 2.5
    assert caught.value.transient is True
    assert caught.value.code == "timeout"
    assert not isinstance(caught.value, BlockedAddress)


def test_the_timeout_comes_from_the_setting_by_default(silent_listener, allow_loopback, settings):
    settings.OUTBOUND_HTTP_TIMEOUT_SECONDS = 0.3
    started = time.monotonic()

    with pytest.raises(OutboundHTTPError):
        post_json(f"http://127.0.0.1:{silent_listener}/hook", {"text": "hi"})

    assert time.monotonic() - started < 2.0


def test_an_endless_answer_is_cut_at_the_deadline_and_keeps_its_status(server, allow_loopback):
    # A 2xx means the message was delivered: a slow body must not turn it into a retry.
    server.answer = Answer(status=200, drip_seconds=0.05)
    started = time.monotonic()

    response = post_json(server.url("127.0.0.1"), {"text": "hi"}, timeout=0.5)

    assert time.monotonic() - started < 2.5
    assert response.status == 200
    assert set(response.text) == {"x"}


def test_a_server_dripping_its_headers_is_cut_off_as_a_timeout(allow_loopback):
    # Each byte arrives well within the read timeout, so only the whole-call deadline ends it.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.is_set():
                try:
                    conn.sendall(b"a")
                except OSError:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(OutboundHTTPError) as caught:
            post_json(
                f"http://127.0.0.1:{listener.getsockname()[1]}/hook", {"text": "hi"}, timeout=0.5
            )
    finally:
        stop.set()
        listener.close()

    assert time.monotonic() - started < 2.5
    assert caught.value.code == "timeout"
    assert caught.value.transient is True


def test_a_long_answer_is_kept_to_2000_characters(server, allow_loopback):
    server.answer = Answer(status=200, body="ä".encode() * 5000)

    response = post_json(server.url("127.0.0.1"), {"text": "hi"})

    assert response.text == "ä" * 2000


def test_a_connection_refused_is_a_transient_error(allow_loopback):
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens on the port any more

    with pytest.raises(OutboundHTTPError) as caught:
        post_json(f"http://127.0.0.1:{port}/hook", {"text": "hi"})

    assert caught.value.transient is True
    assert caught.value.code == "connection_error"


@pytest.mark.parametrize(
    ("status", "transient"),
    [(500, True), (502, True), (503, True), (429, True), (408, True), (400, False), (403, False)],
)
def test_answers_tell_the_task_whether_to_retry(server, allow_loopback, status, transient):
    server.answer = Answer(status=status, body=b"no_service", headers={"Retry-After": "30"})

    with pytest.raises(OutboundHTTPError) as caught:
        post_json(server.url("127.0.0.1"), {"text": "hi"})

    assert caught.value.status == status
    assert caught.value.transient is transient
    assert caught.value.text == "no_service"
    assert caught.value.retry_after == 30.0


def test_a_404_is_permanent(server, allow_loopback):
    server.answer = Answer(status=404, body=b"no such hook")

    with pytest.raises(OutboundHTTPError) as caught:
        post_json(server.url("127.0.0.1"), {"text": "hi"})

    assert caught.value.transient is False
    assert caught.value.retry_after is None


def test_http_is_refused_unless_the_setting_allows_it(server, settings):
    settings.OUTBOUND_ALLOW_HTTP = False
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]

    with pytest.raises(OutboundHTTPError) as caught:
        post_json(server.url("127.0.0.1"), {"text": "hi"})

    assert caught.value.code == "invalid_url"
    assert caught.value.transient is False
    assert server.connections == 0


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1/hook", "http://user:secret@127.0.0.1/hook", "http:///hook", "http://[::1"],
)
def test_urls_that_cannot_be_sent_fail_permanently(allow_loopback, url):
    with pytest.raises(OutboundHTTPError) as caught:
        post_json(url, {"text": "hi"})

    assert caught.value.transient is False
    assert caught.value.code == "invalid_url"


def test_proxies_from_the_environment_are_ignored(server, allow_loopback, monkeypatch):
    # A proxy would connect to the target itself, past the peer check.
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    closed.bind(("127.0.0.1", 0))
    proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)

    post_json(server.url("127.0.0.1"), {"text": "hi"})

    assert len(server.requests) == 1


def test_a_zero_or_negative_timeout_is_refused(allow_loopback, server):
    with pytest.raises(ImproperlyConfigured):
        post_json(server.url("127.0.0.1"), {"text": "hi"}, timeout=0)

    assert server.connections == 0


def test_a_malformed_allowed_network_fails_loudly(settings, server):
    settings.OUTBOUND_ALLOW_HTTP = True
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/33"]

    with pytest.raises(ImproperlyConfigured, match="OUTBOUND_ALLOWED_NETWORKS"):
        post_json(server.url("127.0.0.1"), {"text": "hi"})


# --- addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "127.0.0.1",
        "127.8.8.8",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",
        "224.0.0.251",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.0.8",
        "198.18.0.1",
        "::",
        "::1",
        "fd00::1",
        "fc12:3456::1",
        "fe80::1",
        "fe80::1%eth0",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",  # NAT64 to 10.0.0.1
        "64:ff9b:1::1",  # local-use NAT64
        "2002:a00:1::1",  # 6to4 carrying 10.0.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001:db8::1",
    ],
)
def test_internal_addresses_are_not_public(address):
    assert is_public_address(address) is False


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "52.84.0.1", "2606:4700:4700::1111", "64:ff9b::808:808"]
)
def test_public_addresses_are_public(address):
    assert is_public_address(address) is True


def test_the_allow_list_opens_only_its_own_networks(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32", "10.20.0.0/16"]

    assert address_permitted("127.0.0.1")
    assert address_permitted("::ffff:127.0.0.1")
    assert address_permitted("10.20.30.40")
    assert not address_permitted("127.0.0.2")
    assert not address_permitted("10.21.0.1")
    assert not address_permitted("::1")
    assert address_permitted("8.8.8.8")


# --- validating what a user types --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
        "https://acme.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456",
        "HTTPS://Hooks.Slack.com/services/T000/B000/X",
        "https://chat.example.com:8443/hooks/abc?token=1#frag",
        "https://8.8.8.8/hook",
        "https://[2606:4700:4700::1111]/hook",
        "https://bücher.example/hook",
        "  https://hooks.slack.com/services/T/B/X  ",
    ],
)
def test_public_webhook_addresses_are_accepted(settings, url):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.OUTBOUND_ALLOW_HTTP = False

    assert validate_public_url(url) == url.strip()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://10.0.0.5/hook", "internal_address"),
        ("https://172.16.3.4/hook", "internal_address"),
        ("https://192.168.0.10/hook", "internal_address"),
        ("https://169.254.169.254/latest/meta-data/", "internal_address"),
        ("https://127.0.0.1/hook", "internal_address"),
        ("https://[::1]/hook", "internal_address"),
        ("https://[fd00::1]/hook", "internal_address"),
        ("https://[fe80::1%25eth0]/hook", "internal_address"),
        ("https://[::ffff:127.0.0.1]/hook", "internal_address"),
        ("https://[::ffff:8.8.8.8]/hook", "internal_address"),
        ("https://100.64.0.1/hook", "internal_address"),
        ("https://0.0.0.0/hook", "internal_address"),
        ("https://224.0.0.1/hook", "internal_address"),
        ("https://localhost/hook", "internal_address"),
        ("https://LOCALHOST./hook", "internal_address"),
        ("https://api.localhost/hook", "internal_address"),
        ("https://printer.local/hook", "internal_address"),
        ("https://metadata.google.internal/computeMetadata/v1/", "internal_address"),
        ("https://router.home.arpa/hook", "internal_address"),
        ("https://intranet/hook", "internal_address"),
        ("https://2130706433/hook", "invalid"),
        ("https://0x7f.1/hook", "invalid"),
        ("https://127.1/hook", "invalid"),
        ("https://010.0.0.1/hook", "invalid"),
        ("https://user:pass@hooks.slack.com/services/T/B/X", "credentials"),
        ("https://user@hooks.slack.com/services/T/B/X", "credentials"),
        ("https://hooks.slack.com@10.0.0.1/", "credentials"),
        ("ftp://hooks.example.com/hook", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://hooks.slack.com/services/T/B/X", "scheme"),
        ("hooks.slack.com/services/T/B/X", "scheme"),
        ("https:///hook", "invalid"),
        ("https://exa mple.com/hook", "invalid"),
        ("https://example.com\\@10.0.0.1/", "invalid"),
        ("https://example.com:99999/hook", "invalid"),
        ("https://example.com:0/hook", "invalid"),
        ("https://[::1/hook", "invalid"),
        ("https://-bad-.example.com/hook", "invalid"),
        ("https://" + "a" * 2100 + ".com/", "too_long"),
        ("", "required"),
        ("   ", "required"),
    ],
)
def test_internal_or_malformed_addresses_are_refused_with_a_reason(settings, url, code):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.OUTBOUND_ALLOW_HTTP = False

    with pytest.raises(ValidationError) as caught:
        validate_public_url(url)

    assert caught.value.code == code
    assert caught.value.messages[0]


def test_internal_address_message_says_what_to_do(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []

    with pytest.raises(ValidationError) as caught:
        validate_public_url("https://192.168.1.1/hook")

    assert "private or internal network" in caught.value.messages[0]


def test_http_and_an_allowed_network_are_accepted_when_the_settings_say_so(settings):
    settings.OUTBOUND_ALLOW_HTTP = True
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32", "10.1.2.3/32"]

    assert validate_public_url("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/hook"
    assert validate_public_url("https://10.1.2.3/hook") == "https://10.1.2.3/hook"
    with pytest.raises(ValidationError):
        validate_public_url("https://10.1.2.4/hook")
    with pytest.raises(ValidationError):
        validate_public_url("http://localhost:8080/hook")  # names are judged by name


def test_the_scheme_message_mentions_http_only_when_http_is_allowed(settings):
    settings.OUTBOUND_ALLOW_HTTP = True

    with pytest.raises(ValidationError) as caught:
        validate_public_url("ftp://hooks.example.com/")

    assert "http://" in caught.value.messages[0]
