"""Playwright on Debian's Chromium for browser tests."""
