"""The client's address as far as we can trust it, for rate limits, axes lockouts and storage.

Only the entries that our own proxies add to X-Forwarded-For can be believed: each proxy appends
the address it saw, so with `TRUSTED_PROXY_COUNT = N` the client is the Nth entry from the right.
Anything further left was written by the client and may be forged. With N = 0 (the default: no
proxy in front) the header is ignored and the socket's peer (REMOTE_ADDR) is the client.
"""

from django.conf import settings
from python_ipware import IpWare


def client_ip(request) -> str:
    """The client's IP address, or "" when not even REMOTE_ADDR is known (a Unix socket)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        # Not strict: extra entries on the left are the client's own and are ignored.
        # python-ipware counts the proxies *between* the client and the last proxy.
        reader = IpWare(precedence=("HTTP_X_FORWARDED_FOR",), proxy_count=proxies - 1)
        address, _ = reader.get_client_ip(request.META, strict=False)
        if address is not None:
            return str(address)
    # No proxy in front, or fewer entries than proxies: the request did not come through them.
    return request.META.get("REMOTE_ADDR", "") or ""
