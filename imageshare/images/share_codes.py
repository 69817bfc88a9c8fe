"""Share codes: 8 random base62 characters, unrelated to the image id.

62**8 ≈ 2.2e14 codes, so guessing one that exists is hopeless and collisions are
rare; the unique index on image.share_code catches the rare one.
"""

import secrets
import string

ALPHABET = string.digits + string.ascii_letters
LENGTH = 8


def new_share_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def is_share_code(text: str) -> bool:
    return len(text) == LENGTH and all(c in ALPHABET for c in text)
