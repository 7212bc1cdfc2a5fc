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


# --- invitations -------------------------------------------------------------------------------


@pytest.fixture
def public_base(settings) -> str:
    settings.PUBLIC_BASE_URL = "https://cx.example.com"
    return settings.PUBLIC_BASE_URL


@pytest.fixture
def nps_survey(org):
    from tests.surveys.factories import make_survey

    return make_survey(org, name="After visit")


@pytest.fixture
def sending(eager_tasks, smtp_outbox, fake_twilio, public_base):
    """Tasks run at once; email goes to the local SMTP server, SMS to the fake Twilio."""
    return {"outbox": smtp_outbox, "twilio": fake_twilio}
