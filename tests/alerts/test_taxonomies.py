"""The starter root-cause lists an organization can load (no database)."""

import pytest
from django.utils.functional import Promise

from alerts.taxonomies import STARTER_TAXONOMIES


def test_retail_banking_and_telecom_have_starter_lists():
    assert set(STARTER_TAXONOMIES) == {"retail", "banking", "telecom"}


@pytest.mark.parametrize("industry", sorted(STARTER_TAXONOMIES))
def test_each_starter_list_is_a_usable_taxonomy(industry):
    causes = STARTER_TAXONOMIES[industry]

    assert 10 <= len(causes) <= 15
    assert len({(str(c.category), str(c.cause)) for c in causes}) == len(causes)
    assert all(isinstance(c.controllable, bool) for c in causes)
    # Both kinds, so closed-loop reports can separate what the organization can fix.
    assert {c.controllable for c in causes} == {True, False}
    for category, cause, _controllable in causes:
        assert isinstance(category, Promise) and isinstance(cause, Promise)
        assert 0 < len(str(category)) <= 100 and 0 < len(str(cause)) <= 200
