"""IAM database authentication for the devcluster's PostgreSQL: a tiny LDAP server that
checks RDS IAM auth tokens.

Aurora PostgreSQL lets members of the role ``rds_iam`` log in only with an IAM auth token
(a SigV4-presigned ``connect`` request, see :mod:`aws_wrapper.aws.sigv4`) instead of a
password. The devcluster does the same with PostgreSQL's own ``ldap`` authentication in
*simple bind* mode: every instance's ``pg_hba.conf`` starts with (:func:`hba_rules`)::

    host all +rds_iam all ldap ldapserver=127.0.0.1 ldapport=N ldapprefix="cn="
        ldapsuffix=",ou=<instance id>,o=devcluster"

so PostgreSQL asks the client for its password in clear text (psycopg sends it; the proxy in
front of each instance only forwards bytes) and binds to this server with the DN
``cn=<user>,ou=<instance id>,o=devcluster`` and the password. The server
(:class:`IamVerifier`, one per cluster, run by the daemon) answers *success* only when the
password is a token that verifies: its signature (with a secret it knows for the token's
access key), ``DBUser`` equal to the user logging in, the region, the ``host:port`` it was
signed for and its lifetime. Everything else gets *invalidCredentials* (49), and PostgreSQL
tells the client ``LDAP authentication failed for user "..."``. Roles outside ``rds_iam``
keep password authentication.

What it accepts
---------------
* **Endpoints**: per instance, the names a client may connect to it by, with the cluster's
  port (the proxies' port, which clients use; never the internal server port): the
  instance's own endpoint, and the cluster and reader endpoints (which may lead to any
  instance: DNS lag, no readers). A token signed for another instance's endpoint, a raw
  address, or another port is rejected (``wrong host/port``).
* **Region**: the one in the cluster's host names (``us-east-1``).
* **Credentials** (access key id -> secret): the devcluster's fixed fake pair
  :data:`ACCESS_KEY_ID` / :data:`SECRET_ACCESS_KEY`; the daemon's ``AWS_ACCESS_KEY_ID`` /
  ``AWS_SECRET_ACCESS_KEY`` when both are set (the environment of the process that started
  the cluster); and pairs added at run time (:meth:`IamVerifier.add_credentials`, the
  daemon's ``iam_credentials`` request). Any session token is accepted with these keys (it
  is covered by the signature, but there is no STS to ask).
* **Temporary credentials** (optional): with an STS lookup URL set (``sts_lookup_url``,
  :meth:`IamVerifier.set_sts_lookup`, the daemon's ``iam_sts_lookup`` request,
  ``Cluster.set_iam_sts_lookup``), an access key the verifier does not know is looked up
  there: a moto server's ``/moto-api/data.json``, whose ``sts`` / ``AssumedRole`` entries
  hold the ``access_key_id``, ``secret_access_key`` and ``session_token`` of every set of
  credentials its STS issued (``AssumeRole``, ``AssumeRoleWithSAML``, ...). The token must
  then be signed with that secret *and* carry that session token
  (``X-Amz-Security-Token``): otherwise ``no session token`` / ``wrong session token``. The
  lookup is a plain HTTP GET (loopback addresses only, no proxies, :data:`STS_LOOKUP_TIMEOUT`
  seconds at most) made by the thread answering the bind; keys found are remembered until
  the URL changes, keys not found are asked again next time. A failed lookup shows in the
  reason (``unknown access key; STS lookup failed: ...``).

Every bind is logged, accepted or not, with the reason and what the token claimed (never the
token, its signature or a secret), to ``iam.log`` in the cluster's state directory
(:data:`LOG_FILE`) and to the ``aws_wrapper_devcluster.iam_verifier`` logger; the reason is also
the bind's diagnostic message, which PostgreSQL writes to its server log.

The LDAP subset
---------------
LDAPv3 (RFC 4511) messages in BER: ``BindRequest`` with simple authentication (answered by a
``BindResponse``), ``UnbindRequest`` (closes the connection), ``AbandonRequest`` (ignored).
SASL binds get *authMethodNotSupported* (7), other LDAP versions *protocolError* (2), any
other request its response with *unwillingToPerform* (53); malformed BER, indefinite lengths
and messages over 64 KiB close the connection.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import logging
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit
from urllib.request import ProxyHandler, build_opener

from aws_wrapper.aws.sigv4 import parse_rds_auth_token, verify_rds_auth_token

if TYPE_CHECKING:
    from .cluster import ClusterSpec

__all__ = [
    "ACCESS_KEY_ID",
    "IAM_ROLE",
    "LOG_FILE",
    "SECRET_ACCESS_KEY",
    "STS_LOOKUP_TIMEOUT",
    "IamVerifier",
    "StsCredentials",
    "bind_dn",
    "check_sts_lookup_url",
    "fetch_sts_credentials",
    "hba_rules",
    "simple_bind",
]

log = logging.getLogger(__name__)

#: The role whose members must log in with an IAM auth token (Aurora's name).
IAM_ROLE = "rds_iam"
#: The devcluster's fake AWS credentials, always accepted (not an AWS account's).
ACCESS_KEY_ID = "AKIADEVCLUSTERIAMKEY"
SECRET_ACCESS_KEY = "devcluster/fake+secret+access+key/NOT+AWS"
#: The verifier's log, in the cluster's state directory.
LOG_FILE = "iam.log"
#: How long (seconds) a bind waits for the STS lookup URL to answer.
STS_LOOKUP_TIMEOUT = 3.0
#: The most of the STS lookup document read (bytes).
_STS_LOOKUP_MAX = 64 * 1024 * 1024

_DN_PREFIX = "cn="
_DN_ORG = ",o=devcluster"
_MAX_MESSAGE = 64 * 1024
_IO_TIMEOUT = 30.0

LogFn = Callable[[str], None]
HostPort = tuple[str, int]

# LDAP result codes (RFC 4511 4.1.9) and BER tags used here.
SUCCESS = 0
PROTOCOL_ERROR = 2
AUTH_METHOD_NOT_SUPPORTED = 7
INVALID_CREDENTIALS = 49
UNWILLING_TO_PERFORM = 53

_SEQUENCE = 0x30
_INTEGER = 0x02
_OCTET_STRING = 0x04
_ENUMERATED = 0x0A
_BIND_REQUEST = 0x60
_BIND_RESPONSE = 0x61
_UNBIND_REQUEST = 0x42
_ABANDON_REQUEST = 0x50
_AUTH_SIMPLE = 0x80
_AUTH_SASL = 0xA3
# request tag -> response tag, for requests this server refuses
_REFUSED = {
    0x63: 0x65,  # search -> searchResDone
    0x66: 0x67,  # modify
    0x68: 0x69,  # add
    0x4A: 0x6B,  # delete
    0x6C: 0x6D,  # modify DN
    0x6E: 0x6F,  # compare
    0x77: 0x78,  # extended (StartTLS, whoami, ...)
}


def bind_dn(user: str, instance_id: str) -> str:
    """The DN PostgreSQL binds with for ``user`` logging in to ``instance_id``."""
    return f"{_DN_PREFIX}{user}{_dn_suffix(instance_id)}"


def _dn_suffix(instance_id: str) -> str:
    return f",ou={instance_id}{_DN_ORG}"


def _hba_quote(value: str) -> str:
    if '"' in value or "\n" in value:
        raise ValueError(f"cannot put {value!r} in pg_hba.conf")
    return f'"{value}"'


def hba_rules(ldap_address: HostPort | None, instance_id: str) -> str:
    """``pg_hba.conf`` lines, to come before every other ``host`` line, that send members of
    ``rds_iam`` to the verifier at ``ldap_address`` (None: they cannot log in over TCP)."""
    if ldap_address is None:
        method = "reject"
    else:
        host, port = ldap_address
        method = (
            f"ldap ldapserver={host} ldapport={port:d} ldapprefix={_hba_quote(_DN_PREFIX)}"
            f" ldapsuffix={_hba_quote(_dn_suffix(instance_id))}"
        )
    return f"host    all    +{IAM_ROLE}    all    {method}\n"


# --------------------------------------------------------------------------- BER


class _ProtocolError(Exception):
    pass


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _integer(tag: int, value: int) -> bytes:
    return _tlv(tag, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _parse_length(data: bytes, pos: int) -> tuple[int, int]:
    """``(length, position after the length octets)``."""
    if pos >= len(data):
        raise _ProtocolError("truncated length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0 or count > 4:
        raise _ProtocolError("indefinite or oversized length")
    if pos + count > len(data):
        raise _ProtocolError("truncated length")
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def _elements(data: bytes) -> list[tuple[int, bytes]]:
    """The ``(tag, content)`` elements of a constructed value's content."""
    out = []
    pos = 0
    while pos < len(data):
        tag = data[pos]
        if tag & 0x1F == 0x1F:
            raise _ProtocolError("multi-byte tags are not LDAP")
        length, pos = _parse_length(data, pos + 1)
        if pos + length > len(data):
            raise _ProtocolError("truncated element")
        out.append((tag, data[pos : pos + length]))
        pos += length
    return out


def _decode_integer(content: bytes) -> int:
    if not 0 < len(content) <= 4:
        raise _ProtocolError("bad integer")
    return int.from_bytes(content, "big", signed=True)


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _read_message(sock: socket.socket) -> bytes:
    """One LDAPMessage (a SEQUENCE), whole; EOFError at a clean end of stream."""
    head = sock.recv(1)
    if not head:
        raise EOFError
    if head[0] != _SEQUENCE:
        raise _ProtocolError("not an LDAPMessage")
    raw = head + _read_exact(sock, 1)
    if raw[1] >= 0x80:
        count = raw[1] & 0x7F
        if count == 0 or count > 4:
            raise _ProtocolError("indefinite or oversized length")
        raw += _read_exact(sock, count)
    length, _ = _parse_length(raw, 1)
    if length > _MAX_MESSAGE:
        raise _ProtocolError("message too large")
    return raw + _read_exact(sock, length)


def _result(message_id: int, tag: int, code: int, diagnostic: str) -> bytes:
    result = (
        _integer(_ENUMERATED, code)
        + _tlv(_OCTET_STRING, b"")
        + _tlv(_OCTET_STRING, diagnostic.encode())
    )
    return _tlv(_SEQUENCE, _integer(_INTEGER, message_id) + _tlv(tag, result))


def _bind_request(message_id: int, dn: str, password: str) -> bytes:
    bind = (
        _integer(_INTEGER, 3)
        + _tlv(_OCTET_STRING, dn.encode())
        + _tlv(_AUTH_SIMPLE, password.encode())
    )
    return _tlv(_SEQUENCE, _integer(_INTEGER, message_id) + _tlv(_BIND_REQUEST, bind))


def simple_bind(
    address: HostPort, dn: str, password: str, *, timeout: float = 5.0
) -> tuple[int, str]:
    """Bind to an LDAP server as PostgreSQL does (simple bind, then unbind): ``(result code,
    diagnostic message)``. For tests and troubleshooting."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(_bind_request(1, dn, password))
        message = _elements(_read_message(sock))[0][1]
        parts = _elements(message)
        if len(parts) < 2 or parts[1][0] != _BIND_RESPONSE:
            raise _ProtocolError("no BindResponse")
        fields = _elements(parts[1][1])
        code = _decode_integer(fields[0][1])
        diagnostic = fields[2][1].decode("utf-8", "replace")
        with contextlib.suppress(OSError):
            sock.sendall(_tlv(_SEQUENCE, _integer(_INTEGER, 2) + _tlv(_UNBIND_REQUEST, b"")))
        return code, diagnostic


# --------------------------------------------------------------------------- STS lookup


@dataclass(frozen=True, slots=True)
class StsCredentials:
    """Temporary credentials an STS issued, as found at the STS lookup URL (no secrets in
    the repr)."""

    access_key: str
    secret_key: str = field(repr=False)
    session_token: str = field(repr=False)
    arn: str = ""
    """The assumed role's session ARN (``arn:aws:sts::<account>:assumed-role/<role>/<name>``)."""


def check_sts_lookup_url(url: str) -> str:
    """``url`` when it is an ``http(s)`` URL of a loopback address (``localhost``,
    ``127.0.0.0/8``, ``::1``), else ValueError."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = host == "localhost"
    if not loopback:
        with contextlib.suppress(ValueError):
            loopback = ipaddress.ip_address(host).is_loopback
    if parts.scheme not in ("http", "https") or not loopback:
        raise ValueError(
            f"the STS lookup URL must be http(s)://<loopback address>[:port]/..., got {url!r}"
        )
    return url


def fetch_sts_credentials(
    url: str, *, timeout: float = STS_LOOKUP_TIMEOUT
) -> dict[str, StsCredentials]:
    """Every set of temporary credentials listed at ``url`` (moto's ``/moto-api/data.json``:
    ``{"sts": {"AssumedRole": [{"access_key_id", "secret_access_key", "session_token",
    "arn", ...}, ...]}}``), by access key id. No proxies; OSError or ValueError on failure."""
    opener = build_opener(ProxyHandler({}))  # loopback: never through an HTTP proxy
    with opener.open(check_sts_lookup_url(url), timeout=timeout) as response:
        raw = response.read(_STS_LOOKUP_MAX + 1)
    if len(raw) > _STS_LOOKUP_MAX:
        raise ValueError("the document is too large")
    doc = json.loads(raw)
    sts = doc.get("sts") if isinstance(doc, dict) else None
    entries = sts.get("AssumedRole") if isinstance(sts, dict) else None
    found: dict[str, StsCredentials] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        key, secret = entry.get("access_key_id"), entry.get("secret_access_key")
        session = entry.get("session_token")
        if isinstance(key, str) and isinstance(secret, str) and isinstance(session, str):
            arn = entry.get("arn")
            found[key] = StsCredentials(key, secret, session, arn if isinstance(arn, str) else "")
    return found


def _short_error(exc: BaseException) -> str:
    """A one-line description of a lookup failure, without parentheses (the log's
    ``rejected (<reason>)`` must stay parseable)."""
    text = str(getattr(exc, "reason", "") or exc) or type(exc).__name__
    text = " ".join(text.split()).replace("(", "[").replace(")", "]")
    return text[:160]


def _session_token_problem(token: str, credentials: StsCredentials) -> str | None:
    """Why ``token``, signed with the temporary ``credentials``, lacks their session token."""
    claimed = parse_rds_auth_token(token).session_token
    if claimed is None:
        return "no session token"
    if not hmac.compare_digest(claimed.encode(), credentials.session_token.encode()):
        return "wrong session token"
    return None


# --------------------------------------------------------------------------- server


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(_IO_TIMEOUT)
        verifier = self.server.verifier
        try:
            while True:
                reply = self._answer(verifier, _read_message(sock))
                if reply is None:
                    return
                if reply:
                    sock.sendall(reply)
        except EOFError:
            return
        except (_ProtocolError, IndexError, ValueError) as exc:
            log.debug("LDAP connection from %s closed: %s", self.client_address, exc)
        except OSError as exc:
            log.debug("LDAP connection from %s failed: %s", self.client_address, exc)

    @staticmethod
    def _answer(verifier: IamVerifier, raw: bytes) -> bytes | None:
        """The reply to one message (b"": none), None to close the connection."""
        (outer,) = _elements(raw)
        parts = _elements(outer[1])
        if len(parts) < 2 or parts[0][0] != _INTEGER:
            raise _ProtocolError("LDAPMessage without messageID and operation")
        message_id = _decode_integer(parts[0][1])
        op_tag, op = parts[1]
        if op_tag == _UNBIND_REQUEST:
            return None
        if op_tag == _ABANDON_REQUEST:
            return b""
        if op_tag in _REFUSED:
            return _result(
                message_id,
                _REFUSED[op_tag],
                UNWILLING_TO_PERFORM,
                "this server only checks RDS IAM auth tokens (simple bind)",
            )
        if op_tag != _BIND_REQUEST:
            raise _ProtocolError(f"unsupported operation tag 0x{op_tag:02x}")
        fields = _elements(op)
        if len(fields) != 3 or fields[0][0] != _INTEGER or fields[1][0] != _OCTET_STRING:
            raise _ProtocolError("malformed BindRequest")
        if _decode_integer(fields[0][1]) != 3:
            return _result(message_id, _BIND_RESPONSE, PROTOCOL_ERROR, "LDAPv3 only")
        auth_tag, credentials = fields[2]
        if auth_tag == _AUTH_SASL:
            return _result(
                message_id, _BIND_RESPONSE, AUTH_METHOD_NOT_SUPPORTED, "simple bind only"
            )
        if auth_tag != _AUTH_SIMPLE:
            raise _ProtocolError("unknown authentication choice")
        try:
            dn = fields[1][1].decode()
            password = credentials.decode()
        except UnicodeDecodeError:
            dn, password = "", ""
        reason = verifier.check(dn, password)
        if reason is None:
            return _result(message_id, _BIND_RESPONSE, SUCCESS, "")
        return _result(
            message_id,
            _BIND_RESPONSE,
            INVALID_CREDENTIALS,
            f"IAM authentication failed: {reason}",
        )


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: HostPort, verifier: IamVerifier) -> None:
        self.verifier = verifier
        super().__init__(address, _Handler)


class IamVerifier:
    """The LDAP server that checks RDS IAM auth tokens for one devcluster (see the module).

    ``endpoints`` maps each instance id to the ``(host, port)`` pairs a token for it may be
    signed for; ``credentials`` maps access key ids to secret access keys;
    ``sts_lookup_url`` is where keys it does not know are looked up (see the module;
    :meth:`set_sts_lookup`). ``clock`` (tests) returns the current time."""

    def __init__(
        self,
        *,
        region: str,
        endpoints: Mapping[str, Collection[HostPort]],
        credentials: Mapping[str, str] | None = None,
        sts_lookup_url: str | None = None,
        sts_lookup_timeout: float = STS_LOOKUP_TIMEOUT,
        log_path: Path | None = None,
        log_fn: LogFn | None = None,
        clock: Callable[[], datetime] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.region = region
        self.endpoints = {
            instance: frozenset((h.lower(), p) for h, p in pairs)
            for instance, pairs in endpoints.items()
        }
        self._secrets: dict[str, str] = dict(credentials or {})
        self._sts_url = check_sts_lookup_url(sts_lookup_url) if sts_lookup_url else None
        self._sts_known: dict[str, StsCredentials] = {}
        self.sts_lookup_timeout = sts_lookup_timeout
        self.log_path = log_path
        self._log_fn = log_fn
        self._clock = clock
        self._host = host
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def for_cluster(
        cls,
        spec: ClusterSpec,
        *,
        log_path: Path | None = None,
        log_fn: LogFn | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> IamVerifier:
        """The verifier of a devcluster: its endpoint names with its port, the region of its
        names, the fixed devcluster credentials and those of ``environ`` (when set)."""
        shared = {(spec.cluster_host, spec.port), (spec.reader_host, spec.port)}
        endpoints = {s.id: shared | {(spec.instance_host(s.id), spec.port)} for s in spec.instances}
        credentials = {ACCESS_KEY_ID: SECRET_ACCESS_KEY}
        key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
        if key and secret:
            credentials[key] = secret
        return cls(
            region=spec.home_region,  # a global database: its home region's names only
            endpoints=endpoints,
            credentials=credentials,
            log_path=log_path,
            log_fn=log_fn,
        )

    def set_endpoints(self, instance_id: str, pairs: Collection[HostPort] | None) -> None:
        """The ``(host, port)`` pairs a token for ``instance_id`` may be signed for from now
        on (an instance added at run time: a blue/green deployment's green side); None
        forgets the instance."""
        with self._lock:
            endpoints = dict(self.endpoints)
            if pairs is None:
                endpoints.pop(instance_id, None)
            else:
                endpoints[instance_id] = frozenset((h.lower(), p) for h, p in pairs)
            self.endpoints = endpoints

    # -- credentials and checks ------------------------------------------------------------

    def add_credentials(self, access_key: str, secret_key: str) -> None:
        """Accept tokens signed with this key pair from now on."""
        if not access_key or not secret_key:
            raise ValueError("an access key id and a secret access key are both needed")
        with self._lock:
            self._secrets[access_key] = secret_key

    @property
    def access_keys(self) -> list[str]:
        """The access key ids accepted (not their secrets)."""
        with self._lock:
            return sorted(self._secrets)

    def set_sts_lookup(self, url: str | None) -> None:
        """Look keys the verifier does not know up at ``url`` from now on (None: stop);
        keys found at the previous URL are forgotten. ValueError unless ``url`` is an
        ``http(s)`` URL of a loopback address."""
        checked = check_sts_lookup_url(url) if url else None
        with self._lock:
            self._sts_url = checked
            self._sts_known = {}

    @property
    def sts_lookup_url(self) -> str | None:
        with self._lock:
            return self._sts_url

    def _resolve(self, access_key: str) -> tuple[str | None, StsCredentials | None, str | None]:
        """``(secret, the STS credentials when the key is a temporary one, why the STS lookup
        failed)`` for ``access_key``; secret None when it is unknown."""
        with self._lock:
            secret = self._secrets.get(access_key)
            known = self._sts_known.get(access_key)
            url = self._sts_url
        if secret is not None:
            return secret, None, None
        if known is not None:
            return known.secret_key, known, None
        if url is None:
            return None, None, None
        try:
            found = fetch_sts_credentials(url, timeout=self.sts_lookup_timeout)
        except (OSError, ValueError) as exc:
            log.debug("STS lookup at %s failed: %s", url, exc)
            return None, None, _short_error(exc)
        with self._lock:
            if self._sts_url == url:
                self._sts_known.update(found)
        known = found.get(access_key)
        return (known.secret_key, known, None) if known is not None else (None, None, None)

    def _parse_dn(self, dn: str) -> tuple[str, str | None, frozenset[HostPort] | None]:
        """``(user, instance id, endpoints it accepts)``; endpoints None for an unknown
        instance. A DN without the devcluster's suffix is a bare user name, accepted on any
        of the cluster's endpoints."""
        if dn.startswith(_DN_PREFIX) and dn.endswith(_DN_ORG):
            for instance, pairs in self.endpoints.items():
                suffix = _dn_suffix(instance)
                if dn.endswith(suffix) and len(dn) >= len(_DN_PREFIX) + len(suffix):
                    return dn[len(_DN_PREFIX) : -len(suffix)], instance, pairs
            return dn, None, None
        return dn, None, frozenset().union(*self.endpoints.values())

    def check(self, dn: str, password: str) -> str | None:
        """None when ``password`` is a valid token for the user and instance of ``dn``, else
        the reason (also logged)."""
        user, instance, allowed = self._parse_dn(dn)
        temporary: StsCredentials | None = None
        if allowed is None:
            reason: str | None = "unknown instance"
        elif not user:
            reason = "no user name"
        else:
            lookups: list[tuple[StsCredentials | None, str | None]] = []

            def secret_for(access_key: str) -> str | None:
                secret, sts, error = self._resolve(access_key)
                lookups.append((sts, error))
                return secret

            reason = verify_rds_auth_token(
                password,
                expected_host_ports=allowed,
                region=self.region,
                user=user,
                secret_for_access_key=secret_for,
                now=self._clock() if self._clock is not None else None,
            )
            temporary, lookup_error = lookups[0] if lookups else (None, None)
            if reason is None and temporary is not None:
                reason = _session_token_problem(password, temporary)
            elif reason == "unknown access key" and lookup_error:
                reason = f"unknown access key; STS lookup failed: {lookup_error}"
        self._record(user, instance, password, reason, temporary)
        return reason

    def _record(
        self,
        user: str,
        instance: str | None,
        password: str,
        reason: str | None,
        temporary: StsCredentials | None = None,
    ) -> None:
        try:
            claims = f"token: {parse_rds_auth_token(password).describe()}"
        except ValueError:
            claims = "the password is not an RDS IAM auth token"
        if temporary is not None:
            claims += f"; temporary key of {temporary.arn or 'an STS session'}"
        verdict = "accepted" if reason is None else f"rejected ({reason})"
        line = f"{instance or '-'} user {user!r}: {verdict}; {claims}"
        log.info("IAM login %s", line)
        if self._log_fn is not None and reason is not None:
            self._log_fn(f"IAM login {line}")
        if self.log_path is not None:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            with self._lock, open(self.log_path, "a", encoding="utf-8") as f:
                f.write(f"{stamp} {line}\n")

    # -- the server ------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on a free port of ``host`` (127.0.0.1) and serve in a daemon thread."""
        if self._server is None:
            server = _Server((self._host, 0), self)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.2},
                name="devcluster-iam-ldap",
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

    @property
    def address(self) -> HostPort:
        """Where PostgreSQL binds to (``ldapserver``, ``ldapport``)."""
        if self._server is None:
            raise RuntimeError("the IAM verifier is not running")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def describe(self) -> dict[str, Any]:
        """For ``status``: no secrets."""
        return {
            "ldap": list(self.address) if self._server is not None else None,
            "region": self.region,
            "role": IAM_ROLE,
            "access_keys": self.access_keys,
            "sts_lookup": self.sts_lookup_url,
            "log": str(self.log_path) if self.log_path is not None else None,
        }

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
        where = f"{self._host}:{self.address[1]}" if self._server is not None else "stopped"
        return f"<IamVerifier {where} region={self.region} keys={len(self._secrets)}>"
