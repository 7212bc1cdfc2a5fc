"""Rate limits for the public respondent POSTs, counted by django-ratelimit in the cache (Redis).

A limit protects the service; it must never cost a respondent their answer. When the cache cannot
be reached the request goes through and a warning is logged (RATELIMIT_FAIL_OPEN covers a count
the cache lost; a connection error is caught here).
"""

import ipaddress
import logging

from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from core.client_ip import client_ip

logger = logging.getLogger(__name__)

PUBLIC_POSTS_PER_MINUTE = 30


def _address_key(group: str, request) -> str:
    # One IPv6 holder usually has a whole /64, so count the /64 as one address.
    # django-ratelimit hashes the key, so no address is stored in the cache.
    address = client_ip(request)
    if ":" in address:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return address


def respondent_post_limited(request, survey) -> bool:
    """Count this POST to `survey` from the client's address; True once over the limit."""
    try:
        return is_ratelimited(
            request,
            group=f"surveys.respond:{survey.public_id}",
            key=_address_key,
            rate=f"{PUBLIC_POSTS_PER_MINUTE}/m",
            increment=True,
        )
    except (RedisError, OSError):
        logger.warning("Respondent rate limit skipped: the cache is unreachable", exc_info=True)
        return False
