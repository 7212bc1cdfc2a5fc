"""Signals other apps listen to (they sit above surveys in the layers and may not be imported)."""

from django.dispatch import Signal

# Sent once per saved response, after its transaction commits, with the keyword arguments
# `organization_id`, `response_id` and `through_personal_link` (None when the sender does not
# know; distribution skips responses known not to come through a personal link). Metrics refresh
# rollups and alerts evaluate rules from it; a response whose listeners failed is picked up by
# the sweep over `Response.processed_at`.
response_submitted = Signal()
