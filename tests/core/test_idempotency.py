import pytest

from core.exceptions import ApplicationError, ConflictError
from core.idempotency import fingerprint, run_once
from core.models import IdempotencyKey
from tenancy.scoping import tenant_scope

pytestmark = pytest.mark.django_db


def test_work_runs_once_per_key_and_the_answer_is_replayed(org):
    calls = []

    def work():
        calls.append(1)
        return 201, {"id": len(calls)}

    digest = fingerprint(method="POST", path="/x/", body={"a": 1})
    with tenant_scope(org):
        first = run_once(organization=org, key="k", fingerprint=digest, work=work)
        second = run_once(organization=org, key="k", fingerprint=digest, work=work)
    assert first == (201, {"id": 1}, False)
    assert second == (201, {"id": 1}, True)
    assert len(calls) == 1


def test_same_key_with_another_body_is_a_conflict(org):
    with tenant_scope(org):
        run_once(
            organization=org,
            key="k",
            fingerprint=fingerprint(method="POST", path="/x/", body={"a": 1}),
            work=lambda: (201, {}),
        )
        with pytest.raises(ConflictError):
            run_once(
                organization=org,
                key="k",
                fingerprint=fingerprint(method="POST", path="/x/", body={"a": 2}),
                work=lambda: (201, {}),
            )


def test_failed_work_stores_nothing_so_the_key_can_be_retried(org):
    def failing():
        raise ApplicationError("no")

    with tenant_scope(org):
        with pytest.raises(ApplicationError):
            run_once(organization=org, key="k", fingerprint="f", work=failing)
        assert not IdempotencyKey.objects.exists()


def test_fingerprint_ignores_key_order():
    assert fingerprint(method="POST", path="/", body={"a": 1, "b": 2}) == fingerprint(
        method="POST", path="/", body={"b": 2, "a": 1}
    )
