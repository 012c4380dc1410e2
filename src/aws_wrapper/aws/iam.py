"""RDS IAM authentication tokens: where they are signed for, and a cache of them.

A token is signed locally (SigV4, no network) and valid for 15 minutes; the cache keeps one per
(user, host, port, region) until ``expiration`` seconds after it was made (``iam_expiration``,
default 870 s: 30 s before RDS stops accepting it), so most connects sign nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass

from aws_wrapper import rds_utils
from aws_wrapper.errors import AwsAuthError, PropertyError
from aws_wrapper.forking import at_fork_in_child

from .credentials import AwsCredentials
from .sigv4 import generate_rds_auth_token

TOKEN_LIFETIME_S = 900


@dataclass(frozen=True, slots=True)
class TokenTarget:
    """What a token is signed for."""

    host: str
    port: int
    user: str
    region: str


def token_target(
    host: str, port: int, user: str | None, region: str | None, region_prop: str
) -> TokenTarget:
    """Check and complete what a token will be signed for: the region comes from
    ``region`` (a property) or else from the RDS host name."""
    if not user:
        raise PropertyError(
            "IAM authentication needs the database user name: give 'user'"
            + (" (or 'db_user')" if region_prop != "iam_region" else ""),
            "user",
        )
    found = region or rds_utils.region_from_host(host)
    if not found:
        raise PropertyError(
            f"cannot tell the AWS region from the host name {host!r}: give '{region_prop}'",
            region_prop,
        )
    return TokenTarget(host, port, user, found)


class TokenCache:
    """Tokens by key (a target and whose credentials sign it), each kept until its
    expiration; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[TokenTarget, Hashable], tuple[str, float]] = {}
        self.signed = 0  # tokens signed (not served from the cache): for tests and stats

    def lookup(self, key: tuple[TokenTarget, Hashable]) -> str | None:
        with self._lock:
            hit = self._tokens.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def sign(
        self,
        key: tuple[TokenTarget, Hashable],
        target: TokenTarget,
        creds: AwsCredentials,
        expiration: float,
    ) -> str:
        """Sign a token for ``target`` with ``creds`` and keep it under ``key``."""
        try:
            token = generate_rds_auth_token(
                target.host,
                target.port,
                target.user,
                target.region,
                creds.access_key,
                creds.secret_key,
                creds.token,
            )
        except ValueError as e:
            raise AwsAuthError(f"cannot sign an IAM token for {target.host}: {e}") from None
        now = time.monotonic()
        with self._lock:
            self.signed += 1
            self._tokens[key] = (token, now + min(expiration, TOKEN_LIFETIME_S - 1))
            if len(self._tokens) > 10_000:  # expired entries of hosts no longer used
                self._tokens = {k: v for k, v in self._tokens.items() if v[1] > now}
        return token

    def forget(self, target: TokenTarget) -> None:
        """Drop the tokens for ``target`` (the server refused one)."""
        with self._lock:
            for key in [k for k in self._tokens if k[0] == target]:
                del self._tokens[key]

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def forget_after_fork(self) -> None:
        """In a forked child: empty, with a new lock (the parent's may be held by a thread
        that does not exist here)."""
        self._lock = threading.Lock()
        self._tokens = {}


TOKENS = TokenCache()
"""The process-wide token cache (both worlds)."""
at_fork_in_child(TOKENS.forget_after_fork)
