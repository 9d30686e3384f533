"""Bearer tokens of the HTTP API: ``EXTRACTION_API_TOKENS``, comma-separated, read-write unless written ``TOKEN:ro``.

Tokens are compared in constant time (``hmac.compare_digest``) against every configured token, so neither the
answer's timing nor an early exit tells a caller how much of a guess was right. Without tokens the API refuses
every request unless it was explicitly started without authentication (``--no-auth``, loopback only).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from dataclasses import dataclass
from enum import Enum

TOKENS_ENV = "EXTRACTION_API_TOKENS"
_READ_ONLY_SUFFIX = ":ro"
_READ_WRITE_SUFFIX = ":rw"


class Access(str, Enum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class ApiToken:
    secret: str
    read_only: bool

    def allows(self, access: Access) -> bool:
        return access is Access.READ or not self.read_only


class InvalidTokensError(ValueError):
    """``EXTRACTION_API_TOKENS`` holds an entry that is not a usable token."""


def parse_tokens(raw: str | None) -> tuple[ApiToken, ...]:
    """``"abc,def:ro"`` → a read-write and a read-only token; blank entries are ignored."""
    tokens = []
    for entry in (raw or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        read_only = entry.endswith(_READ_ONLY_SUFFIX)
        secret = entry.removesuffix(_READ_ONLY_SUFFIX).removesuffix(_READ_WRITE_SUFFIX)
        if not secret or any(ch.isspace() for ch in secret):
            raise InvalidTokensError(f"{TOKENS_ENV} has an empty token or one with whitespace in it")
        tokens.append(ApiToken(secret, read_only))
    return tuple(tokens)


@dataclass(frozen=True)
class ApiAuth:
    """Who may call the API: the configured tokens, or anyone when started with ``--no-auth``."""

    tokens: tuple[ApiToken, ...] = ()
    anonymous: bool = False

    @classmethod
    def from_environment(cls) -> ApiAuth:
        return cls(parse_tokens(os.environ.get(TOKENS_ENV)))

    @property
    def configured(self) -> bool:
        return self.anonymous or bool(self.tokens)

    def find(self, presented: str | None) -> ApiToken | None:
        """The configured token equal to ``presented`` (every token compared, in constant time), or None."""
        if presented is None:
            return None
        given = presented.encode()
        found: ApiToken | None = None
        for token in self.tokens:
            if hmac.compare_digest(given, token.secret.encode()):
                found = token
        return found


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class UnsafeBindError(ValueError):
    """The server would answer other machines without authentication."""


def server_auth(host: str, *, no_auth: bool) -> ApiAuth:
    """The standalone server's auth: the tokens of the environment, or none — only on loopback with ``--no-auth``."""
    if no_auth:
        if not is_loopback(host):
            raise UnsafeBindError(
                f"--no-auth is allowed only on a loopback address (127.0.0.1, ::1, localhost), not {host!r}: "
                f"set {TOKENS_ENV} instead"
            )
        return ApiAuth(anonymous=True)
    auth = ApiAuth.from_environment()
    if not auth.tokens:
        raise UnsafeBindError(
            f"{TOKENS_ENV} is not set: the API refuses to start without tokens (comma-separated, TOKEN:ro for "
            "read-only); for a local try-out on 127.0.0.1 pass --no-auth"
        )
    return auth
