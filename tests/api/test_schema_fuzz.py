"""schemathesis against the API's own OpenAPI schema: every operation, read and write, with
generated input, called in-process through the WSGI application with a write key of an
organization that has one object of each kind. No answer may be a server error, and every
answer must be one the schema documents (status code, content type and body).

The number of examples is bounded and the run derandomized so CI stays fast and repeatable
(about a minute for everything); `API_FUZZ_EXAMPLES` raises it for a longer local hunt.
"""

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings, strategies
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import ApiKey
from tests.factories import make_api_key
from tests.test_tenant_isolation import _fill, acme_objects  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db]

ORG = "acme"
PREFIX = f"/api/v1/orgs/{ORG}/"
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "4"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _schema_for_one_organization() -> dict:
    """The served schema with `{org_slug}` fixed to the seeded organization (an unknown slug
    only ever answers 404, which would leave the operations untried)."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    schema = json.loads(OpenApiJsonRenderer().render(raw))
    paths = {}
    for path, operations in schema["paths"].items():
        if "{org_slug}" not in path:
            continue
        for operation in operations.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p for p in operation["parameters"] if p.get("name") != "org_slug"
                ]
        paths[path.replace("{org_slug}", ORG)] = operations
    schema["paths"] = paths
    return schema


schema = schemathesis.openapi.from_dict(_schema_for_one_organization())
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_the_tests_connection():
    """The WSGI handler closes the database connection after each request, which would end the
    test's transaction; Django's test client switches that off the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def write_key(org) -> str:
    api_key, full_key = make_api_key(org, scope="write", name="fuzz")
    # The fuzzer sends far more than an integration would in a minute.
    ApiKey.all_objects.filter(pk=api_key.pk).update(rate_limit_per_minute=1_000_000)
    return full_key


def _real_ids(case, objects: dict) -> None:
    """A detail operation gets the id of a real object of its kind, so updates, actions and
    deletes run on data rather than stopping at 404."""
    if "public_id" in (case.path_parameters or {}):
        template = case.operation.path.replace("{public_id}", "{id}")
        filled = _fill(template.replace("{survey_id}", objects["surveys"]), objects)
        if filled is not None:
            case.path_parameters["public_id"] = filled.split("/")[template.split("/").index("{id}")]
    if "survey_id" in (case.path_parameters or {}):
        case.path_parameters["survey_id"] = objects["surveys"]


def _operations() -> list:
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda operation: operation.label)


def _failure(operation, error: BaseException) -> str:
    return f"{operation.label}:\n{error}"[:2000]


def test_api_answers_as_documented(acme_objects, write_key):  # noqa: F811
    """One test over all operations, so the organization is seeded once; each example runs in
    a savepoint rolled back afterwards, so a DELETE leaves the object for the next one."""
    headers = {"Authorization": f"Bearer {write_key}"}
    failures = []
    for operation in _operations():
        cases = strategies.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            _real_ids(case, acme_objects)
            with transaction.atomic():
                case.call_and_validate(headers=headers, checks=CHECKS)
                transaction.set_rollback(True)

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # every operation, not only the first
            failures.append(_failure(operation, error))
    assert not failures, "\n\n".join(failures)
