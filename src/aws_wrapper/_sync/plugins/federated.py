# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/federated.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``federated_auth`` (ADFS) and ``okta``: IAM database tokens for identity-provider users.

Both sign in at the identity provider with ``idp_username`` / ``idp_password``, take the SAML
assertion it returns, exchange it with STS ``AssumeRoleWithSAML`` (``iam_role_arn``,
``iam_idp_arn``) for temporary AWS credentials, and sign an RDS IAM token with them for
``db_user``. Tokens are cached (``iam_token_expiration``) and so are the temporary credentials
(until shortly before STS says they expire), so most connects do none of this.

The sign-in at the identity provider is the function registered for ``idp_name`` in
:mod:`aws_wrapper.federated_auth` (``okta`` is ``federated_auth`` with ``idp_name=okta``):

* ADFS (``federated_auth``, ``idp_name=adfs``): the IdP-initiated sign-on page
  ``https://<idp_endpoint>:<idp_port>/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=<rp_identifier>``
  is read, its login form filled in and posted (cookies kept across redirects), and the
  ``SAMLResponse`` of the page that comes back is the assertion.
* Okta (``okta``): ``POST /api/v1/authn`` gives a one-time session token, and
  ``GET /app/amazon_aws/<app_id>/sso/saml?onetimetoken=...`` the page with the assertion.

HTTP goes through httpx, with its async client in async code (nothing blocks the loop; the
TLS context, which reads CA files, is built in the offload pool). TLS is verified by default
(``ssl_secure``; ``idp_ssl_ca`` for a private CA). The STS call is a boto3 call, run in the
offload pool in async code. No password, assertion or token is logged or put in an error
message.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from aws_wrapper.aws import clients, saml
from aws_wrapper.aws.credentials import AwsCredentials
from aws_wrapper.errors import AwsAuthError, AwsWrapperError, PropertyError
from aws_wrapper.federated_auth import IdpSpec, SignInRequest, idp_for
from aws_wrapper.forking import at_fork_in_child
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.plugins.federated import (
    APP_ID,
    DB_USER,
    HTTP_REQUEST_CONNECT_TIMEOUT,
    IAM_IDP_ARN,
    IAM_ROLE_ARN,
    IAM_TOKEN_EXPIRATION,
    IDP_ENDPOINT,
    IDP_NAME,
    IDP_PASSWORD,
    IDP_PORT,
    IDP_SSL_CA,
    IDP_USERNAME,
    RP_IDENTIFIER,
    SSL_SECURE,
)
from aws_wrapper.properties import Prop, Properties
from aws_wrapper.telemetry import TOKEN_FETCH_SPAN, span_of

from ..auth import FETCH_LOCKS
from ..plugin import BasePlugin
from ..protocols import PluginService
from .auth import IamTokenSource

STS_REFRESH_MARGIN_S = 300.0
"""Temporary credentials are used until this long before they expire."""


class _CredentialCache:
    """Temporary credentials by (identity provider, user, role); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, ...], tuple[AwsCredentials, float]] = {}
        self.sign_ins = 0

    def get(self, key: tuple[str, ...]) -> AwsCredentials | None:
        with self._lock:
            hit = self._values.get(key)
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def put(self, key: tuple[str, ...], creds: AwsCredentials, lifetime: float) -> None:
        with self._lock:
            self.sign_ins += 1
            self._values[key] = (creds, time.monotonic() + lifetime)

    def forget(self, key: tuple[str, ...]) -> None:
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


SAML_CREDENTIALS = _CredentialCache()
at_fork_in_child(SAML_CREDENTIALS.forget_after_fork)


def _required(props: Properties, prop: Prop[str | None], code: str) -> str:
    value = props.get(prop)
    if not value:
        raise PropertyError(f"the {code} plugin needs '{prop.name}'", prop.name)
    return value


def _base_url(endpoint: str, port: int) -> str:
    """``https://host[:port]`` from ``idp_endpoint`` (a host, host:port, or URL)."""
    text = endpoint.strip().rstrip("/")
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme.lower() != "https":
            raise PropertyError(
                f"property 'idp_endpoint': identity providers are reached over https, got "
                f"{scheme}://",
                "idp_endpoint",
            )
        text = rest
    if "/" in text:
        text = text.split("/", 1)[0]  # a path is not part of the endpoint: the flows add theirs
    if text.count(":") > 1 and not text.startswith("["):
        text = f"[{text}]"  # a bare IPv6 address
    if ":" in text.rsplit("]", 1)[-1]:
        return f"https://{text}"  # a port given in the endpoint wins
    return f"https://{text}" if port == 443 else f"https://{text}:{port}"


class _SamlPlugin(BasePlugin):
    """What ADFS and Okta share: properties, the caches, STS and the token."""

    code = "federated_auth"
    idp: IdpSpec

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        code = self.code
        self.sign_in: Callable[..., Any] = self.idp.sign_in("sync")
        self.base_url = _base_url(_required(props, IDP_ENDPOINT, code), props.get(IDP_PORT))
        self.idp_user = _required(props, IDP_USERNAME, code)
        self.idp_password = _required(props, IDP_PASSWORD, code)
        self.role_arn = _required(props, IAM_ROLE_ARN, code)
        self.idp_arn = _required(props, IAM_IDP_ARN, code)
        self.db_user = props.get(DB_USER)
        self.timeout = props.get(HTTP_REQUEST_CONNECT_TIMEOUT)
        self.verify = props.get(SSL_SECURE)
        self.ca_file = props.get(IDP_SSL_CA)
        self.tokens = IamTokenSource(service, props, IAM_TOKEN_EXPIRATION)
        self.cred_key = (self.base_url, self.idp_user, self.role_arn)
        self.tokens.owner = ("saml", *self.cred_key)

    # -- Authenticator -----------------------------------------------------------------------

    def authenticate(self, host: HostInfo, props: Properties) -> Properties:
        user = self.db_user or props.driver.get("user")
        return self.tokens.token_props(host, props, user, self._credentials)

    def login_failed(self, host: HostInfo, used: Properties) -> bool:
        self.tokens.forget(host, used.driver.get("user"))
        SAML_CREDENTIALS.forget(self.cred_key)
        return True

    # -- the flow ----------------------------------------------------------------------------

    def _credentials(self, region: str) -> AwsCredentials:
        creds = SAML_CREDENTIALS.get(self.cred_key)
        if creds is not None:
            return creds
        with FETCH_LOCKS(("saml", self.cred_key)):  # one sign-in for concurrent connects
            creds = SAML_CREDENTIALS.get(self.cred_key)
            if creds is not None:
                return creds
            with span_of(
                self.service.telemetry,
                TOKEN_FETCH_SPAN,
                {"aws_wrapper.auth.kind": "saml", "aws_wrapper.auth.region": region},
            ):
                return self._sign_in_for_credentials(region)

    def _sign_in_for_credentials(self, region: str) -> AwsCredentials:
        assertion = self._assertion()
        creds = clients.assume_role_with_saml(
            self.role_arn,
            self.idp_arn,
            assertion,
            region,
            self.tokens.profile,
        )
        lifetime = 3600.0 if creds.expires_at is None else creds.expires_at - time.time()
        SAML_CREDENTIALS.put(self.cred_key, creds, max(lifetime - STS_REFRESH_MARGIN_S, 0.0))
        return creds

    def _assertion(self) -> str:
        context = self._tls_context()
        try:
            with httpx.Client(verify=context, timeout=self.timeout, follow_redirects=True) as http:
                return self._sign_in(http)
        except httpx.HTTPError as e:
            raise AwsAuthError(self._http_problem(e)) from None

    def _tls_context(self) -> ssl.SSLContext:
        if not self.verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.ca_file)

    def _http_problem(self, error: httpx.HTTPError) -> str:
        what = type(error).__name__
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY" in str(error):
            what = "TLS certificate not trusted (set idp_ssl_ca to the CA bundle)"
        return f"{self.code}: request to the identity provider {self.base_url} failed: {what}"

    def _sign_in(self, http: httpx.Client) -> str:
        request = SignInRequest(
            self.idp.name, self.code, self.base_url, self.idp_user, self.idp_password, self.props
        )
        try:
            assertion = self.sign_in(http, request)
        except (AwsWrapperError, httpx.HTTPError):
            raise
        except Exception as e:  # the provider's own code failed: say which, as an auth error
            detail = str(e)
            if self.idp_password:
                detail = detail.replace(self.idp_password, "***")
            raise AwsAuthError(
                f"{self.code}: the sign-in of identity provider '{self.idp.name}' failed: "
                f"{type(e).__name__}: {detail}"
            ) from e
        if not isinstance(assertion, str) or not assertion:
            raise AwsAuthError(
                f"{self.code}: the sign-in of identity provider '{self.idp.name}' returned "
                f"{type(assertion).__name__}, not a SAML assertion (a non-empty str)"
            )
        return assertion


class FederatedAuthPlugin(_SamlPlugin):
    """``federated_auth``: the identity provider ``idp_name`` names (see
    :mod:`aws_wrapper.federated_auth`; ``adfs`` by default)."""

    code = "federated_auth"

    def __init__(self, service: PluginService, props: Properties) -> None:
        self.idp = idp_for(props.get(IDP_NAME))
        super().__init__(service, props)


class OktaAuthPlugin(_SamlPlugin):
    """``okta``: ``federated_auth`` with the ``okta`` identity provider."""

    code = "okta"

    def __init__(self, service: PluginService, props: Properties) -> None:
        self.idp = idp_for("okta")
        super().__init__(service, props)
        _required(props, APP_ID, "okta")


def adfs_sign_in(http: httpx.Client, request: SignInRequest) -> str:
    """AD FS: the IdP-initiated sign-on page's login form, filled in and posted."""
    url = f"{request.base_url}/adfs/ls/IdpInitiatedSignOn.aspx"
    page = http.get(url, params={"loginToRp": request.props.get(RP_IDENTIFIER)})
    if page.status_code != 200:
        raise request.refused(f"sign-in page answered HTTP {page.status_code}")
    form = saml.login_form(saml.parse_forms(page.text, str(page.url)))
    if form is None:
        raise request.refused("no login form on the sign-in page")
    fields = dict(form.inputs)
    user_field = form.field_like("user", "email") or "UserName"
    password_field = form.field_like("password") or "Password"
    fields[user_field] = request.username
    fields[password_field] = request.password
    answer = http.post(form.action, data=fields)
    assertion = saml.saml_response(answer.text)
    if assertion is None:
        message = saml.error_text(answer.text)
        raise request.refused(
            message or f"no SAML assertion in the answer (HTTP {answer.status_code})"
        )
    return assertion


def okta_sign_in(http: httpx.Client, request: SignInRequest) -> str:
    """Okta: a one-time session token from ``/api/v1/authn``, then the AWS app's SAML page."""
    app_id = _required(request.props, APP_ID, request.plugin_code)
    authn = http.post(
        f"{request.base_url}/api/v1/authn",
        json={"username": request.username, "password": request.password},
        headers={"Accept": "application/json"},
    )
    body: Any = None
    try:
        body = authn.json()
    except ValueError:
        pass
    session_token = body.get("sessionToken") if isinstance(body, dict) else None
    if authn.status_code != 200 or not session_token:
        summary = body.get("errorSummary") if isinstance(body, dict) else None
        status = body.get("status") if isinstance(body, dict) else None
        raise request.refused(
            summary or (f"status {status}" if status else f"HTTP {authn.status_code}")
        )
    page = http.get(
        f"{request.base_url}/app/amazon_aws/{app_id}/sso/saml",
        params={"onetimetoken": session_token},
    )
    assertion = saml.saml_response(page.text)
    if assertion is None:
        raise request.refused(f"no SAML assertion for app {app_id!r} (HTTP {page.status_code})")
    return assertion
