"""RDS IAM authentication tokens: AWS Signature Version 4 presigned URLs, without boto3.

An RDS IAM auth token is the password a client sends instead of a database password. It is
a SigV4 *query-signed* (presigned) ``GET`` request for service ``rds-db``, written without
its scheme::

    <host>:<port>/?Action=connect&DBUser=<user>&X-Amz-Algorithm=AWS4-HMAC-SHA256
        &X-Amz-Credential=<access key>%2F<yyyymmdd>%2F<region>%2Frds-db%2Faws4_request
        &X-Amz-Date=<yyyymmddTHHMMSSZ>&X-Amz-Expires=900&X-Amz-SignedHeaders=host
        [&X-Amz-Security-Token=<session token>]&X-Amz-Signature=<64 hex digits>

(one line). What is signed is the *canonical request*::

    GET
    /
    <every query parameter but X-Amz-Signature, RFC 3986-encoded, sorted by name>
    host:<host in lower case>:<port>          (just <host> when the port is 443)

    host
    e3b0c442...b855                            (SHA-256 of the empty payload)

and the string to sign is ``AWS4-HMAC-SHA256 \\n <X-Amz-Date> \\n <yyyymmdd>/<region>/rds-db/
aws4_request \\n <hex SHA-256 of the canonical request>``, signed with the key derived from
the secret access key by the HMAC-SHA256 chain date -> region -> service -> ``aws4_request``.

:func:`generate_rds_auth_token` produces exactly what botocore's
``RDS.Client.generate_db_auth_token`` produces for the same credentials and time (the query
parameters in the same order, encoded the same way). :func:`verify_rds_auth_token` is the
server side: it recomputes the signature and checks what the token claims (user, host and
port, region, lifetime), as RDS does; the devcluster's IAM verifier uses it.

Secrets (secret access key, session token, the signature, the token itself) never appear in
exception messages or reprs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

__all__ = [
    "ALGORITHM",
    "MAX_CLOCK_SKEW",
    "MAX_TOKEN_LIFETIME",
    "SERVICE",
    "RdsAuthToken",
    "generate_rds_auth_token",
    "parse_rds_auth_token",
    "verify_rds_auth_token",
]

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "rds-db"
#: RDS accepts a token for at most 15 minutes, whatever its ``X-Amz-Expires`` says.
MAX_TOKEN_LIFETIME = timedelta(seconds=900)
#: How far in the future a token's ``X-Amz-Date`` may be (clock skew) and still be accepted.
MAX_CLOCK_SKEW = timedelta(minutes=5)
#: SigV4's limit on ``X-Amz-Expires`` (7 days).
_MAX_EXPIRES = 7 * 24 * 3600

_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_TERMINATOR = "aws4_request"
# RFC 3986 unreserved characters: everything else is percent-encoded (what AWS expects).
_UNRESERVED = "-_.~"
# What the token may carry; the signature covers all of them but X-Amz-Signature.
_REQUIRED = (
    "Action",
    "DBUser",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)

HostPorts = Collection[tuple[str, int]] | Callable[[str, int], bool]
"""The endpoints a token may be signed for: ``(host, port)`` pairs (host names compared
without regard to case), or a predicate called with the token's ``(host, port)``."""


def _encode(value: str) -> str:
    return quote(value, safe=_UNRESERVED)


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _signed_host(host: str, port: int) -> str:
    """The ``host`` header value that is signed: the host in lower case, with the port unless
    it is 443 (HTTPS' default, which botocore leaves out)."""
    name = host.lower()
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 literal
    return name if port == 443 else f"{name}:{port}"


def _canonical_query(params: list[tuple[str, str]]) -> str:
    pairs = sorted((_encode(k), _encode(v)) for k, v in params if k != "X-Amz-Signature")
    return "&".join(f"{k}={v}" for k, v in pairs)


def _signature(
    secret_key: str,
    *,
    host: str,
    port: int,
    params: list[tuple[str, str]],
    amz_date: str,
    region: str,
    service: str,
) -> str:
    canonical_request = "\n".join(
        (
            "GET",
            "/",
            _canonical_query(params),
            f"host:{_signed_host(host, port)}\n",
            "host",
            _EMPTY_SHA256,
        )
    )
    scope = f"{amz_date[:8]}/{region}/{service}/{_TERMINATOR}"
    string_to_sign = "\n".join(
        (ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    key = f"AWS4{secret_key}".encode()
    for part in (amz_date[:8], region, service, _TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def generate_rds_auth_token(
    host: str,
    port: int,
    user: str,
    region: str,
    access_key: str,
    secret_key: str,
    session_token: str | None = None,
    *,
    now: datetime | None = None,
    expires_in: int = 900,
) -> str:
    """The IAM auth token (the password) for ``user`` on the database at ``host:port``.

    ``host`` and ``port`` must be the endpoint the client connects to (an RDS cluster,
    reader, instance or custom endpoint name), ``region`` that endpoint's region. ``now``
    (naive: UTC) is the signing time, by default the current time; the token is valid for
    ``expires_in`` seconds from then (RDS caps it at 15 minutes). Byte for byte what botocore's
    ``generate_db_auth_token`` returns for the same inputs at the same time."""
    if not host or "/" in host or "?" in host:
        raise ValueError(f"invalid database host name {host!r}")
    if not 0 < port < 65536:
        raise ValueError(f"invalid database port {port!r}")
    if not user:
        raise ValueError("the database user name is empty")
    if not region:
        raise ValueError("the AWS region is empty")
    if not access_key or not secret_key:
        raise ValueError("AWS credentials are missing (access key id or secret access key)")
    if not 0 < expires_in <= _MAX_EXPIRES:
        raise ValueError(f"expires_in must be between 1 and {_MAX_EXPIRES} s, got {expires_in}")
    amz_date = _utc(now).strftime(_TIMESTAMP)
    params = [
        ("Action", "connect"),
        ("DBUser", user),
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{access_key}/{amz_date[:8]}/{region}/{SERVICE}/{_TERMINATOR}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires_in)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if session_token is not None:
        params.append(("X-Amz-Security-Token", session_token))
    signature = _signature(
        secret_key,
        host=host,
        port=port,
        params=params,
        amz_date=amz_date,
        region=region,
        service=SERVICE,
    )
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in params)
    return f"{host}:{port}/?{query}&X-Amz-Signature={signature}"


@dataclass(frozen=True, slots=True)
class RdsAuthToken:
    """What a token says (not whether it is valid: see :func:`verify_rds_auth_token`).

    The session token and the signature are kept out of the repr."""

    host: str
    port: int
    user: str
    access_key: str
    region: str
    service: str
    issued: datetime
    """``X-Amz-Date`` (UTC)."""
    expires_in: int
    """``X-Amz-Expires`` in seconds."""
    params: tuple[tuple[str, str], ...] = field(repr=False)
    """Every query parameter (decoded), in token order."""
    session_token: str | None = field(default=None, repr=False)
    signature: str = field(default="", repr=False)

    @property
    def expires(self) -> datetime:
        """When the token stops being accepted (RDS: at most 15 minutes after ``issued``)."""
        return self.issued + min(timedelta(seconds=self.expires_in), MAX_TOKEN_LIFETIME)

    def describe(self) -> str:
        """A one-line summary without secrets, for logs."""
        return (
            f"user {self.user!r} at {self.host}:{self.port}, region {self.region},"
            f" key {self.access_key}, issued {self.issued:%Y-%m-%d %H:%M:%S}Z"
            f" for {self.expires_in} s"
        )


class _Malformed(ValueError):
    pass


def parse_rds_auth_token(token: str) -> RdsAuthToken:
    """Split a token into its parts; ValueError (without the token in its message) when it
    is not one."""
    hostport, sep, query = token.partition("/?")
    if not sep or not hostport or not query:
        raise _Malformed("not an RDS IAM auth token (<host>:<port>/?<query>)")
    host, colon, port_text = hostport.rpartition(":")
    if not colon or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _Malformed("the token does not start with <host>:<port>")
    params: list[tuple[str, str]] = []
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise _Malformed("the token's query string is not a list of name=value pairs")
        try:
            params.append((unquote(key, errors="strict"), unquote(value, errors="strict")))
        except UnicodeDecodeError:
            raise _Malformed("the token's query string is not percent-encoded UTF-8") from None
    values = dict(params)
    if len(values) != len(params):
        raise _Malformed("the token repeats a query parameter")
    missing = [k for k in _REQUIRED if not values.get(k)]
    if missing:
        raise _Malformed(f"the token lacks {', '.join(missing)}")
    if values["Action"] != "connect":
        raise _Malformed("the token's Action is not connect")
    if values["X-Amz-Algorithm"] != ALGORITHM:
        raise _Malformed(f"the token's algorithm is not {ALGORITHM}")
    if values["X-Amz-SignedHeaders"] != "host":
        raise _Malformed("the token must sign exactly the host header")
    scope = values["X-Amz-Credential"].split("/")
    if len(scope) != 5 or scope[4] != _TERMINATOR or not all(scope):
        raise _Malformed("the token's credential scope is not <key>/<date>/<region>/<service>/...")
    access_key, date, region, service, _ = scope
    amz_date = values["X-Amz-Date"]
    if len(amz_date) != 16:
        raise _Malformed("the token's X-Amz-Date is not yyyymmddTHHMMSSZ")
    try:
        issued = datetime.strptime(amz_date, _TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise _Malformed("the token's X-Amz-Date is not yyyymmddTHHMMSSZ") from None
    if date != amz_date[:8]:
        raise _Malformed("the token's credential date differs from its X-Amz-Date")
    expires = values["X-Amz-Expires"]
    if not expires.isdigit() or not 0 < int(expires) <= _MAX_EXPIRES:
        raise _Malformed("the token's X-Amz-Expires is not a number of seconds")
    signature = values["X-Amz-Signature"]
    if len(signature) != 64 or any(c not in "0123456789abcdef" for c in signature):
        raise _Malformed("the token's signature is not 64 lower-case hex digits")
    return RdsAuthToken(
        host=host,
        port=int(port_text),
        user=values["DBUser"],
        access_key=access_key,
        region=region,
        service=service,
        issued=issued,
        expires_in=int(expires),
        params=tuple(params),
        session_token=values.get("X-Amz-Security-Token"),
        signature=signature,
    )


def _endpoint_allowed(expected: HostPorts, host: str, port: int) -> bool:
    if callable(expected):
        return bool(expected(host, port))
    return any(h.lower() == host.lower() and p == port for h, p in expected)


def verify_rds_auth_token(
    token: str,
    *,
    expected_host_ports: HostPorts,
    region: str,
    user: str,
    secret_for_access_key: Callable[[str], str | None],
    now: datetime | None = None,
) -> str | None:
    """None when ``token`` lets ``user`` in, else why not, in a few words.

    The reasons, in the order they are checked: ``malformed``, ``wrong service``, ``unknown
    access key`` (``secret_for_access_key`` returned None), ``bad signature`` (the token was
    altered, or signed with another secret), ``wrong region``, ``wrong user`` (``DBUser`` is
    not the user logging in), ``wrong host/port`` (not one of ``expected_host_ports``),
    ``not yet valid`` (issued more than 5 minutes in the future), ``expired`` (older than its
    ``X-Amz-Expires``, at most 15 minutes)."""
    try:
        parsed = parse_rds_auth_token(token)
    except ValueError:
        return "malformed"
    if parsed.service != SERVICE:
        return "wrong service"
    secret = secret_for_access_key(parsed.access_key)
    if not secret:
        return "unknown access key"
    expected_signature = _signature(
        secret,
        host=parsed.host,
        port=parsed.port,
        params=list(parsed.params),
        amz_date=dict(parsed.params)["X-Amz-Date"],
        region=parsed.region,
        service=parsed.service,
    )
    if not hmac.compare_digest(expected_signature, parsed.signature):
        return "bad signature"
    if parsed.region != region:
        return "wrong region"
    if parsed.user != user:
        return "wrong user"
    if not _endpoint_allowed(expected_host_ports, parsed.host, parsed.port):
        return "wrong host/port"
    current = _utc(now)
    if parsed.issued > current + MAX_CLOCK_SKEW:
        return "not yet valid"
    if current > parsed.expires:
        return "expired"
    return None
