"""``iam`` and ``aws_secrets_manager``: database credentials from AWS.

``iam``: the password is an RDS IAM authentication token, signed locally (SigV4, no network)
for the user, host, port and region, and reused from a process-wide cache until
``iam_expiration``. AWS credentials come from the standard chain, ``aws_profile``, or a hook
(:func:`aws_wrapper.aws.credentials.set_credentials_provider`); resolving them may block (files,
instance metadata), so in async code it runs in the bounded offload pool, and only when a token
must be signed.

``aws_secrets_manager``: the user name and password come from a Secrets Manager secret
(a JSON object), cached until ``secrets_manager_expiration``. When the server refuses the
login (the secret was rotated), the secret is read again once and the login retried.

Both are *authenticators* (see :mod:`aws_wrapper._async.auth`): they apply to every connection
the wrapper opens, monitors' included, and never run on the query path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from aws_wrapper._compat import AResult, arun_blocking
from aws_wrapper.aws import clients
from aws_wrapper.aws.credentials import AwsCredentials, resolve_credentials
from aws_wrapper.aws.iam import TOKENS, TokenTarget, token_target
from aws_wrapper.errors import AwsAuthError, PropertyError
from aws_wrapper.forking import at_fork_in_child
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.plugins.auth import (
    AWS_PROFILE,
    IAM_DEFAULT_PORT,
    IAM_EXPIRATION,
    IAM_HOST,
    IAM_REGION,
    IAM_SSL_CA,
    SECRETS_MANAGER_ENDPOINT,
    SECRETS_MANAGER_EXPIRATION,
    SECRETS_MANAGER_PASSWORD,
    SECRETS_MANAGER_PASSWORD_KEY,
    SECRETS_MANAGER_REGION,
    SECRETS_MANAGER_SECRET_ID,
    SECRETS_MANAGER_USERNAME,
    SECRETS_MANAGER_USERNAME_KEY,
)
from aws_wrapper.properties import Properties
from aws_wrapper.telemetry import TOKEN_FETCH_SPAN, span_of

from ..auth import FETCH_LOCKS
from ..plugin import BasePlugin
from ..protocols import PluginService


class IamTokenSource:
    """Signs (or takes from the cache) the IAM token for a host, as a set of properties."""

    def __init__(self, service: PluginService, props: Properties, expiration_prop: Any) -> None:
        self.service = service
        self.profile = props.get(AWS_PROFILE)
        self.iam_host = props.get(IAM_HOST)
        self.iam_port = props.get(IAM_DEFAULT_PORT)
        self.region = props.get(IAM_REGION)
        self.ca_file = props.get(IAM_SSL_CA)
        self.expiration = float(props.get(expiration_prop))
        self.owner: tuple[str | None, ...] = ("profile", self.profile)
        """Whose credentials sign the tokens: part of the cache key."""

    def target(self, host: HostInfo, user: str | None, iam_host: str | None = None) -> TokenTarget:
        """What a token is signed for: ``iam_host`` (a connect's own, e.g. the blue/green
        plugin's second try), else the ``iam_host`` property, else the host's name."""
        return token_target(
            iam_host or self.iam_host or host.host,
            self.iam_port or host.port,
            user,
            self.region,
            "iam_region",
        )

    async def credentials(self, region: str) -> AwsCredentials:
        """The AWS credentials that sign tokens (the standard chain, a profile, the hook)."""
        return await arun_blocking(resolve_credentials, self.profile)

    async def token_props(
        self,
        host: HostInfo,
        props: Properties,
        user: str | None,
        credentials: Callable[[str], AResult[AwsCredentials]] | None = None,
    ) -> Properties:
        """``props`` with the token for ``host`` as the password (signed with
        ``credentials(region)`` when not cached) and the driver's token login parameters."""
        target = self.target(host, user, props.get(IAM_HOST))
        key = (target, self.owner)
        token = TOKENS.lookup(key)
        if token is None:
            async with FETCH_LOCKS(("credentials", self.owner)):
                token = TOKENS.lookup(key)  # signed meanwhile by a concurrent connect?
                if token is None:
                    with span_of(
                        self.service.telemetry,
                        TOKEN_FETCH_SPAN,
                        {
                            "aws_wrapper.auth.kind": "iam_token",
                            "aws_wrapper.auth.region": target.region,
                            "aws_wrapper.auth.target": f"{target.host}:{target.port}",
                        },
                    ):
                        creds = await (credentials or self.credentials)(target.region)
                        token = TOKENS.sign(key, target, creds, self.expiration)
        driver = self.service.driver_dialect
        if self.ca_file is None:
            params = driver.token_login_params(props.driver, None)
        else:  # reads the CA file the first time
            params = await arun_blocking(driver.token_login_params, props.driver, self.ca_file)
        return props.copy(driver={**params, "user": target.user, "password": token})

    def forget(self, host: HostInfo, user: str | None, iam_host: str | None = None) -> None:
        try:
            TOKENS.forget(self.target(host, user, iam_host))
        except PropertyError:
            pass


class IamAuthPlugin(BasePlugin):
    """The ``iam`` plugin (see the module doc)."""

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        self._tokens = IamTokenSource(service, props, IAM_EXPIRATION)

    async def authenticate(self, host: HostInfo, props: Properties) -> Properties:
        return await self._tokens.token_props(host, props, props.driver.get("user"))

    def login_failed(self, host: HostInfo, used: Properties) -> bool:
        self._tokens.forget(host, used.driver.get("user"), used.get(IAM_HOST))
        return True  # a freshly signed token (new credentials, if they rotated)


# -- Secrets Manager ---------------------------------------------------------------------------


_SecretKey = tuple[str, str, str | None, str | None]
"""(secret id, region, endpoint, profile)"""


class _SecretCache:
    """(secret id, region, endpoint) -> (user, password, fetched at); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[_SecretKey, tuple[str, str, float]] = {}
        self.fetches = 0

    def get(self, key: _SecretKey, max_age: float) -> tuple[str, str] | None:
        with self._lock:
            hit = self._values.get(key)
        if hit is None or time.monotonic() - hit[2] > max_age:
            return None
        return hit[0], hit[1]

    def put(self, key: _SecretKey, user: str, password: str) -> None:
        with self._lock:
            self.fetches += 1
            self._values[key] = (user, password, time.monotonic())

    def forget(self, key: _SecretKey) -> None:
        with self._lock:
            self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def forget_after_fork(self) -> None:
        """In a forked child: empty, with a new lock (the parent's may be held by a thread
        that does not exist here)."""
        self._lock = threading.Lock()
        self._values = {}


SECRETS = _SecretCache()
"""The secrets this process read, by secret, region and endpoint."""
at_fork_in_child(SECRETS.forget_after_fork)


def _region_of(secret_id: str, region: str | None) -> str:
    if region:
        return region
    parts = secret_id.split(":")
    if secret_id.startswith("arn:") and len(parts) > 3 and parts[3]:
        return parts[3]
    return "us-east-1"


class SecretsManagerPlugin(BasePlugin):
    """The ``aws_secrets_manager`` plugin (see the module doc)."""

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        secret_id = props.get(SECRETS_MANAGER_SECRET_ID)
        if not secret_id:
            raise PropertyError(
                "the aws_secrets_manager plugin needs 'secrets_manager_secret_id' (the secret's "
                "name or ARN)",
                "secrets_manager_secret_id",
            )
        self.secret_id = secret_id
        region = _region_of(secret_id, props.get(SECRETS_MANAGER_REGION))
        self.endpoint = props.get(SECRETS_MANAGER_ENDPOINT)
        self.region = region
        self.profile = props.get(AWS_PROFILE)
        self.key = (secret_id, region, self.endpoint, self.profile)
        self.max_age = float(props.get(SECRETS_MANAGER_EXPIRATION))
        # aws-advanced-python-wrapper's names for the same settings are accepted too
        self.user_key = props.get(SECRETS_MANAGER_USERNAME) or props.get(
            SECRETS_MANAGER_USERNAME_KEY
        )
        self.password_key = props.get(SECRETS_MANAGER_PASSWORD) or props.get(
            SECRETS_MANAGER_PASSWORD_KEY
        )
        self._refresh_from: float | None = None

    async def authenticate(self, host: HostInfo, props: Properties) -> Properties:
        found = SECRETS.get(self.key, self.max_age)
        if found is None:
            async with FETCH_LOCKS(("secret", self.key)):
                found = SECRETS.get(self.key, self.max_age)  # read meanwhile?
                if found is None:
                    with span_of(
                        self.service.telemetry,
                        TOKEN_FETCH_SPAN,
                        {
                            "aws_wrapper.auth.kind": "secret",
                            "aws_wrapper.auth.region": self.region,
                        },
                    ):
                        found = await self._fetch()
        user, password = found
        return props.copy(driver={"user": user, "password": password})

    async def _fetch(self) -> tuple[str, str]:
        value = await arun_blocking(
            clients.get_secret, self.secret_id, self.region, self.endpoint, self.profile
        )
        user, password = value.get(self.user_key), value.get(self.password_key)
        for name, prop, got in (
            (self.user_key, "secrets_manager_secret_username_key", user),
            (self.password_key, "secrets_manager_secret_password_key", password),
        ):
            if not isinstance(got, str) or not got:
                raise AwsAuthError(
                    f"secret {self.secret_id!r} has no string {name!r} key (set {prop} if the "
                    "secret names it differently)"
                )
        assert isinstance(user, str) and isinstance(password, str)
        SECRETS.put(self.key, user, password)
        return user, password

    def login_failed(self, host: HostInfo, used: Properties) -> bool:
        cached = SECRETS.get(self.key, self.max_age)
        if cached is not None and cached[1] != used.driver.get("password"):
            return True  # another connection already read the rotated secret: use it
        SECRETS.forget(self.key)  # rotated? read it again, once
        return True
