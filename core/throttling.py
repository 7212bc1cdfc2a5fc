"""API rate limits: requests per minute per API key (or per signed-in user), counted in Redis.

A fixed window of `WINDOW` seconds: one INCR (and EXPIRE) on a key named by the subject and the
window's start, shared by every web process on every machine. Over the limit DRF answers 429
with `Retry-After` in the error format (`core.api.exception_handler`). Every answer to a counted
request carries the IETF `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-
headers-10, structured-field syntax: `"per-key";q=600;w=60` and `"per-key";r=599;t=42`).

A limit protects the service and must never take it down: when Redis cannot be reached the
request goes through uncounted (and without `RateLimit`), and Redis is left alone for a few
seconds so a hanging server does not cost every request its timeout.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from core.queueing import redis_client

logger = logging.getLogger(__name__)

WINDOW = 60
# After a Redis error, requests go uncounted for this long before Redis is tried again.
BACK_OFF_SECONDS = 5.0
_redis_down_until = 0.0


@dataclass(frozen=True)
class RateLimitState:
    policy: str  # "per-key" or "per-user"
    quota: int
    window: int
    remaining: int | None  # None: not counted (Redis unreachable)
    reset: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        fields = {"RateLimit-Policy": f'"{self.policy}";q={self.quota};w={self.window}'}
        if self.remaining is not None:
            fields["RateLimit"] = f'"{self.policy}";r={self.remaining};t={self.reset}'
        return fields


def _subject(request) -> tuple[str, str, int] | None:
    """(policy, who, requests per window) of an authenticated request, else None."""
    default = settings.API_RATE_LIMIT_PER_MINUTE
    api_key = request.auth if getattr(request.auth, "is_api_key", False) else None
    if api_key is not None:
        return "per-key", f"key:{api_key.prefix}", api_key.rate_limit_per_minute or default
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.pk is not None:
        return "per-user", f"user:{user.pk}", default
    return None


def _count(who: str, window_start: int) -> int:
    name = f"ratelimit:{who}:{window_start}"
    pipe = redis_client().pipeline(transaction=False)
    pipe.incr(name)
    pipe.expire(name, WINDOW + 5)
    return int(pipe.execute()[0])


class ApiRateThrottle(BaseThrottle):
    """REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]; the state is kept on the request so that
    `rate_limit_headers()` can stamp every response, 429 or not."""

    def allow_request(self, request, view) -> bool:
        global _redis_down_until
        subject = _subject(request)
        if subject is None or not settings.REDIS_URL:
            return True
        policy, who, quota = subject
        now = time.time()
        window_start = int(now // WINDOW) * WINDOW
        self.reset = max(1, math.ceil(window_start + WINDOW - now))
        remaining = None
        if now >= _redis_down_until:
            try:
                remaining = quota - _count(who, window_start)
            except (RedisError, OSError):
                _redis_down_until = now + BACK_OFF_SECONDS
                logger.warning("API rate limit skipped: Redis is unreachable", exc_info=True)
        state = RateLimitState(
            policy,
            quota,
            WINDOW,
            None if remaining is None else max(0, remaining),
            self.reset,
        )
        request._request.rate_limit = state
        return remaining is None or remaining >= 0

    def wait(self) -> int:
        return self.reset


def rate_limit_headers(request, response) -> None:
    """Add the RateLimit fields of a counted request to its response."""
    state = getattr(getattr(request, "_request", request), "rate_limit", None)
    if state is not None:
        for name, value in state.headers().items():
            response[name] = value
