"""AWS credentials for the authentication plugins: the standard provider chain, a profile, or
a hook of the application's own.

Everything here may block (botocore reads files and may call the instance metadata service):
the async plugins call it through the bounded blocking-call offload, never on the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_wrapper.errors import AwsAuthError
from aws_wrapper.forking import at_fork_in_child, bury


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    """An access key, its secret and (temporary credentials) a session token. Only the access
    key id is ever shown."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    """When temporary credentials expire (seconds since the epoch), if known."""

    def __repr__(self) -> str:
        temporary = ", temporary" if self.token else ""
        return f"AwsCredentials(access_key={self.access_key!r}{temporary})"


CredentialsProvider = Callable[[str | None], AwsCredentials]
"""A hook returning credentials for a profile name (``aws_profile``, or None). It may block; in
asyncio it runs off the event loop."""

_hook: CredentialsProvider | None = None
_sessions: dict[str | None, Any] = {}
_lock = threading.Lock()


@at_fork_in_child
def _forget_sessions_after_fork() -> None:
    """A forked child makes its own botocore sessions (and their credential refreshers)."""
    global _sessions, _lock
    bury(_sessions)
    _sessions = {}
    _lock = threading.Lock()


def set_credentials_provider(provider: CredentialsProvider | None) -> None:
    """Use ``provider`` instead of the standard AWS chain for every authentication plugin
    (IAM tokens, Secrets Manager reads); ``None`` restores the standard chain. STS
    AssumeRoleWithSAML needs no credentials (the SAML assertion is the proof)."""
    global _hook
    _hook = provider


def has_credentials_hook() -> bool:
    return _hook is not None


def resolve_credentials(profile: str | None) -> AwsCredentials:
    """Credentials from the hook, else from botocore's standard chain (environment, shared
    credentials and config files, SSO, container and instance metadata) for ``profile``."""
    hook = _hook
    if hook is not None:
        creds = hook(profile)
        if not isinstance(creds, AwsCredentials):
            raise AwsAuthError(
                "the credentials provider hook must return AwsCredentials, got "
                f"{type(creds).__name__}"
            )
        return creds
    session = botocore_session(profile)
    try:
        found = session.get_credentials()
    except Exception as e:
        raise AwsAuthError(_describe("could not load AWS credentials", profile, e)) from None
    if found is None:
        where = f"profile {profile!r}" if profile else "the standard chain"
        raise AwsAuthError(
            f"no AWS credentials found in {where} (environment variables, shared credentials "
            "and config files, SSO, container or instance metadata); set them, or aws_profile"
        )
    frozen = found.get_frozen_credentials()
    return AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token)


def botocore_session(profile: str | None) -> Any:
    """One botocore session per profile (they cache and refresh credentials)."""
    with _lock:
        session = _sessions.get(profile)
        if session is None:
            try:
                import botocore.session
            except ImportError:
                raise AwsAuthError(
                    "AWS authentication needs botocore: pip install 'aws-wrapper[aws]'"
                ) from None
            try:
                session = botocore.session.Session(profile=profile)
                if profile is not None:
                    session.get_scoped_config()  # fails now, clearly, for an unknown profile
            except Exception as e:
                raise AwsAuthError(_describe("bad AWS profile", profile, e)) from None
            _sessions[profile] = session
        return session


def _describe(what: str, profile: str | None, error: BaseException) -> str:
    where = f" (aws_profile {profile!r})" if profile else ""
    return f"{what}{where}: {type(error).__name__}: {error}"


def clear_sessions() -> None:
    """Forget the cached botocore sessions (after changing the environment, in tests)."""
    with _lock:
        _sessions.clear()
