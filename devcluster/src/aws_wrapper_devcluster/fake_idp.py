"""Local identity providers for the SAML authentication plugins: AD FS and Okta look-alikes.

Both are HTTPS servers (threads, ``http.server`` + ``ssl``) on a free port of 127.0.0.1 with a
certificate from a throwaway CA made for the run (:class:`LocalCA`: ``subjectAltName``
``IP:127.0.0.1`` and ``DNS:localhost``; clients verify with :attr:`FakeIdp.ca_file`). They
answer what the AWS wrappers' ``federated_auth`` (ADFS) and ``okta`` plugins ask, and issue
SAML Responses that moto's STS accepts in ``AssumeRoleWithSAML``
(:func:`saml_response`): ``RoleSessionName``, ``SessionDuration`` and ``Role``
(``<role ARN>,<SAML provider ARN>``) attributes.

:class:`FakeAdfs` -- AD FS IdP-initiated sign-on with forms authentication:

* ``GET /adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices`` -> the sign-in
  page, a ``<form method="post" ... action="/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=...
  &amp;client-request-id=...">`` (relative action, HTML-escaped, on one line with the
  ``<form`` tag) with ``<input ... />`` tags ``UserName``, ``Password`` and the hidden
  ``AuthMethod`` = ``FormsAuthentication``, as AD FS 2016+ renders it. Another relying
  party: 400.
* ``POST`` of that form (``application/x-www-form-urlencoded``; the body is parsed as such
  whatever the ``Content-Type``, as clients sending a bare string body send none):
  the right user name (case-insensitive) and password with ``AuthMethod=FormsAuthentication``
  -> a page with ``<input type="hidden" name="SAMLResponse" value="<base64>" />`` (raw
  base64, as AD FS writes it). With ``redirect_after_login=True`` it answers as AD FS
  usually does instead: ``302`` back to the same URL with an ``MSISAuth`` cookie, and the
  ``GET`` with that cookie gets the SAML page (clients must keep cookies across the
  redirect). Anything else -> the sign-in page again, ``200``, with AD FS' error message
  and no ``SAMLResponse``.

:class:`FakeOkta` -- the Okta Authentication API and the AWS app's SSO URL:

* ``POST /api/v1/authn`` ``{"username": ..., "password": ...}`` -> ``200`` ``{"status":
  "SUCCESS", "sessionToken": ..., "expiresAt": ..., "_embedded": {"user": ...}}``; a wrong
  user or password -> ``401`` ``{"errorCode": "E0000004", "errorSummary": "Authentication
  failed", ...}``; a user with ``mfa_required`` -> ``{"status": "MFA_REQUIRED",
  "stateToken": ...}`` (no session token).
* ``GET /app/amazon_aws/<app id>/sso/saml?onetimetoken=<sessionToken>`` -> a page with
  ``<input name="SAMLResponse" type="hidden" value="..."/>``, the value HTML-escaped as Okta
  does (``+`` as ``&#x2b;``, ``=`` as ``&#x3d;``, ``/`` as ``&#x2f;``: clients must
  unescape). A session token works once, for 5 minutes; a used, unknown or expired one ->
  ``403``; another app id -> ``404``.

Both record every request (:attr:`FakeIdp.requests`): method, path, query, form or JSON
fields and headers, with every field whose name contains ``password`` masked (``***``),
the answer's status and what it was (``outcome``). :meth:`FakeIdp.reset` restores the users
given at construction and forgets requests and sessions (the pytest fixtures call it
before each test).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import html
import json
import logging
import secrets
import shutil
import socket
import socketserver
import ssl
import tempfile
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "ADFS_RELYING_PARTY",
    "ADFS_USER",
    "AWS_SAML_ENDPOINT",
    "DEFAULT_ACCOUNT",
    "DEFAULT_ROLE_ARN",
    "OKTA_APP_NAME",
    "OKTA_USER",
    "FakeAdfs",
    "FakeIdp",
    "FakeOkta",
    "IdpUser",
    "LocalCA",
    "RecordedRequest",
    "saml_response",
]

log = logging.getLogger(__name__)

#: The account of the default ARNs (moto's default account).
DEFAULT_ACCOUNT = "123456789012"
#: The IAM role the default users assume.
DEFAULT_ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/devcluster-db-access"
#: AD FS' relying party identifier for AWS.
ADFS_RELYING_PARTY = "urn:amazon:webservices"
#: The path element of Okta's AWS Account Federation app.
OKTA_APP_NAME = "amazon_aws"
#: Where the SAML Response is for (the AWS sign-in endpoint).
AWS_SAML_ENDPOINT = "https://signin.aws.amazon.com/saml"

_ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
_SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
_MASK = "***"
_IO_TIMEOUT = 10.0
_MAX_BODY = 1024 * 1024
_OKTA_SESSION_TTL = dt.timedelta(minutes=5)
_V = TypeVar("_V")


# --------------------------------------------------------------------------- TLS


class LocalCA:
    """A throwaway certificate authority and one server certificate it signed, written to a
    new temporary directory (``directory`` if given): :attr:`ca_file` (what clients trust),
    :attr:`cert_file` and :attr:`key_file` (the server's). The server certificate is for
    ``hosts`` (DNS names) and ``ips``; both are valid from an hour ago for ``days`` days.
    :meth:`cleanup` removes the directory (if it made it)."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        hosts: Iterable[str] = ("localhost",),
        ips: Iterable[str] = ("127.0.0.1",),
        days: int = 2,
    ) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        self._owns_dir = directory is None
        self.directory = (
            Path(tempfile.mkdtemp(prefix="awswrapper-ca-")) if directory is None else directory
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        start, end = now - dt.timedelta(hours=1), now + dt.timedelta(days=days)
        tag = secrets.token_hex(4)

        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"aws-wrapper test CA {tag}")])
        ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ca_ski, critical=False)
            .sign(ca_key, hashes.SHA256())
        )

        key = ec.generate_private_key(ec.SECP256R1())
        self.hosts = tuple(hosts)
        self.ips = tuple(ips)
        names: list[x509.GeneralName] = [x509.DNSName(h) for h in self.hosts]
        names += [x509.IPAddress(ip_address(i)) for i in self.ips]
        common = self.hosts[0] if self.hosts else self.ips[0]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )

        pem = serialization.Encoding.PEM
        self.ca_file = self.directory / "ca.pem"
        self.cert_file = self.directory / "server.pem"
        self.key_file = self.directory / "server.key"
        self.ca_file.write_bytes(ca_cert.public_bytes(pem))
        self.cert_file.write_bytes(cert.public_bytes(pem))
        self.key_file.touch(mode=0o600)
        self.key_file.write_bytes(
            key.private_bytes(
                pem,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def server_context(self) -> ssl.SSLContext:
        """A TLS server context with the server certificate (TLS 1.2 or later)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this CA only."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def cleanup(self) -> None:
        if self._owns_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<LocalCA {self.ca_file} for {', '.join(self.hosts + self.ips)}>"


# --------------------------------------------------------------------------- SAML


@dataclass(frozen=True, slots=True)
class IdpUser:
    """A user of a fake identity provider and what its SAML assertion grants.

    ``idp_arn`` is the IAM SAML provider (None: the server's ``idp_arn``);
    ``session_name`` the ``RoleSessionName`` (None: the user name); ``mfa_required``
    (Okta) makes the authentication stop at ``MFA_REQUIRED``. The password is kept out of
    the repr."""

    username: str
    password: str = field(repr=False)
    role_arn: str = DEFAULT_ROLE_ARN
    idp_arn: str | None = None
    session_name: str | None = None
    session_duration: int = 3600
    mfa_required: bool = False


#: The user of the pytest fixture ``fake_adfs`` and of the demo (its password has characters
#: that need form encoding).
ADFS_USER = IdpUser("alice@example.com", "Adfs pa$$+word&1=%", session_name="alice")
#: The user of ``fake_okta`` and of the demo (its password needs JSON escaping).
OKTA_USER = IdpUser("bob@example.com", 'Okta "pa$$\\word" +&1', session_name="bob")


def _saml_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def saml_response(
    *,
    issuer: str,
    name_id: str,
    role_arn: str,
    idp_arn: str,
    session_name: str,
    session_duration: int = 3600,
    audience: str = ADFS_RELYING_PARTY,
    recipient: str = AWS_SAML_ENDPOINT,
    now: dt.datetime | None = None,
) -> str:
    """A base64 SAML 2.0 Response for AWS (unsigned: moto does not check signatures) with
    the attributes ``AssumeRoleWithSAML`` reads: ``Role`` = ``role_arn,idp_arn``,
    ``RoleSessionName`` and ``SessionDuration``."""
    moment = now or dt.datetime.now(dt.UTC)
    issued = _saml_time(moment)
    not_before = _saml_time(moment - dt.timedelta(minutes=5))
    not_after = _saml_time(moment + dt.timedelta(minutes=5))
    response_id, assertion_id = f"_{uuid.uuid4()}", f"_{uuid.uuid4()}"

    def attribute(name: str, value: str) -> str:
        return (
            f"<saml:Attribute Name={quoteattr(name)}>"
            f"<saml:AttributeValue>{escape(value)}</saml:AttributeValue></saml:Attribute>"
        )

    xml = (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"'
        f' ID="{response_id}" Version="2.0" IssueInstant="{issued}"'
        f" Destination={quoteattr(recipient)}"
        ' Consent="urn:oasis:names:tc:SAML:2.0:consent:unspecified">'
        '<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">'
        f"{escape(issuer)}</Issuer>"
        "<samlp:Status>"
        '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
        "</samlp:Status>"
        '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"'
        f' ID="{assertion_id}" IssueInstant="{issued}" Version="2.0">'
        f"<saml:Issuer>{escape(issuer)}</saml:Issuer>"
        "<saml:Subject>"
        '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">'
        f"{escape(name_id)}</saml:NameID>"
        '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f"<saml:SubjectConfirmationData NotOnOrAfter={quoteattr(not_after)}"
        f" Recipient={quoteattr(recipient)}/>"
        "</saml:SubjectConfirmation>"
        "</saml:Subject>"
        f"<saml:Conditions NotBefore={quoteattr(not_before)} NotOnOrAfter={quoteattr(not_after)}>"
        f"<saml:AudienceRestriction><saml:Audience>{escape(audience)}</saml:Audience>"
        "</saml:AudienceRestriction>"
        "</saml:Conditions>"
        "<saml:AttributeStatement>"
        + attribute(_ROLE_ATTRIBUTE, f"{role_arn},{idp_arn}")
        + attribute(_SESSION_NAME_ATTRIBUTE, session_name)
        + attribute(_DURATION_ATTRIBUTE, str(session_duration))
        + "</saml:AttributeStatement>"
        f'<saml:AuthnStatement AuthnInstant="{issued}" SessionIndex="{assertion_id}">'
        "<saml:AuthnContext><saml:AuthnContextClassRef>"
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        "</saml:AuthnContextClassRef></saml:AuthnContext>"
        "</saml:AuthnStatement>"
        "</saml:Assertion>"
        "</samlp:Response>"
    )
    return base64.b64encode(xml.encode()).decode()


# --------------------------------------------------------------------------- HTTP plumbing


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request a fake identity provider answered (password fields masked)."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    """The urlencoded body's fields (POST of a form)."""
    json: dict[str, Any] | None
    """The JSON body (Okta's authn)."""
    headers: dict[str, str]
    """Lower-case names."""
    status: int
    outcome: str
    """What the answer was: ``login form``, ``saml response``, ``wrong credentials``, ..."""


@dataclass(slots=True)
class _Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def cookie(self, name: str) -> str | None:
        for part in self.headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return None

    def form(self) -> dict[str, str]:
        text = self.body.decode("utf-8", "replace")
        return dict(parse_qsl(text, keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(slots=True)
class _Response:
    status: int
    body: str
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    outcome: str = ""


def _masked(fields: Mapping[str, _V]) -> dict[str, _V | str]:
    return {k: (_MASK if "password" in k.lower() else v) for k, v in fields.items()}


class _Handler(BaseHTTPRequestHandler):
    server: _TlsHttpServer
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length", "0") or "0")
        if length > _MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        request = _Request(self.command, parts.path, query, headers, body)
        idp = self.server.idp
        try:
            response = idp.answer(request)
        except Exception as exc:  # a bug in the fake: a 500 the client can see
            log.exception("%s failed on %s %s", type(idp).__name__, self.command, parts.path)
            response = _Response(500, f"<html><body>{html.escape(str(exc))}</body></html>")
            response.outcome = "error"
        idp.record(request, response)
        data = response.body.encode()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, no-store")
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True

    do_GET = do_POST = do_HEAD = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _TlsHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], idp: FakeIdp, context: ssl.SSLContext) -> None:
        self.idp = idp
        self.context = context
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would look the address up in DNS (getfqdn): not needed
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """In the connection's own thread: the TLS handshake, then the request."""
        sock: socket.socket = request
        sock.settimeout(_IO_TIMEOUT)
        try:
            tls = self.context.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.idp.tls_failure(exc)
            return
        try:
            _Handler(tls, client_address, self)
        finally:
            with contextlib.suppress(OSError):
                tls.close()


# --------------------------------------------------------------------------- the servers


class FakeIdp:
    """What :class:`FakeAdfs` and :class:`FakeOkta` share: users, the HTTPS server on a free
    port of ``host``, TLS from ``ca`` (a new :class:`LocalCA` if None, removed on
    :meth:`stop`), request records."""

    #: The default SAML provider ARN of the server's users.
    default_idp_arn = f"arn:aws:iam::{DEFAULT_ACCOUNT}:saml-provider/devcluster-idp"

    def __init__(
        self,
        users: Iterable[IdpUser] = (),
        *,
        ca: LocalCA | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        idp_arn: str | None = None,
    ) -> None:
        self._initial_users = list(users)
        self._users: dict[str, IdpUser] = {}
        self._ca = ca
        self._own_ca = ca is None
        self._host = host
        self._port = port
        self.idp_arn = idp_arn or self.default_idp_arn
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._tls_failures: list[str] = []
        self._server: _TlsHttpServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # -- users and state -------------------------------------------------------------------

    def add_user(self, user: IdpUser) -> IdpUser:
        """Add (or replace, by user name) a user until the next :meth:`reset`."""
        with self._lock:
            self._users[user.username.lower()] = user
        return user

    @property
    def users(self) -> list[IdpUser]:
        with self._lock:
            return list(self._users.values())

    def _user(self, username: str) -> IdpUser | None:
        with self._lock:
            return self._users.get(username.lower())

    def _authenticate(self, username: str, password: str) -> IdpUser | None:
        user = self._user(username)
        if user is None or not secrets.compare_digest(user.password.encode(), password.encode()):
            return None
        return user

    def reset(self) -> None:
        """Back to the users given at construction; requests and sessions forgotten."""
        with self._lock:
            self._users = {u.username.lower(): u for u in self._initial_users}
            self._requests = []
            self._tls_failures = []
            self._reset_state()

    def _reset_state(self) -> None:
        """Subclasses: forget sessions (called with the lock held)."""

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered since the last :meth:`reset`, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def tls_failures(self) -> list[str]:
        """Why TLS handshakes failed (a client that does not trust the CA), oldest first."""
        with self._lock:
            return list(self._tls_failures)

    def record(self, request: _Request, response: _Response) -> None:
        form: dict[str, str] = {}
        body_json: dict[str, Any] | None = None
        if request.body:
            try:
                parsed = request.json()
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                body_json = _masked(parsed)
            else:
                form = _masked(request.form())
        headers = {
            k: (_MASK if k in ("cookie", "authorization") else v)
            for k, v in request.headers.items()
        }
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query=_masked(request.query),
            form=form,
            json=body_json,
            headers=headers,
            status=response.status,
            outcome=response.outcome,
        )
        with self._lock:
            self._requests.append(entry)

    def tls_failure(self, exc: BaseException) -> None:
        log.debug("%s: TLS handshake failed: %s", type(self).__name__, exc)
        with self._lock:
            self._tls_failures.append(str(exc))

    def answer(self, request: _Request) -> _Response:
        raise NotImplementedError

    def _saml_for(self, user: IdpUser, audience: str) -> str:
        return saml_response(
            issuer=self.issuer,
            name_id=user.username,
            role_arn=user.role_arn,
            idp_arn=user.idp_arn or self.idp_arn,
            session_name=user.session_name or _session_name(user.username),
            session_duration=user.session_duration,
            audience=audience,
        )

    # -- the server ------------------------------------------------------------------------

    @property
    def ca(self) -> LocalCA:
        if self._ca is None:
            self._ca = LocalCA()
        return self._ca

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) clients must trust."""
        return self.ca.ca_file

    def start(self) -> Self:
        if self._server is None:
            server = _TlsHttpServer((self._host, self._port), self, self.ca.server_context())
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.2},
                name=f"fake-{type(self).__name__.lower()}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(5)
        if self._own_ca and self._ca is not None:
            self._ca.cleanup()
            self._ca = None

    @property
    def address(self) -> tuple[str, int]:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def host(self) -> str:
        return self.address[0]

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:<port>``."""
        host, port = self.address
        return f"https://{host}:{port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"<{type(self).__name__} {where} users={len(self._users)}>"


def _session_name(username: str) -> str:
    """A valid ``RoleSessionName`` (``[\\w+=,.@-]{2,64}``) from a user name."""
    name = "".join(c if c.isalnum() or c in "+=,.@-_" else "-" for c in username)[:64]
    return name if len(name) >= 2 else f"{name}--"[:2]


_ADFS_PATH = "/adfs/ls/IdpInitiatedSignOn.aspx"
_ADFS_ERROR = "Incorrect user ID or password. Type the correct user ID and password, and try again."
_ADFS_COOKIE = "MSISAuth"


class FakeAdfs(FakeIdp):
    """AD FS IdP-initiated sign-on with forms authentication (see the module).

    ``relying_party`` is the ``loginToRp`` it serves; ``redirect_after_login`` answers a
    good login with a ``302`` and a cookie, as AD FS does, instead of the SAML page."""

    default_idp_arn = f"arn:aws:iam::{DEFAULT_ACCOUNT}:saml-provider/devcluster-adfs"

    def __init__(
        self,
        users: Iterable[IdpUser] = (),
        *,
        ca: LocalCA | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        idp_arn: str | None = None,
        relying_party: str = ADFS_RELYING_PARTY,
        redirect_after_login: bool = False,
    ) -> None:
        self.relying_party = relying_party
        self.redirect_after_login = redirect_after_login
        self._sessions: dict[str, str] = {}  # MSISAuth cookie -> user name
        super().__init__(users, ca=ca, host=host, port=port, idp_arn=idp_arn)

    def _reset_state(self) -> None:
        self._sessions = {}

    @property
    def sign_in_url(self) -> str:
        """The URL the ADFS plugin starts at: ``https://<host>:<port>/adfs/ls/
        IdpInitiatedSignOn.aspx?loginToRp=<relying party>``."""
        return f"{self.base_url}{_ADFS_PATH}?loginToRp={self.relying_party}"

    @property
    def issuer(self) -> str:
        return f"http://{self.host}/adfs/services/trust"

    def answer(self, request: _Request) -> _Response:
        if request.path.lower() != _ADFS_PATH.lower():
            return _Response(404, _page("404 - File or directory not found."), outcome="not found")
        rp = request.query.get("loginToRp") or request.query.get("logintorp")
        if rp != self.relying_party:
            return _Response(
                400,
                _page(f"MSIS7007: The requested relying party trust {rp!r} is unknown."),
                outcome="unknown relying party",
            )
        if request.method in ("GET", "HEAD"):
            cookie = request.cookie(_ADFS_COOKIE)
            with self._lock:
                username = self._sessions.pop(cookie, None) if cookie else None
            user = self._user(username) if username else None
            if user is not None:
                return self._saml_page(user)
            return self._login_page(outcome="login form")
        if request.method != "POST":
            return _Response(405, _page("405 - Method not allowed."), outcome="bad method")
        form = request.form()
        username = form.get("UserName", "")
        user = self._authenticate(username, form.get("Password", ""))
        if user is None or form.get("AuthMethod") != "FormsAuthentication":
            return self._login_page(
                username=username, error=_ADFS_ERROR, outcome="wrong credentials"
            )
        if self.redirect_after_login:
            cookie = secrets.token_urlsafe(32)
            with self._lock:
                self._sessions[cookie] = user.username
            location = f"{_ADFS_PATH}?loginToRp={quote(self.relying_party, safe=':')}"
            return _Response(
                302,
                "",
                headers=[
                    ("Location", location),
                    ("Set-Cookie", f"{_ADFS_COOKIE}={cookie}; path=/adfs; HttpOnly; Secure"),
                ],
                outcome="redirect",
            )
        return self._saml_page(user)

    def _login_page(self, *, username: str = "", error: str = "", outcome: str) -> _Response:
        action = html.escape(
            f"{_ADFS_PATH}?loginToRp={quote(self.relying_party, safe=':')}"
            f"&client-request-id={uuid.uuid4()}"
        )
        body = _ADFS_LOGIN_PAGE.format(
            action=action,
            username=html.escape(username),
            error=html.escape(error),
        )
        return _Response(200, body, outcome=outcome)

    def _saml_page(self, user: IdpUser) -> _Response:
        saml = self._saml_for(user, self.relying_party)
        return _Response(200, _ADFS_SAML_PAGE.format(saml=saml), outcome="saml response")


def _page(message: str) -> str:
    return (
        f"<html><head><title>Error</title></head><body><p>{html.escape(message)}</p></body></html>"
    )


# What AD FS 2016+ renders (abridged): the <form ...> tag on one line, self-closing inputs.
_ADFS_LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en-US"><head>
<meta http-equiv="X-UA-Compatible" content="IE=edge"/>
<meta http-equiv="content-type" content="text/html;charset=UTF-8" />
<title>Sign In</title>
</head>
<body dir="ltr" class="body">
<div id="loginArea">
<div id="loginMessage" class="groupMargin">Sign in with your organizational account</div>
<form method="post" id="loginForm" autocomplete="off" novalidate="novalidate" onKeyPress="if (event && event.keyCode == 13) Login.submitLoginRequest();" action="{action}" >
    <div id="error" class="fieldMargin error smallText">
        <span id="errorText" for="">{error}</span>
    </div>
    <div id="formsAuthenticationArea">
        <div id="userNameArea">
            <label id="userNameInputLabel" for="userNameInput" class="hidden">User Account</label>
            <input id="userNameInput" name="UserName" type="email" value="{username}" tabindex="1" class="text fullWidth" spellcheck="false" placeholder="someone@example.com" autocomplete="off"/>
        </div>
        <div id="passwordArea">
            <label id="passwordInputLabel" for="passwordInput" class="hidden">Password</label>
            <input id="passwordInput" name="Password" type="password" tabindex="2" class="text fullWidth" placeholder="Password" autocomplete="off"/>
        </div>
        <div id="submissionArea" class="submitMargin">
            <span id="submitButton" class="submit" tabindex="4" role="button" onKeyPress="if (event && event.keyCode == 32) Login.submitLoginRequest();" onclick="return Login.submitLoginRequest();">Sign in</span>
        </div>
    </div>
    <input id="optionForms" type="hidden" name="AuthMethod" value="FormsAuthentication"/>
</form>
</div>
</body></html>
"""  # noqa: E501

_ADFS_SAML_PAGE = """<html><head><title>Working...</title></head><body>\
<form method="POST" name="hiddenform" action="https://signin.aws.amazon.com:443/saml">\
<input type="hidden" name="SAMLResponse" value="{saml}" />\
<noscript><p>Script is disabled. Click Submit to continue.</p>\
<input type="submit" value="Submit" /></noscript></form>\
<script language="javascript">window.setTimeout('document.forms[0].submit()', 0);</script>\
</body></html>"""


def _okta_escape(value: str) -> str:
    """Okta's HTML escaping of attribute values (base64's ``+``, ``/`` and ``=`` too)."""
    out = []
    for c in value:
        if c.isalnum():
            out.append(c)
        else:
            out.append(f"&#x{ord(c):x};")
    return "".join(out)


class FakeOkta(FakeIdp):
    """Okta's Authentication API and the AWS Account Federation app's SSO URL (see the
    module). ``app_id`` is the app's id in ``/app/amazon_aws/<app id>/sso/saml``."""

    default_idp_arn = f"arn:aws:iam::{DEFAULT_ACCOUNT}:saml-provider/devcluster-okta"

    def __init__(
        self,
        users: Iterable[IdpUser] = (),
        *,
        ca: LocalCA | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        idp_arn: str | None = None,
        app_id: str = "0oadevclusteraws1",
    ) -> None:
        self.app_id = app_id
        self._session_tokens: dict[str, tuple[str, dt.datetime]] = {}
        super().__init__(users, ca=ca, host=host, port=port, idp_arn=idp_arn)

    def _reset_state(self) -> None:
        self._session_tokens = {}

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:<port>``: what the Okta plugin calls the IdP endpoint (it builds
        ``https://<endpoint>/api/v1/authn``)."""
        host, port = self.address
        return f"{host}:{port}"

    @property
    def authn_url(self) -> str:
        return f"{self.base_url}/api/v1/authn"

    @property
    def saml_url(self) -> str:
        """``https://<host>:<port>/app/amazon_aws/<app id>/sso/saml`` (add
        ``?onetimetoken=<session token>``)."""
        return f"{self.base_url}/app/{OKTA_APP_NAME}/{self.app_id}/sso/saml"

    @property
    def issuer(self) -> str:
        return f"http://www.okta.com/exk{self.app_id}"

    def answer(self, request: _Request) -> _Response:
        if request.path == "/api/v1/authn":
            if request.method != "POST":
                return _okta_error(
                    405, "E0000022", "The endpoint does not support the provided HTTP method"
                )
            return self._authn(request)
        prefix = f"/app/{OKTA_APP_NAME}/"
        if request.path.startswith(prefix) and request.path.endswith("/sso/saml"):
            app_id = request.path[len(prefix) : -len("/sso/saml")]
            if app_id != self.app_id or request.method not in ("GET", "HEAD"):
                return _Response(404, _page("404 - Not found"), outcome="unknown app")
            return self._saml(request.query.get("onetimetoken", ""))
        return _Response(404, _page("404 - Not found"), outcome="not found")

    def _authn(self, request: _Request) -> _Response:
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _okta_error(400, "E0000003", "The request body was not well-formed.")
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return _okta_error(401, "E0000004", "Authentication failed", "wrong credentials")
        user = self._authenticate(username, password)
        if user is None:
            return _okta_error(401, "E0000004", "Authentication failed", "wrong credentials")
        now = dt.datetime.now(dt.UTC)
        expires = _saml_time(now + _OKTA_SESSION_TTL)
        embedded = {
            "user": {
                "id": "00u" + secrets.token_hex(8),
                "passwordChanged": _saml_time(now - dt.timedelta(days=30)),
                "profile": {"login": user.username, "locale": "en_US", "timeZone": "UTC"},
            }
        }
        if user.mfa_required:
            doc: dict[str, Any] = {
                "stateToken": secrets.token_urlsafe(24),
                "expiresAt": expires,
                "status": "MFA_REQUIRED",
                "_embedded": {**embedded, "factors": []},
            }
            return _Response(200, json.dumps(doc), "application/json", outcome="mfa required")
        token = "20111" + secrets.token_urlsafe(33)
        with self._lock:
            self._session_tokens[token] = (user.username, now + _OKTA_SESSION_TTL)
        doc = {
            "expiresAt": expires,
            "status": "SUCCESS",
            "sessionToken": token,
            "_embedded": embedded,
        }
        return _Response(200, json.dumps(doc), "application/json", outcome="session token")

    def _saml(self, token: str) -> _Response:
        with self._lock:
            entry = self._session_tokens.pop(token, None) if token else None
        user = self._user(entry[0]) if entry is not None else None
        if entry is None or user is None or entry[1] < dt.datetime.now(dt.UTC):
            return _Response(
                403,
                _page("The one-time token is invalid, expired or already used."),
                outcome="invalid one-time token",
            )
        saml = _okta_escape(self._saml_for(user, "urn:amazon:webservices"))
        return _Response(200, _OKTA_SAML_PAGE.format(saml=saml), outcome="saml response")


def _okta_error(status: int, code: str, summary: str, outcome: str = "error") -> _Response:
    doc = {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": "oae" + secrets.token_urlsafe(16),
        "errorCauses": [],
    }
    return _Response(status, json.dumps(doc), "application/json", outcome=outcome)


_OKTA_SAML_PAGE = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" \
"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" /></head>
<body>
<form id="appForm" action="https&#x3a;&#x2f;&#x2f;signin.aws.amazon.com&#x2f;saml" method="POST">
<input name="SAMLResponse" type="hidden" value="{saml}"/>
<input name="RelayState" type="hidden" value=""/>
</form>
<script type="text/javascript">(function(){{document.getElementById('appForm').submit();}})();</script>
</body>
</html>
"""  # noqa: E501
