"""``federated_auth`` (AD FS) and ``okta``: their codes and properties (they also read the
``iam_*`` ones of :mod:`aws_wrapper.plugins.auth`).

The classes: ``aws_wrapper._async.plugins.federated`` (async code) and its generated twin in
``aws_wrapper._sync``.
"""

from __future__ import annotations

from typing import cast

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import DAY_S, MAX_PORT, Prop, register

_OptStr = cast(type[str | None], str)
_OptInt = cast(type[int | None], int)

IDP_ENDPOINT: Prop[str | None] = register(
    Prop(
        "idp_endpoint",
        _OptStr,
        None,
        "federated_auth/okta: the identity provider's host name (ADFS server, Okta org "
        "domain), optionally with :port or https://.",
    )
)
IDP_PORT = register(
    Prop(
        "idp_port",
        int,
        443,
        "federated_auth/okta: the identity provider's HTTPS port.",
        minimum=1,
        maximum=MAX_PORT,
    )
)
IDP_USERNAME: Prop[str | None] = register(
    Prop(
        "idp_username",
        _OptStr,
        None,
        "federated_auth/okta: the user name at the identity provider.",
    )
)
IDP_PASSWORD: Prop[str | None] = register(
    Prop(
        "idp_password",
        _OptStr,
        None,
        "federated_auth/okta: the password at the identity provider.",
        secret=True,
    )
)
IDP_NAME = register(
    Prop(
        "idp_name",
        str,
        "adfs",
        "federated_auth: the identity provider, by the name it is registered under in "
        "aws_wrapper.federated_auth ('adfs', 'okta', or one registered with register_idp).",
    )
)
RP_IDENTIFIER = register(
    Prop(
        "rp_identifier",
        str,
        "urn:amazon:webservices",
        "federated_auth: the relying party identifier of AWS at the ADFS server.",
    )
)
IAM_ROLE_ARN: Prop[str | None] = register(
    Prop(
        "iam_role_arn",
        _OptStr,
        None,
        "federated_auth/okta: the ARN of the IAM role to assume with the SAML assertion.",
    )
)
IAM_IDP_ARN: Prop[str | None] = register(
    Prop(
        "iam_idp_arn",
        _OptStr,
        None,
        "federated_auth/okta: the ARN of the SAML identity provider in IAM.",
    )
)
APP_ID: Prop[str | None] = register(
    Prop("app_id", _OptStr, None, "okta: the ID of the AWS application configured in Okta.")
)
DB_USER: Prop[str | None] = register(
    Prop(
        "db_user",
        _OptStr,
        None,
        "federated_auth/okta: the database user the IAM token is for (default: 'user').",
    )
)
IAM_TOKEN_EXPIRATION = register(
    Prop(
        "iam_token_expiration",
        int,
        870,
        "federated_auth/okta: seconds an IAM token is reused from the cache.",
        minimum=1,
        maximum=DAY_S,
    )
)
HTTP_REQUEST_CONNECT_TIMEOUT = register(
    Prop(
        "http_request_connect_timeout",
        float,
        60.0,
        "federated_auth/okta: timeout in seconds of each request to the identity provider.",
        minimum=0.001,
        maximum=DAY_S,
    )
)
SSL_SECURE = register(
    Prop(
        "ssl_secure",
        bool,
        True,
        "federated_auth/okta: verify the identity provider's TLS certificate (default true; "
        "aws-advanced-python-wrapper documents false).",
    )
)
IDP_SSL_CA: Prop[str | None] = register(
    Prop(
        "idp_ssl_ca",
        _OptStr,
        None,
        "federated_auth/okta: a CA bundle (PEM file) to verify the identity provider with, "
        "instead of the system's.",
    )
)

register_plugin(
    "federated_auth",
    aio="aws_wrapper._async.plugins.federated:FederatedAuthPlugin",
    sync="aws_wrapper._sync.plugins.federated:FederatedAuthPlugin",
    weight=600,
    doc=(
        "IAM token for an ADFS user: SAML sign-in at ADFS, STS AssumeRoleWithSAML, then an IAM "
        "token with the temporary credentials."
    ),
)

register_plugin(
    "okta",
    aio="aws_wrapper._async.plugins.federated:OktaAuthPlugin",
    sync="aws_wrapper._sync.plugins.federated:OktaAuthPlugin",
    weight=600,
    doc=(
        "IAM token for an Okta user: Okta session token, SAML assertion, STS AssumeRoleWithSAML, "
        "then an IAM token."
    ),
)
