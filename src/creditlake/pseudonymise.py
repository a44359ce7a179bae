"""Keyed pseudonyms (HMAC-SHA256) for personal data, applied at the lake's door; the key lives outside the lake."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from creditlake.settings import Settings

PREFIX = "p1_"  # versioned, so a key rotation can coexist with old pseudonyms


def ensure_key(settings: Settings) -> Path:
    """Create the key file (32 random bytes, hex, mode 0600) if it does not exist; return its path."""
    path = settings.key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    return path


def load_key(settings: Settings) -> bytes:
    return bytes.fromhex(ensure_key(settings).read_text().strip())


def pseudonym_column(col, key: bytes):
    """Spark column: `p1_` + hex HMAC-SHA256(key, trimmed value); null stays null. No UDF: built-in functions."""
    from pyspark.sql import functions as F

    # HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)) for a 64-byte block; the key is padded once, here.
    block = key.ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in block).hex()
    opad = bytes(b ^ 0x5C for b in block).hex()
    value = F.trim(col.cast("string"))
    inner = F.sha2(F.concat(F.unhex(F.lit(ipad)), F.encode(value, "UTF-8")), 256)
    outer = F.sha2(F.concat(F.unhex(F.lit(opad)), F.unhex(inner)), 256)
    return F.when(value.isNull() | (value == ""), F.lit(None)).otherwise(F.concat(F.lit(PREFIX), outer))


def pseudonym(value: str, key: bytes) -> str:
    """The same pseudonym in plain Python (look-ups, tests, quarantined rows): trimmed of spaces as Spark's trim()
    trims, so a value with a tab or a newline at its end gets the pseudonym bronze gave it."""
    import hashlib
    import hmac

    return PREFIX + hmac.new(key, value.strip(" ").encode("utf-8"), hashlib.sha256).hexdigest()
