"""The embedded default's email backend: each message becomes an .eml file, and one log line.

Printing whole messages to the console buried the terminal (a campaign printed thousands of
lines). Files under EMAIL_FILE_PATH (var/mail/) open in any mail program, links and all.
"""

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger(__name__)


class EmlFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            path = folder / f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\n"))
            logger.info(
                "email to %s: %s (%s)", ", ".join(message.recipients()), message.subject, path
            )
            sent += 1
        return sent
