"""alerts listens to surveys' signal; the receiver only enqueues (never writes in the request)."""

from alerts.tasks import evaluate_response
from core.tasks import enqueue_on_commit


def on_response_submitted(sender, *, organization_id: int, response_id: int, **kwargs) -> None:
    enqueue_on_commit(evaluate_response, organization_id=organization_id, response_id=response_id)
