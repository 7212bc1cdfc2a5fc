"""Prefixed random public identifiers (`srv_...`, `tp_...`): integer keys never leave the database."""

import secrets

# Lower-case letters and digits without look-alikes (0/o, 1/l/i) so ids survive being read aloud.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
LENGTH = 20  # about 99 bits of randomness
# Random bytes below 248 (8 x 31) map evenly onto the alphabet; the few above are dropped.
_TABLE = bytes(ord(ALPHABET[byte % len(ALPHABET)]) for byte in range(256))
_DROPPED = bytes(range(len(ALPHABET) * (256 // len(ALPHABET)), 256))


def new_public_id(prefix: str) -> str:
    # Mapped in C with bytes.translate: bulk inserts make thousands of ids per request, and one
    # `secrets.choice` per character cost more than the rest of saving a response.
    characters = b""
    while len(characters) < LENGTH:
        characters += secrets.token_bytes(LENGTH + 6).translate(_TABLE, _DROPPED)
    return f"{prefix}_" + characters[:LENGTH].decode()


def new_public_ids(prefix: str, count: int) -> list[str]:
    """`count` new ids for rows inserted in bulk (the random characters of all of them made at
    once: a contact import makes 5,000 a batch)."""
    needed = count * LENGTH
    characters = b""
    while len(characters) < needed:
        # About 3% of random bytes are dropped: ask for a little more than is missing.
        missing = needed - len(characters)
        characters += secrets.token_bytes(missing + missing // 16 + 6).translate(_TABLE, _DROPPED)
    text = characters[:needed].decode()
    return [f"{prefix}_{text[start : start + LENGTH]}" for start in range(0, needed, LENGTH)]
