"""Access tokens of the profile service: who holds one, in which role, for which department and purposes.

The store (home/keys/api_tokens.json, mode 0600, outside the lake) keeps each token's SHA-256, never the token: a
token is shown once, when it is issued. A department's token names its catalogue source and the purposes it may
look for (查询用途); the service refuses any other purpose.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from creditlake.profile.definition import ROLES
from creditlake.settings import Settings

TOKEN_PREFIX = "cl_"
# What a department's token may be used for unless it is issued with its own list.
DEFAULT_PURPOSES: tuple[str, ...] = ("行政许可审查", "联合惩戒核查", "监管执法", "政府采购资格审查", "财政资金审核")


@dataclass
class Holder:
    holder: str  # who holds the token: a system or office name, never a person's name
    role: str
    department: str | None = None  # catalogue source code, for the department role
    purposes: list[str] = field(default_factory=list)
    issued_at: str = ""


def store_path(settings: Settings) -> Path:
    return settings.keys / "api_tokens.json"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _read(settings: Settings) -> dict[str, dict]:
    path = store_path(settings)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _write(settings: Settings, tokens: dict[str, dict]) -> None:
    path = store_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(tokens, fh, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def issue(settings: Settings, holder: str, role: str, department: str | None = None,
          purposes: list[str] | None = None, catalogue=None) -> str:
    """A new token for `holder` in `role`; returns the token (shown once). A department names its source code."""
    from creditlake.catalogue import default_catalogue

    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (one of: {', '.join(ROLES)})")
    if role == "department":
        if not department:
            raise ValueError("a department's token names its department (a source code of the catalogue)")
        (catalogue or default_catalogue()).source(department)  # KeyError for an unknown source
    elif department:
        raise ValueError("only the department role names a department")
    tokens = _read(settings)
    if any(h["holder"] == holder for h in tokens.values()):
        raise ValueError(f"{holder!r} already holds a token: revoke it first")
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    wanted = list(purposes or (DEFAULT_PURPOSES if role == "department" else []))
    tokens[_digest(token)] = asdict(Holder(holder, role, department, wanted,
                                           datetime.now(timezone.utc).isoformat(timespec="seconds")))
    _write(settings, tokens)
    return token


def holders(settings: Settings) -> list[Holder]:
    return [Holder(**h) for h in _read(settings).values()]


def revoke(settings: Settings, holder: str) -> bool:
    tokens = _read(settings)
    kept = {d: h for d, h in tokens.items() if h["holder"] != holder}
    _write(settings, kept)
    return len(kept) < len(tokens)


class TokenBook:
    """The tokens as the service reads them: re-read when the store file changes (a token issued or revoked while
    the service runs takes effect at the next request)."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._stamp: tuple | None = None
        self._by_digest: dict[str, Holder] = {}

    def holder(self, token: str) -> Holder | None:
        path = store_path(self._settings)
        try:
            st = path.stat()
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._by_digest = {d: Holder(**h) for d, h in _read(self._settings).items()}
            self._stamp = stamp
        return self._by_digest.get(_digest(token))


# The demo's token holders, one per role (a department: the finance bureau, which restricts subsidies).
DEMO_HOLDERS: tuple[tuple[str, str, str | None], ...] = (
    ("演示-信用中国门户", "public", None), ("演示-财政局补贴审核系统", "department", "finance"),
    ("演示-市场监管局信用监管科", "regulator", None))


def demo_tokens(settings: Settings) -> Path:
    """Issue the demo holders' tokens once and keep them, in the clear, in home/keys/demo_api_tokens.json (mode
    0600): a demo needs them again; a deployment issues its own with `creditlake api issue-token`."""
    path = settings.keys / "demo_api_tokens.json"
    held = {h.holder for h in holders(settings)}
    if path.exists() and all(name in held for name, _, _ in DEMO_HOLDERS):
        return path
    issued = {}
    for name, role, department in DEMO_HOLDERS:
        revoke(settings, name)
        issued[name] = {"role": role, "department": department, "token": issue(settings, name, role, department)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(issued, fh, ensure_ascii=False, indent=1)
    return path
