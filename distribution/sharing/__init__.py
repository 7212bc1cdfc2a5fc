"""Sharing a survey: per-channel links, QR codes and posters, website embeds, kiosks."""
