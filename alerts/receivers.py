"""alerts listens to surveys' signal; the receiver only queues (never writes in the request)."""

from django.db import transaction

from alerts.queueing import response_queue_for_evaluation


def on_response_submitted(sender, *, organization_id: int, response_id: int, **kwargs) -> None:
    transaction.on_commit(
        lambda: response_queue_for_evaluation(
            organization_id=organization_id, response_id=response_id
        )
    )
