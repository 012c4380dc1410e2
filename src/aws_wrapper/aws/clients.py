"""The AWS API calls of the authentication plugins: Secrets Manager GetSecretValue and STS
AssumeRoleWithSAML, through boto3 clients cached per service, region, endpoint and profile.

These block (HTTPS to AWS): the async plugins run them through the bounded blocking-call
offload. Endpoints follow botocore's configuration (``AWS_ENDPOINT_URL``,
``AWS_ENDPOINT_URL_SECRETS_MANAGER``, ``AWS_ENDPOINT_URL_STS``, the config file) unless a
property gives one. Errors become :class:`AwsAuthError` naming the secret or role, never a
secret value or assertion.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from aws_wrapper.errors import AwsAuthError
from aws_wrapper.forking import at_fork_in_child, bury

from .credentials import (
    AwsCredentials,
    botocore_session,
    has_credentials_hook,
    resolve_credentials,
)

_clients: dict[tuple[str, str, str | None, str | None, bool, str | None], Any] = {}
_lock = threading.Lock()
TIMEOUT_S = 10.0


@at_fork_in_child
def _forget_clients_after_fork() -> None:
    """A forked child makes its own clients: the parent's keep HTTPS connections (the
    parent's sockets) in their pools."""
    global _clients, _lock
    bury(_clients)
    _clients = {}
    _lock = threading.Lock()


def client(
    service: str,
    region: str,
    endpoint: str | None = None,
    profile: str | None = None,
    *,
    unsigned: bool = False,
) -> Any:
    creds = None if unsigned or not has_credentials_hook() else resolve_credentials(profile)
    key = (service, region, endpoint, profile, unsigned, creds.access_key if creds else None)
    with _lock:
        found = _clients.get(key)
    if found is not None:
        return found
    from botocore.config import Config

    config = Config(
        connect_timeout=TIMEOUT_S,
        read_timeout=TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    if unsigned:
        from botocore import UNSIGNED

        config = config.merge(Config(signature_version=UNSIGNED))
    session = botocore_session(profile)
    try:
        keys: dict[str, Any] = {}
        if creds is not None:  # the application's credentials hook, not botocore's chain
            keys = {
                "aws_access_key_id": creds.access_key,
                "aws_secret_access_key": creds.secret_key,
                "aws_session_token": creds.token,
            }
        made = session.create_client(
            service, region_name=region, endpoint_url=endpoint or None, config=config, **keys
        )
    except Exception as e:
        raise AwsAuthError(f"cannot create the {service} client for {region}: {e}") from None
    with _lock:
        return _clients.setdefault(key, made)


def _error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def get_secret(
    secret_id: str, region: str, endpoint: str | None, profile: str | None
) -> dict[str, Any]:
    """The JSON object stored in the secret's string value."""
    sm = client("secretsmanager", region, endpoint, profile)
    try:
        value = sm.get_secret_value(SecretId=secret_id)
    except Exception as e:
        code = _error_code(e)
        if code == "ResourceNotFoundException":
            raise AwsAuthError(
                f"secret {secret_id!r} not found in Secrets Manager ({region})"
            ) from None
        reason = code or f"{type(e).__name__}: {e}"
        raise AwsAuthError(
            f"could not read secret {secret_id!r} from Secrets Manager ({region}): {reason}"
        ) from None
    text = value.get("SecretString")
    if not isinstance(text, str):
        raise AwsAuthError(
            f"secret {secret_id!r} has no string value (binary secrets are not used)"
        )
    try:
        parsed = json.loads(text)
    except ValueError:
        raise AwsAuthError(f"secret {secret_id!r} is not a JSON object") from None
    if not isinstance(parsed, dict):
        raise AwsAuthError(f"secret {secret_id!r} is not a JSON object")
    return parsed


def assume_role_with_saml(
    role_arn: str, idp_arn: str, assertion: str, region: str, profile: str | None
) -> AwsCredentials:
    """Temporary credentials for ``role_arn`` from a SAML assertion (an unsigned STS call)."""
    sts = client("sts", region, None, profile, unsigned=True)
    try:
        out = sts.assume_role_with_saml(
            RoleArn=role_arn, PrincipalArn=idp_arn, SAMLAssertion=assertion
        )
    except Exception as e:
        reason = _error_code(e) or type(e).__name__
        raise AwsAuthError(
            f"STS AssumeRoleWithSAML for role {role_arn!r} (identity provider {idp_arn!r}) "
            f"failed: {reason}"
        ) from None
    c = out["Credentials"]
    expiration = c.get("Expiration")
    expires_at = expiration.timestamp() if hasattr(expiration, "timestamp") else None
    return AwsCredentials(c["AccessKeyId"], c["SecretAccessKey"], c.get("SessionToken"), expires_at)
