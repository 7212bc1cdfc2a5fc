import pytest

from cxplatform.celery import app as celery_app
from tenancy.actors import Actor
from tenancy.models import Membership


@pytest.fixture
def eager_tasks(settings):
    """Run Celery tasks in-process at once (the import task then runs on commit)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def cx_actor(personas, org) -> Actor:
    membership = Membership.all_objects.get(user=personas.cx_manager, organization=org)
    return Actor.for_membership(membership)
