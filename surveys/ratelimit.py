"""A small fixed-window counter in Django's cache (Redis) for the public POST endpoints."""

import hashlib

from django.core.cache import cache

PUBLIC_POSTS_PER_WINDOW = 30
WINDOW_SECONDS = 60


def client_ip(request) -> str:
    # Behind the proxy REMOTE_ADDR is the proxy itself; the first X-Forwarded-For entry is the
    # client. Deployments without a proxy should strip that header at the edge.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return (forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR", ""))[:45]


def allow(
    scope: str, identity: str, *, limit: int = PUBLIC_POSTS_PER_WINDOW, window: int = WINDOW_SECONDS
) -> bool:
    """Count one hit for (scope, identity); False once `limit` hits fell in this window.

    The identity is hashed so raw IP addresses never sit in the cache.
    """
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    key = f"ratelimit:{scope}:{digest}"
    if cache.add(key, 1, timeout=window):
        return True
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add() and incr(): this is the first hit again
        cache.add(key, 1, timeout=window)
        return True
    return hits <= limit
