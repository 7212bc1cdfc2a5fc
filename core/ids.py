"""Prefixed random public identifiers (`srv_...`, `tp_...`): integer keys never leave the database."""

import secrets

# Lower-case letters and digits without look-alikes (0/o, 1/l/i) so ids survive being read aloud.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
LENGTH = 20  # about 99 bits of randomness


def new_public_id(prefix: str) -> str:
    return f"{prefix}_" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
