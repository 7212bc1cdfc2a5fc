"""Reads that may lag a little (dashboards, KPI and metric series, journey map scores, exports,
digests) go to a streaming replica when DATABASE_REPLICA_URL names one; everything else, and any
read inside a transaction (it may need to see its own writes), stays on the primary.

Explicit, never a router: a selector that may lag says so with `lag_tolerant()`. An unreachable
replica is remembered for a while and those reads go to the primary without an error.
"""

import logging
import time

from django.db import DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = "default"
# How long a replica found unreachable is left alone before it is tried again.
RETRY_AFTER = 30.0
_down_until = 0.0


def lag_tolerant() -> str:
    """The database alias for a read that may be a few seconds behind."""
    global _down_until
    if REPLICA not in connections.settings or transaction.get_connection(PRIMARY).in_atomic_block:
        return PRIMARY
    now = time.monotonic()
    if now < _down_until:
        return PRIMARY
    replica = connections[REPLICA]
    try:
        # A kept connection is checked once per request (CONN_HEALTH_CHECKS, on for the replica),
        # here rather than at the read, so a replica gone since the last request falls back too.
        replica.close_if_health_check_failed()
        replica.ensure_connection()
    except DatabaseError:
        replica.close()
        _down_until = now + RETRY_AFTER
        logger.warning(
            "replica unreachable; lag-tolerant reads use the primary for %ss", RETRY_AFTER
        )
        return PRIMARY
    return REPLICA


def replica_recheck() -> None:
    """Forget that the replica was down (tests, and an operator's fix taking effect at once)."""
    global _down_until
    _down_until = 0.0
