"""A real SMTP server (aiosmtpd) for tests that check what email arrives."""
