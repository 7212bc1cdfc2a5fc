"""Outbound HTTP to URLs that users typed in (chat webhooks now, outgoing webhooks later).

A URL a customer gives us must not become a way into our own network (server-side request
forgery): the cloud metadata service, Redis, PostgreSQL, an admin page on the private network.
Checking the host name when the URL is saved is not enough: DNS can answer differently at send
time (rebinding), and a redirect can point anywhere. So the check that counts happens when the
socket connects: every address the name resolves to is checked before it is dialled, and the peer
the socket actually reached (`getpeername()`) is checked again before a single byte is written,
for http and https alike. Redirects are never followed, proxies from the environment are never
used, and every call has connect and read timeouts.

- `validate_public_url(url)` for forms and serializers: early, friendly refusal of URLs that can
  never be sent to (wrong scheme, credentials, internal names and addresses).
- `post_json(url, payload)` sends; it raises `BlockedAddress` for a refused peer and
  `OutboundHTTPError` (with `transient`) for anything else that went wrong. `post_body(url,
  body)` sends bytes the caller already encoded (and signed), with the same checks.

Settings: `OUTBOUND_HTTP_TIMEOUT_SECONDS` (default 5), `OUTBOUND_ALLOWED_NETWORKS` (CIDRs that are
allowed although private, e.g. an on-premise chat server; tests allow 127.0.0.1/32) and
`OUTBOUND_ALLOW_HTTP` (http:// besides https://; off in production).
"""

import contextlib
import ipaddress
import json
import math
import re
import socket
import sys
import threading
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
RESPONSE_TEXT_LIMIT = 2000
# Enough bytes for RESPONSE_TEXT_LIMIT characters of UTF-8; the rest of a body is never read.
_RESPONSE_BYTES_LIMIT = RESPONSE_TEXT_LIMIT * 4
USER_AGENT = "cxplatform-webhooks/1"

# Written out rather than left to ipaddress's is_private/is_global, whose lists changed between
# Python releases and leave out multicast and some special-purpose blocks.
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        # IPv4
        "0.0.0.0/8",  # "this network"; connecting to 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, including the cloud metadata service 169.254.169.254
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.88.99.0/24",  # former 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address 255.255.255.255
        # IPv6 (IPv4-mapped and NAT64 addresses are checked as the IPv4 address they carry first)
        "::/8",  # unspecified, loopback, IPv4-compatible, IPv4-mapped, local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, including Teredo 2001::/32
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4, which can carry any IPv4 address
        "3fff::/20",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # former site-local
        "ff00::/8",  # multicast
    )
)
_IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# Names that only ever mean something inside a network: RFC 6761/6762/8375, the cloud providers'
# internal zones and the usual home and office suffixes.
_INTERNAL_SUFFIXES = (
    "localhost",
    "localdomain",
    "local",
    "internal",
    "intranet",
    "lan",
    "home",
    "corp",
    "private",
    "home.arpa",
    "in-addr.arpa",
    "ip6.arpa",
)
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class OutboundHTTPError(Exception):
    """An outbound call failed. `transient` says whether trying again later may succeed
    (timeouts, connection errors, 408, 429 and 5xx) or not (other 4xx, redirects, refused
    addresses, bad URLs). `status` and `text` are the answer's, when there was one."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        code: str,
        status: int | None = None,
        text: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.code = code
        self.status = status
        self.text = text
        self.retry_after = retry_after


class BlockedAddress(OutboundHTTPError):
    """The URL leads to a private or internal address; never worth retrying."""

    def __init__(self, message: str, *, address: str | None = None) -> None:
        super().__init__(message, transient=False, code="blocked_address")
        self.address = address


@dataclass(frozen=True)
class SafeResponse:
    status: int
    text: str  # at most RESPONSE_TEXT_LIMIT characters of the body


# --- addresses ---------------------------------------------------------------------------------


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped or NAT64 IPv6 address reaches, if it is one."""
    if isinstance(address, ipaddress.IPv6Address) and (
        address in _IPV4_MAPPED or address in _NAT64
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: str | IPAddress) -> bool:
    """True when `address` is an ordinary address on the public internet (ignores the allow-list)."""
    address = _parse_address(address)
    target = _embedded_ipv4(address) or address
    if any(target in network for network in _BLOCKED_NETWORKS if network.version == target.version):
        return False
    return target.is_global and not target.is_multicast


def address_permitted(address: str | IPAddress) -> bool:
    """True when outbound calls may connect to `address`: public, or in OUTBOUND_ALLOWED_NETWORKS."""
    address = _parse_address(address)
    candidates = {address, _embedded_ipv4(address) or address}
    allowed = _allowed_networks(tuple(getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", ())))
    if any(c in network for c in candidates for network in allowed if network.version == c.version):
        return True
    return is_public_address(address)


def _parse_address(address: str | IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return address
    # getpeername() and getaddrinfo() give IPv6 link-local addresses with a zone ("fe80::1%eth0").
    return ipaddress.ip_address(address.split("%", 1)[0])


@lru_cache(maxsize=8)
def _allowed_networks(
    values: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"OUTBOUND_ALLOWED_NETWORKS: {value!r} is not a network such as 10.1.2.3/32 "
                f"({error})"
            ) from error
    return tuple(networks)


# --- URL validation ----------------------------------------------------------------------------


def _allowed_schemes() -> tuple[str, ...]:
    return ("https", "http") if getattr(settings, "OUTBOUND_ALLOW_HTTP", False) else ("https",)


def _legacy_ipv4(host: str) -> bool:
    """True for host names that resolvers read as IPv4 although they are not dotted quads:
    "2130706433", "0x7f.1", "127.1" all reach 127.0.0.1 through inet_aton()."""
    # A numeric last label is never a valid DNS name either, so every such name is refused.
    return bool(_NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]))


def validate_public_url(url: str) -> str:
    """Check a webhook URL a user entered; return it without surrounding whitespace.

    Refuses other schemes than https (http too when OUTBOUND_ALLOW_HTTP), credentials in the URL,
    internal host names (localhost, *.local, *.internal, single-label names, ...) and IP literals
    outside the public internet (unless in OUTBOUND_ALLOWED_NETWORKS). Does not resolve the name:
    DNS can change after saving, so `post_json` checks the resolved address at connect time.
    Raises django.core.exceptions.ValidationError.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValidationError(_("Enter the address (URL) of the webhook."), code="required")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(
            _("The address is too long (at most %(max)d characters).") % {"max": MAX_URL_LENGTH},
            code="too_long",
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in url):
        raise ValidationError(
            _("The address contains spaces or characters that are not allowed in a URL."),
            code="invalid",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValidationError(
            _("This is not a valid web address (URL)."), code="invalid"
        ) from error

    schemes = _allowed_schemes()
    if parts.scheme.lower() not in schemes:
        if "http" in schemes:
            message = _("The address must start with https:// or http://.")
        else:
            message = _("The address must start with https://.")
        raise ValidationError(message, code="scheme")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise ValidationError(
            _("Remove the user name and password from the address; they are not sent."),
            code="credentials",
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValidationError(_("The address has no host name."), code="invalid")
    if port == 0:
        raise ValidationError(_("This is not a valid web address (URL)."), code="invalid")

    try:
        literal = _parse_address(host) if ":" in host else ipaddress.IPv4Address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if literal.version == 6 and literal in _IPV4_MAPPED:
            raise ValidationError(_internal_message(), code="internal_address")
        if not address_permitted(literal):
            raise ValidationError(_internal_message(), code="internal_address")
        return url

    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValidationError(_("The host name is not valid."), code="invalid") from error
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValidationError(_("The host name is not valid."), code="invalid")
    if _legacy_ipv4(ascii_host):
        raise ValidationError(
            _("Write an IP address as four numbers separated by dots, or use a host name."),
            code="invalid",
        )
    if len(labels) < 2 or any(
        ascii_host == suffix or ascii_host.endswith("." + suffix) for suffix in _INTERNAL_SUFFIXES
    ):
        raise ValidationError(_internal_message(), code="internal_address")
    return url


def _internal_message() -> str:
    return _(
        "This address points to a private or internal network. Use the public address of the "
        "webhook (for example https://hooks.slack.com/...)."
    )


# --- sending -----------------------------------------------------------------------------------


def _connect_checked(
    host: str,
    port: int,
    timeout: Any,
    source_address: tuple[str, int] | None,
    socket_options: Iterable[tuple[int, int, int | bytes]] | None,
) -> socket.socket:
    """Resolve `host`, dial only permitted addresses, and check the peer actually reached.

    The name is resolved once and the checked address itself is dialled, so a DNS answer that
    changes between check and connect cannot slip through; the `getpeername()` check after
    connecting is the last word whatever the resolver or the socket layer did.
    """
    host = host.strip("[]")
    refused: list[str] = []
    last_error: OSError | None = None
    for family, socktype, proto, _canonname, sockaddr in socket.getaddrinfo(
        host, port, allowed_gai_family(), socket.SOCK_STREAM
    ):
        if not _may_dial(sockaddr[0]):
            refused.append(sockaddr[0])
            continue
        sock = socket.socket(family, socktype, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if isinstance(timeout, int | float):  # else urllib3's "default" sentinel
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
        except OSError as error:
            sock.close()
            last_error = error
            continue
        try:
            _check_peer(sock)
        except BaseException:
            sock.close()
            raise
        watchdog = _call_watchdog.get()
        if watchdog is not None:
            watchdog.watch(sock)
        return sock
    if last_error is not None:
        raise last_error
    if refused:
        raise BlockedAddress(
            f"{host} resolves only to private or internal addresses ({', '.join(refused)})",
            address=refused[0],
        )
    raise OSError(f"getaddrinfo returned no addresses for {host}")


def _may_dial(address: str) -> bool:
    return address_permitted(address)


def _check_peer(sock: socket.socket) -> None:
    peer = sock.getpeername()[0]
    if not address_permitted(peer):
        raise BlockedAddress(
            f"connected peer {peer} is a private or internal address", address=peer
        )


class _CheckedConnectionMixin:
    """Replaces urllib3's connect step (for http, and for https before the TLS handshake)."""

    def _new_conn(self) -> socket.socket:
        try:
            sock = _connect_checked(
                self._dns_host,
                self.port,
                self.timeout,
                self.source_address,
                self.socket_options,
            )
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        except TimeoutError as error:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from error
        except BlockedAddress:
            raise
        except OSError as error:
            raise NewConnectionError(
                self, f"Failed to establish a new connection: {error}"
            ) from error
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class _CheckedHTTPConnection(_CheckedConnectionMixin, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnectionMixin, HTTPSConnection):
    pass


class _CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    """A requests adapter whose connections check their peer, with no retries and no proxies."""

    def __init__(self) -> None:
        super().__init__(max_retries=0, pool_connections=1, pool_maxsize=1)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPConnectionPool,
            "https": _CheckedHTTPSConnectionPool,
        }

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        # A proxy would connect to the target for us, out of reach of the peer check.
        kwargs["proxies"] = None
        return super().send(request, *args, **kwargs)


def encode_json(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes `post_json` sends for `payload` (for callers that sign the body)."""
    return json.dumps(
        payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    ).encode()


def _timeout_seconds(timeout: float | None) -> float:
    value = settings.OUTBOUND_HTTP_TIMEOUT_SECONDS if timeout is None else timeout
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ImproperlyConfigured(
            f"The outbound HTTP timeout must be a positive number of seconds, not {value!r}"
        )
    return float(value)


def _check_url_for_sending(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise OutboundHTTPError(str(error), transient=False, code="invalid_url") from error
    if parts.scheme.lower() not in _allowed_schemes():
        raise OutboundHTTPError(
            f"scheme {parts.scheme or '(none)'!r} is not allowed",
            transient=False,
            code="invalid_url",
        )
    if "@" in parts.netloc or not parts.hostname:
        raise OutboundHTTPError(
            "the URL has credentials or no host", transient=False, code="invalid_url"
        )


def _transient_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


class _Watchdog:
    """Ends a whole call at a hard deadline by shutting its sockets down from a timer thread.

    Connect and read timeouts bound each step, but a server that drips its status line or
    headers a byte at a time never trips a read timeout; this bounds the call as a whole.
    """

    def __init__(self, seconds: float) -> None:
        self.sockets: list[socket.socket] = []
        self.expired = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Watchdog":
        self._token = _call_watchdog.set(self)
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _call_watchdog.reset(self._token)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self.sockets.append(sock)
            if not self.expired:
                return
        _shut_down(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self.sockets)
        for sock in sockets:
            _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


_call_watchdog: ContextVar[_Watchdog | None] = ContextVar("safe_http_watchdog", default=None)


def _read_text(response: requests.Response) -> str:
    """At most RESPONSE_TEXT_LIMIT characters of the body; the rest is never read.

    The status is already known, and for a 2xx the message was delivered: an answer that is
    slow, endless or cut off by the watchdog must not turn that into an error (a retry would
    post twice), so reading just stops.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        while size < _RESPONSE_BYTES_LIMIT:
            # read1 returns what one read gives, so a slow body cannot hold us to a full chunk.
            chunk = response.raw.read1(_RESPONSE_BYTES_LIMIT - size, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (urllib3.exceptions.HTTPError, OSError, ValueError):
        pass
    body = b"".join(chunks)
    return body.decode(response.encoding or "utf-8", errors="replace")[:RESPONSE_TEXT_LIMIT]


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    timeout: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> SafeResponse:
    """POST `payload` as JSON to a user-supplied `url`; return the 2xx answer (see `post_body`)."""
    return post_body(url, encode_json(payload), timeout=timeout, headers=headers)


def post_body(
    url: str,
    body: bytes,
    *,
    timeout: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> SafeResponse:
    """POST `body` (JSON bytes, sent exactly as given, so a caller can sign them) to a
    user-supplied `url`; return the 2xx answer.

    `timeout` (seconds; default OUTBOUND_HTTP_TIMEOUT_SECONDS) bounds the connect and each read,
    and the whole call ends after twice that whatever the server does. Redirects are not
    followed, proxies and .netrc from the environment are ignored, and nothing is retried here
    (the calling task retries).
    Raises `BlockedAddress` when the URL leads to a private or internal address (checked on every
    resolved address before dialling and on the connected peer before sending), and
    `OutboundHTTPError` for a refused URL, a network error, a timeout or a non-2xx answer, with
    `transient` telling the task whether to retry.
    """
    seconds = _timeout_seconds(timeout)
    _check_url_for_sending(url)
    request_headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Accept": "*/*",
        "User-Agent": USER_AGENT,
        **(headers or {}),
    }
    with requests.Session() as session, _Watchdog(2 * seconds) as watchdog:
        session.trust_env = False  # no proxies or .netrc credentials from the environment
        session.mount("http://", _CheckedAdapter())
        session.mount("https://", _CheckedAdapter())
        try:
            response = session.post(
                url,
                data=body,
                headers=request_headers,
                timeout=(seconds, seconds),
                allow_redirects=False,
                stream=True,
            )
        except BlockedAddress:
            raise
        except (requests.ConnectTimeout, requests.ReadTimeout) as error:
            raise _timed_out(seconds) from error
        except requests.exceptions.SSLError as error:
            if watchdog.expired:
                raise _timed_out(seconds) from error
            # A certificate that does not match or has expired is not fixed by retrying soon.
            raise OutboundHTTPError(
                f"TLS failed: {error}", transient=False, code="tls_error"
            ) from error
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidHeader,
        ) as error:
            raise OutboundHTTPError(str(error), transient=False, code="invalid_url") from error
        except requests.RequestException as error:
            if watchdog.expired:
                raise _timed_out(seconds) from error
            raise OutboundHTTPError(
                f"connection failed: {error}", transient=True, code="connection_error"
            ) from error
        if watchdog.expired:
            # The sockets were shut down while the status line or headers were arriving; what
            # http.client parsed from the cut-off answer is not an answer.
            response.close()
            raise _timed_out(seconds)
        with response:
            text = _read_text(response)
        status = response.status_code

    if 200 <= status < 300:
        return SafeResponse(status=status, text=text)
    if 300 <= status < 400:
        raise OutboundHTTPError(
            f"answered {status} (a redirect, which is not followed)",
            transient=False,
            code="redirect",
            status=status,
            text=text,
        )
    raise OutboundHTTPError(
        f"answered {status}",
        transient=_transient_status(status),
        code="http_status",
        status=status,
        text=text,
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )


def _timed_out(seconds: float) -> OutboundHTTPError:
    return OutboundHTTPError(f"no answer within {seconds:g} s", transient=True, code="timeout")
