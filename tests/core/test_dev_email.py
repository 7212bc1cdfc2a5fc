"""The embedded default's email backend: each email is an .eml file under var/mail/ and one
log line, instead of the whole message printed to the terminal."""

import logging
from email import message_from_bytes, policy

from django.core.mail import EmailMultiAlternatives, send_mail


def test_each_email_becomes_one_file_and_one_log_line(settings, tmp_path, caplog):
    settings.EMAIL_BACKEND = "core.mail.EmlFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    caplog.set_level(logging.INFO, logger="core.mail")

    message = EmailMultiAlternatives(
        "Kerro kokemuksestasi", "Vastaa: https://example.fi/r/abc/\n" * 40, to=["anna@example.fi"]
    )
    message.attach_alternative("<p>Vastaa</p>", "text/html")
    message.send()
    send_mail("Second", "Body", "noreply@example.fi", ["ben@example.fi", "cy@example.fi"])

    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    parsed = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in files]
    subjects = {str(item["Subject"]) for item in parsed}
    assert subjects == {"Kerro kokemuksestasi", "Second"}
    first = next(item for item in parsed if str(item["Subject"]) == "Kerro kokemuksestasi")
    assert "https://example.fi/r/abc/" in first.get_body(("plain",)).get_content()

    lines = [record.getMessage() for record in caplog.records if record.name == "core.mail"]
    assert len(lines) == 2
    assert any("anna@example.fi" in line and "Kerro kokemuksestasi" in line for line in lines)
    assert all(".eml" in line and "\n" not in line for line in lines)
