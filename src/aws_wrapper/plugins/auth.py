"""``iam`` and ``aws_secrets_manager``: their codes and properties (the ``aws_profile`` and
``iam_*`` ones are shared with federated_auth and okta).

The classes: ``aws_wrapper._async.plugins.auth`` (async code) and its generated twin in
``aws_wrapper._sync``.
"""

from __future__ import annotations

from typing import cast

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import DAY_S, MAX_PORT, Prop, register

_OptStr = cast(type[str | None], str)
_OptInt = cast(type[int | None], int)

AWS_PROFILE: Prop[str | None] = register(
    Prop(
        "aws_profile",
        _OptStr,
        None,
        "Authentication plugins: the AWS profile (shared config/credentials files) whose "
        "credentials sign IAM tokens and read secrets. Unset: the standard AWS chain.",
    )
)
IAM_HOST: Prop[str | None] = register(
    Prop(
        "iam_host",
        _OptStr,
        None,
        "iam/federated_auth/okta: the host name the IAM token is signed for, when it differs "
        "from the host connected to (e.g. connecting through an IP address or a tunnel).",
    )
)
IAM_DEFAULT_PORT: Prop[int | None] = register(
    Prop(
        "iam_default_port",
        _OptInt,
        None,
        "iam/federated_auth/okta: the port the IAM token is signed for (default: the port "
        "connected to).",
        minimum=1,
        maximum=MAX_PORT,
    )
)
IAM_REGION: Prop[str | None] = register(
    Prop(
        "iam_region",
        _OptStr,
        None,
        "iam/federated_auth/okta: the AWS region of the database (default: from the RDS host "
        "name).",
    )
)
IAM_EXPIRATION = register(
    Prop(
        "iam_expiration",
        int,
        870,
        "iam: seconds an IAM token is reused from the cache (RDS accepts one for 900 s).",
        minimum=1,
        maximum=DAY_S,
    )
)
SECRETS_MANAGER_SECRET_ID: Prop[str | None] = register(
    Prop(
        "secrets_manager_secret_id",
        _OptStr,
        None,
        "aws_secrets_manager: the name or ARN of the secret holding the database user name "
        "and password (required).",
    )
)
SECRETS_MANAGER_REGION: Prop[str | None] = register(
    Prop(
        "secrets_manager_region",
        _OptStr,
        None,
        "aws_secrets_manager: the secret's region (default: from the secret ARN, else us-east-1).",
    )
)
SECRETS_MANAGER_ENDPOINT: Prop[str | None] = register(
    Prop(
        "secrets_manager_endpoint",
        _OptStr,
        None,
        "aws_secrets_manager: the Secrets Manager endpoint URL (default: the region's, or "
        "AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL).",
    )
)
SECRETS_MANAGER_USERNAME_KEY = register(
    Prop(
        "secrets_manager_secret_username_key",
        str,
        "username",
        "aws_secrets_manager: the key of the user name in the secret's JSON.",
    )
)
SECRETS_MANAGER_PASSWORD_KEY = register(
    Prop(
        "secrets_manager_secret_password_key",
        str,
        "password",
        "aws_secrets_manager: the key of the password in the secret's JSON.",
    )
)
SECRETS_MANAGER_USERNAME: Prop[str | None] = register(
    Prop(
        "secrets_manager_secret_username",
        _OptStr,
        None,
        "aws_secrets_manager: aws-advanced-python-wrapper's name for "
        "secrets_manager_secret_username_key (either is accepted).",
    )
)
SECRETS_MANAGER_PASSWORD: Prop[str | None] = register(
    Prop(
        "secrets_manager_secret_password",
        _OptStr,
        None,
        "aws_secrets_manager: aws-advanced-python-wrapper's name for "
        "secrets_manager_secret_password_key (either is accepted).",
    )
)
SECRETS_MANAGER_EXPIRATION = register(
    Prop(
        "secrets_manager_expiration",
        int,
        870,
        "aws_secrets_manager: seconds the secret's value is reused from the cache (a refused "
        "login refreshes it at once). Up to a year (aws-advanced-python-wrapper's default).",
        minimum=0,
        maximum=366 * DAY_S,
    )
)
IAM_SSL_CA: Prop[str | None] = register(
    Prop(
        "iam_ssl_ca",
        _OptStr,
        None,
        "iam/federated_auth/okta on MySQL: verify the server's certificate and host name "
        "against this CA bundle. Unset: the token travels over TLS that encrypts without "
        "verifying (like --ssl-mode=REQUIRED); TLS parameters given to the driver win.",
    )
)

register_plugin(
    "iam",
    aio="aws_wrapper._async.plugins.auth:IamAuthPlugin",
    sync="aws_wrapper._sync.plugins.auth:IamAuthPlugin",
    weight=600,
    doc=(
        "IAM database authentication: the password is an RDS IAM token signed with the AWS "
        "credentials (cached until iam_expiration)."
    ),
)

register_plugin(
    "aws_secrets_manager",
    aio="aws_wrapper._async.plugins.auth:SecretsManagerPlugin",
    sync="aws_wrapper._sync.plugins.auth:SecretsManagerPlugin",
    weight=600,
    doc=(
        "User name and password from an AWS Secrets Manager secret (cached; re-read once when the "
        "login is refused, e.g. after a rotation)."
    ),
)
