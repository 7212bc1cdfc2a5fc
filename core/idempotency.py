"""`Idempotency-Key`: a client that retries a POST gets the first answer again, not a second write.

The key row is inserted in the same transaction as the work it guards. A concurrent request with
the same key waits on the unique index until the first commits, then replays its answer; if the
first failed, nothing was stored and the retry runs the work. Only successful answers are stored,
so a request refused for invalid data can be corrected and sent again under the same key.
A replay whose method, path or body differ from the first is refused with 409.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from core.exceptions import ApplicationError, ConflictError
from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEEP_FOR = timedelta(hours=24)


def fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "body": body}, sort_keys=True, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    *, organization, key: str, fingerprint: str, work: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run `work()` once per (organization, key); return (status, body, replayed).

    Raises ConflictError when the key was used for a different request, ApplicationError when the
    key is too long; exceptions from `work` propagate and store nothing.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApplicationError(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.", code="invalid_idempotency_key"
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    organization=organization,
                    key=key,
                    fingerprint=fingerprint,
                    response_status=0,
                )
        except IntegrityError:
            stored = IdempotencyKey.objects.get(organization=organization, key=key)
            if stored.fingerprint != fingerprint:
                raise ConflictError(
                    f"This {HEADER} was used for a different request.",
                    code="idempotency_key_reused",
                ) from None
            return stored.response_status, stored.response_body, True
        status, body = work()
        record.response_status = status
        record.response_body = body
        record.save(update_fields=["response_status", "response_body"])
        return status, body, False


class _NotStored(Exception):
    def __init__(self, response: Response):
        super().__init__()
        self.response = response


def idempotent_response(request, *, organization, respond: Callable[[], Response]) -> Response:
    """DRF adapter: honour the header when present, else just `respond()`."""
    key = request.headers.get(HEADER)
    if key is None:
        return respond()
    digest = fingerprint(method=request.method, path=request.path, body=request.data)

    def work() -> tuple[int, Any]:
        response = respond()
        if response.status_code >= 400:
            raise _NotStored(response)  # rolls the key back with the failed work
        return response.status_code, json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))

    try:
        status, body, replayed = run_once(
            organization=organization, key=key, fingerprint=digest, work=work
        )
    except _NotStored as failed:
        return failed.response
    headers = {REPLAY_HEADER: "true"} if replayed else {}
    return Response(body, status=status, headers=headers)


def idempotency_keys_purge(*, older_than: timedelta = KEEP_FOR) -> int:
    """Delete keys older than `older_than` across tenants (for a periodic task)."""
    cutoff = timezone.now() - older_than
    deleted, _ = IdempotencyKey.all_objects.filter(created_at__lt=cutoff).delete()
    return deleted
