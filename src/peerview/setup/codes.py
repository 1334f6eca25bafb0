"""One-time setup codes: made at random, shown once, kept only as a hash (docs/api.md §3.5).

A code is 12 symbols of a 32-symbol alphabet without look-alikes (no 0, O, 1 or I), written
`XXXX-XXXX-XXXX`: 60 random bits, far beyond what the address limits of §3.3 let anyone try,
so a plain SHA-256 is all the hash it needs.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GROUPS = 3
GROUP_LENGTH = 4


def new_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(symbols[i : i + GROUP_LENGTH] for i in range(0, len(symbols), GROUP_LENGTH))


def normalise(code: str) -> str:
    """The code as typed, without its case, spaces and dashes: `abcd efgh-jkmn` is
    `ABCDEFGHJKMN`."""
    return "".join(code.split()).replace("-", "").upper()


def digest(code: str) -> str:
    """What the database keeps of a code: the SHA-256 of its normal form, in hex."""
    return hashlib.sha256(normalise(code).encode()).hexdigest()
