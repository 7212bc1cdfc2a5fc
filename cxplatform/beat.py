"""The beat scheduler: RedBeat (schedule and lock in Redis), kept alive through Redis faults.

RedBeat ends the beat process when it cannot extend its lock, and keeps its schedule in Redis.
After a Redis restart without its file, or a flush, both are gone: the lock cannot be extended
and no entry is due any more, so periodic work (the sweeps that repair what the fault lost)
would stop until someone restarted beat. Here the lock is acquired again, waiting while
another beat holds it (so still only one scheduler acts), and the schedule is written again
from settings. While Redis cannot be reached at all, beat waits and tries again.
"""

import logging

import redis
from redbeat import RedBeatScheduler

logger = logging.getLogger(__name__)


class Scheduler(RedBeatScheduler):
    def tick(self, *args, **kwargs):
        try:
            return super().tick(*args, **kwargs)
        except redis.exceptions.LockNotOwnedError:
            logger.warning("beat: the scheduler lock was lost (Redis restarted?); taking it again")
            self.lock.acquire()  # blocks while another beat holds it
            self.setup_schedule()  # the entries went with the lock
            logger.warning("beat: lock taken again and schedule restored")
            return 0
        except redis.exceptions.ConnectionError:
            logger.warning("beat: Redis unreachable; trying again in %s s", self.max_interval)
            return self.max_interval
