"""`Idempotency-Key`: a client that retries a POST gets the first answer again, not a second write.

Every API POST that creates takes the header from here: viewsets mix in `IdempotentCreateMixin`,
other creating actions are decorated with `@idempotent`. The key row is inserted in the same
transaction as the work it guards. A concurrent request with the same key waits on the unique
index until the first commits, then replays its answer; if the first failed, nothing was stored
and the retry runs the work. Only successful answers are stored, so a request refused for invalid
data can be corrected and sent again under the same key. A replay whose method, path or body
differ from the first is refused with 422 (`idempotency_key_reused`).

Writers that can record the key in the very statement that does their work (the response
endpoints) pass an `IdempotencyClaim` down and use `stored_answer()` when nothing was written.
"""

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from core.exceptions import ApplicationError
from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEEP_FOR = timedelta(hours=24)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="Send the same key again (within 24 hours) to get the first answer back instead "
    "of a second write; the same key with another body answers 422 `idempotency_key_reused`.",
)


class KeyReusedError(ApplicationError):
    """The key was used before for a different request (IETF idempotency-key draft: 422)."""

    status_code = 422

    def __init__(self):
        super().__init__(
            f"This {HEADER} was used for a different request.", code="idempotency_key_reused"
        )


@dataclass(frozen=True)
class IdempotencyClaim:
    """The key row a writer inserts in the same statement as its work (see the module doc)."""

    key: str
    fingerprint: str
    status: int
    body: Any

    def body_json(self) -> str:
        return json.dumps(self.body, cls=DjangoJSONEncoder)


def fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "body": body}, sort_keys=True, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def request_fingerprint(request) -> str:
    return fingerprint(method=request.method, path=request.path, body=request.data)


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApplicationError(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.", code="invalid_idempotency_key"
        )


def stored_answer(*, organization, key: str, fingerprint: str) -> tuple[int, Any] | None:
    """The (status, body) stored for `key`, or None when the key is unknown (or forgotten).

    Raises KeyReusedError when the key was stored for a different request."""
    stored = (
        IdempotencyKey.objects.filter(organization=organization, key=key)
        .values_list("fingerprint", "response_status", "response_body")
        .first()
    )
    if stored is None:
        return None
    if stored[0] != fingerprint:
        raise KeyReusedError()
    return stored[1], stored[2]


def run_once(
    *, organization, key: str, fingerprint: str, work: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run `work()` once per (organization, key); return (status, body, replayed).

    Raises KeyReusedError when the key was used for a different request, ApplicationError when
    the key is too long; exceptions from `work` propagate and store nothing.
    """
    check_key(key)
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
            status, body = stored_answer(
                organization=organization, key=key, fingerprint=fingerprint
            )
            return status, body, True
        status, body = work()
        record.response_status = status
        record.response_body = body
        record.save(update_fields=["response_status", "response_body"])
        return status, body, False


class _NotStored(Exception):
    def __init__(self, response: Response):
        super().__init__()
        self.response = response


def replayed_response(status: int, body: Any) -> Response:
    return Response(body, status=status, headers={REPLAY_HEADER: "true"})


def idempotent_response(request, *, organization, respond: Callable[[], Response]) -> Response:
    """DRF adapter: honour the header when present, else just `respond()`."""
    key = request.headers.get(HEADER)
    if key is None:
        return respond()

    def work() -> tuple[int, Any]:
        response = respond()
        if response.status_code >= 400:
            raise _NotStored(response)  # rolls the key back with the failed work
        return response.status_code, json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))

    try:
        status, body, replayed = run_once(
            organization=organization, key=key, fingerprint=request_fingerprint(request), work=work
        )
    except _NotStored as failed:
        return failed.response
    if replayed:
        return replayed_response(status, body)
    return Response(body, status=status)


def idempotent(view_method):
    """Decorate an API view method that creates (the view has `self.organization`)."""

    @extend_schema(parameters=[IDEMPOTENCY_PARAMETER])
    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        return idempotent_response(
            request,
            organization=self.organization,
            respond=lambda: view_method(self, request, *args, **kwargs),
        )

    return wrapper


class IdempotentCreateMixin:
    """Put before the viewset's mixins: `create` honours `Idempotency-Key`."""

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


def idempotency_keys_purge(*, older_than: timedelta = KEEP_FOR) -> int:
    """Delete keys older than `older_than` across tenants (for a periodic task)."""
    cutoff = timezone.now() - older_than
    deleted, _ = IdempotencyKey.all_objects.filter(created_at__lt=cutoff).delete()
    return deleted
