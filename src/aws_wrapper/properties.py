"""One typed registry of every wrapper connection property.

Each property is declared once, next to the code that uses it, with its name, type, default and
documentation::

    FAILOVER_TIMEOUT = register(Prop("failover_timeout_sec", float, 300.0, "..."))

At connect the wrapper splits what the user passed into wrapper properties (parsed and checked
here, once) and driver properties (passed to the driver untouched). A name that is neither a
wrapper property nor a parameter the driver accepts fails at connect with a message naming it.
Plugins read their typed values with ``props.get(FAILOVER_TIMEOUT)`` when they are built, never
on the hot path.

Secrets (passwords, tokens, secret values) are masked in every repr and log line.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from .errors import PropertyError

T = TypeVar("T")

MASK = "***"

_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "off", "f", "n"})

DAY_MS = 86_400_000
"""The upper bound of every duration in milliseconds: a day."""
DAY_S = 86_400
"""The upper bound of every duration in seconds: a day."""
MAX_COUNT = 1000
"""The upper bound of counts (attempts, failed probes)."""
MAX_PORT = 65535
MAX_WEIGHT = 10_000
"""The upper bound of host selector weights."""

_SECRET_WORDS = ("password", "passwd", "secret", "token", "assertion", "credential")


def is_secret(name: str) -> bool:
    """True for property names whose values must never be shown."""
    low = name.lower()
    if low.startswith("secrets_manager_secret_") and low != "secrets_manager_secret_value":
        return False  # the secret's id and the names of its keys, not secret values
    return any(word in low for word in _SECRET_WORDS) or low in ("pwd", "key", "ssl_key")


@dataclass(frozen=True, slots=True)
class Prop(Generic[T]):
    """A wrapper connection property."""

    name: str
    type: type[T]
    default: T
    doc: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    secret: bool = False

    @property
    def numeric(self) -> bool:
        """True for int and float properties (bool excluded)."""
        return self.type in (int, float)

    def accepted_range(self) -> str:
        """``'1 to 86400000'``: what a numeric property accepts, for messages and docs."""
        low = "-inf" if self.minimum is None else _number(self.minimum)
        high = "inf" if self.maximum is None else _number(self.maximum)
        return f"{low} to {high}"

    def parse(self, raw: object) -> T:
        """Convert ``raw`` (a typed value or a string from a URL/conninfo) to this type."""
        value = _convert(self, raw)
        if self.choices is not None and value not in self.choices:
            raise PropertyError(
                f"property '{self.name}': {self._show(raw)} is not one of "
                f"{', '.join(self.choices)}",
                self.name,
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            self._check_range(raw, value)
        return value

    def _check_range(self, raw: object, value: float) -> None:
        """Reject NaN, infinities and values outside [minimum, maximum]: a NaN timeout never
        expires and a huge one overflows the waits it ends up in."""
        if not math.isfinite(value):
            raise PropertyError(
                f"property '{self.name}': {self._show(raw)} is not a finite number "
                f"(accepted: {self.accepted_range()})",
                self.name,
            )
        if self.minimum is not None and value < self.minimum:
            raise PropertyError(
                f"property '{self.name}': {self._show(raw)} is below the minimum "
                f"{_number(self.minimum)} (accepted: {self.accepted_range()})",
                self.name,
            )
        if self.maximum is not None and value > self.maximum:
            raise PropertyError(
                f"property '{self.name}': {self._show(raw)} is above the maximum "
                f"{_number(self.maximum)} (accepted: {self.accepted_range()})",
                self.name,
            )

    def _show(self, raw: object) -> str:
        return MASK if self.secret or is_secret(self.name) else repr(raw)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _convert(prop: Prop[T], raw: object) -> T:
    kind: type[Any] = prop.type
    accepted = f" from {prop.accepted_range()}" if prop.numeric else ""
    bad = PropertyError(
        f"property '{prop.name}' expects {_kind_name(kind)}{accepted}, got {prop._show(raw)}"
        f" ({type(raw).__name__})",
        prop.name,
    )
    if raw is None:
        if prop.default is None:
            return cast(T, None)
        raise bad
    if kind is bool:
        if isinstance(raw, bool):
            return cast(T, raw)
        if isinstance(raw, str):
            low = raw.strip().lower()
            if low in _TRUE:
                return cast(T, True)
            if low in _FALSE:
                return cast(T, False)
        if isinstance(raw, int) and raw in (0, 1):
            return cast(T, bool(raw))
        raise bad
    if kind is int:
        if isinstance(raw, bool):
            raise bad
        if isinstance(raw, int):
            return cast(T, raw)
        if isinstance(raw, str):
            try:
                return cast(T, int(raw.strip()))
            except ValueError:
                raise bad from None
        raise bad
    if kind is float:
        if isinstance(raw, bool):
            raise bad
        if isinstance(raw, int | float):
            return cast(T, float(raw))
        if isinstance(raw, str):
            try:
                return cast(T, float(raw.strip()))
            except ValueError:
                raise bad from None
        raise bad
    if kind is str:
        if isinstance(raw, str):
            return cast(T, raw)
        if isinstance(raw, os.PathLike):  # a file name given as a Path
            return cast(T, os.fspath(raw))
        raise bad
    if isinstance(raw, kind):
        return cast(T, raw)
    raise bad


def _kind_name(kind: type[Any]) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        kind, f"a {kind.__name__}"
    )


_REGISTRY: dict[str, Prop[Any]] = {}
_PREFIXES: dict[str, str] = {}


def register(prop: Prop[T]) -> Prop[T]:
    """Declare a wrapper property. Declaring the same name twice is a bug, and so is a
    numeric property without both bounds (every one has an accepted range)."""
    if prop.numeric and (prop.minimum is None or prop.maximum is None):
        raise RuntimeError(f"numeric property {prop.name!r} needs a minimum and a maximum")
    existing = _REGISTRY.get(prop.name)
    if existing is not None and existing != prop:
        raise RuntimeError(f"property {prop.name!r} registered twice")
    _REGISTRY[prop.name] = prop
    return prop


def register_prefix(prefix: str, doc: str) -> str:
    """Declare a family of properties: ``<prefix><driver property>`` (e.g. ``monitoring-``)."""
    _PREFIXES[prefix] = doc
    return prefix


def registry() -> Mapping[str, Prop[Any]]:
    """Every declared wrapper property, by name."""
    return dict(_REGISTRY)


def lookup(name: str) -> Prop[Any] | None:
    return _REGISTRY.get(name)


class Properties:
    """Connection properties after validation: parsed wrapper values and driver pass-through."""

    __slots__ = ("driver", "wrapper")

    def __init__(self, wrapper: dict[str, Any], driver: dict[str, Any]) -> None:
        self.wrapper = wrapper
        self.driver = driver

    def get(self, prop: Prop[T]) -> T:
        value = self.wrapper.get(prop.name, _MISSING)
        if value is _MISSING:
            return prop.default
        return cast(T, value)

    def is_set(self, prop: Prop[Any]) -> bool:
        return prop.name in self.wrapper

    def with_prefix(self, prefix: str) -> dict[str, Any]:
        """Values given as ``<prefix>name`` (prefix stripped), e.g. monitoring connection props."""
        n = len(prefix)
        return {k[n:]: v for k, v in self.wrapper.items() if k.startswith(prefix)}

    def copy(
        self, *, wrapper: Mapping[str, Any] | None = None, driver: Mapping[str, Any] | None = None
    ) -> Properties:
        """A copy with some values replaced (values given here are already validated)."""
        w = dict(self.wrapper)
        d = dict(self.driver)
        if wrapper:
            w.update(wrapper)
        if driver:
            d.update(driver)
        return Properties(w, d)

    def masked(self) -> dict[str, Any]:
        """All values, secrets masked: what may be logged or shown."""
        return {**mask(self.driver), **mask(self.wrapper)}

    def __repr__(self) -> str:
        return f"Properties({self.masked()!r})"


_MISSING: Any = object()


def mask(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` with secret values replaced by ``***``."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        prop = _REGISTRY.get(k)
        secret = is_secret(k) or (prop is not None and prop.secret)
        out[k] = MASK if secret and v not in (None, "") else v
    return out


def parse_properties(
    raw: Mapping[str, Any],
    driver_params: frozenset[str] | None,
    driver_name: str,
) -> Properties:
    """Split and validate what the user passed.

    ``driver_params`` is the set of parameter names the driver accepts (None when the driver
    accepts arbitrary names; then unknown names are passed to it and it decides).
    """
    wrapper: dict[str, Any] = {}
    driver: dict[str, Any] = {}
    for name, value in raw.items():
        prop = _REGISTRY.get(name)
        if prop is not None:
            wrapper[name] = prop.parse(value)
            continue
        prefix = next((p for p in _PREFIXES if name.startswith(p)), None)
        if prefix is not None:
            wrapper[name] = value
            continue
        if driver_params is None or name in driver_params:
            driver[name] = value
            continue
        shown = shown_name(name)
        raise PropertyError(_unknown_message(name, shown, driver_params, driver_name), shown)
    return Properties(wrapper, driver)


def shown_name(name: str) -> str:
    """``name`` as an error may show it: an unknown name with a secret word in it may be a
    password run into its key (``passwordS3cr3t=...`` in a conninfo string), so only the
    secret word is shown (``…password…``)."""
    if not is_secret(name):
        return name
    low = name.lower()
    for word in _SECRET_WORDS:
        at = low.find(word)
        if at >= 0:
            end = at + len(word)
            return ("…" if at else "") + name[at:end] + ("…" if end < len(name) else "")
    return "…"


def _unknown_message(name: str, shown: str, driver_params: Iterable[str], driver_name: str) -> str:
    candidates = list(_REGISTRY) + list(driver_params)
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.75)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"unknown connection property '{shown}': it is neither an aws_wrapper property nor a "
        f"{driver_name} connection parameter{hint}"
    )


def describe() -> str:
    """A plain-text table of every wrapper property (for docs and ``--help`` output)."""
    lines = []
    for name in sorted(_REGISTRY):
        p = _REGISTRY[name]
        lines.append(f"{name} ({_kind_name(p.type)}, default {p.default!r}): {p.doc}")
    for prefix, doc in sorted(_PREFIXES.items()):
        lines.append(f"{prefix}<name>: {doc}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# core properties
# ---------------------------------------------------------------------------------------------

PLUGINS: Prop[str | None] = register(
    Prop(
        "plugins",
        cast(type[str | None], str),
        None,
        "Comma-separated plugin codes, e.g. 'failover_v2,host_monitoring_v2'. Unset: the "
        "default plugins. Empty string: no plugins.",
    )
)
AUTO_SORT_PLUGIN_ORDER = register(
    Prop(
        "auto_sort_wrapper_plugin_order",
        bool,
        True,
        "Order plugins by their built-in weights instead of the order given in 'plugins'.",
    )
)
WRAPPER_DIALECT: Prop[str | None] = register(
    Prop(
        "wrapper_dialect",
        cast(type[str | None], str),
        None,
        "Database dialect code (e.g. 'pg', 'mysql', 'mariadb'); unset: detected.",
    )
)
WRAPPER_DRIVER_DIALECT: Prop[str | None] = register(
    Prop(
        "wrapper_driver_dialect",
        cast(type[str | None], str),
        None,
        "Driver dialect ('psycopg', 'pymysql', 'aiomysql', 'mysql-connector'); unset: chosen "
        "from the connect function. Needed for a custom connect function.",
    )
)
LOGGER_LEVEL: Prop[str | None] = register(
    Prop(
        "wrapper_logger_level",
        cast(type[str | None], str),
        None,
        "Level for the 'aws_wrapper' logger (DEBUG, INFO, WARNING, ...); unset: unchanged.",
        choices=("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"),
    )
)

# ---------------------------------------------------------------------------------------------
# cluster topology and failover
# ---------------------------------------------------------------------------------------------

CLUSTER_ID: Prop[str | None] = register(
    Prop(
        "cluster_id",
        cast(type[str | None], str),
        None,
        "Identifies the cluster: connections with the same id share one topology monitor. "
        "Unset: derived from the cluster endpoint (or host:port).",
    )
)
CLUSTER_INSTANCE_HOST_PATTERN: Prop[str | None] = register(
    Prop(
        "cluster_instance_host_pattern",
        cast(type[str | None], str),
        None,
        "Host template of the instances, with '?' for the instance id (e.g. "
        "'?.abc123.us-east-1.rds.amazonaws.com'); needed when connecting by IP or custom DNS.",
    )
)
TOPOLOGY_REFRESH_MS = register(
    Prop(
        "topology_refresh_ms",
        int,
        30000,
        "How often the topology monitor reads the topology while the writer is known.",
        minimum=1,
        maximum=DAY_MS,
    )
)
HIGH_REFRESH_RATE_MS = register(
    Prop(
        "cluster_topology_high_refresh_rate_ms",
        int,
        50,
        "How often the topology monitor probes every instance while the writer is unknown "
        "(panic mode, e.g. during a failover): one query per instance on connections kept "
        "between rounds (the AWS wrappers' default is 100).",
        minimum=1,
        maximum=DAY_MS,
    )
)
FAILOVER_MODE: Prop[str | None] = register(
    Prop(
        "failover_mode",
        cast(type[str | None], str),
        None,
        "Where failover goes: strict_writer, strict_reader or reader_or_writer. Unset: "
        "reader_or_writer for a reader cluster endpoint, else strict_writer.",
        choices=("strict_writer", "strict_reader", "reader_or_writer"),
    )
)
FAILOVER_TIMEOUT_SEC = register(
    Prop(
        "failover_timeout_sec",
        float,
        300.0,
        "How long failover may look for a new host before raising FailoverFailedError.",
        minimum=0,
        maximum=DAY_S,
    )
)
ENABLE_CONNECT_FAILOVER = register(
    Prop(
        "enable_connect_failover",
        bool,
        False,
        "Also fail over when opening the connection fails with a network error.",
    )
)
FAILOVER_READER_STRATEGY = register(
    Prop(
        "failover_reader_host_selector_strategy",
        str,
        "random",
        "Host selector used to pick a reader during reader failover.",
    )
)
CONNECTION_RETRY_MAX_ATTEMPTS = register(
    Prop(
        "connection_retry_max_attempts",
        int,
        3,
        "Attempts to open a connection to a new host after a failover when it is rejected "
        "transiently (refused or reset while the instance finishes promotion).",
        minimum=1,
        maximum=MAX_COUNT,
    )
)
CONNECTION_RETRY_MAX_BACKOFF_S = register(
    Prop(
        "connection_retry_max_backoff_s",
        float,
        1.0,
        "Longest wait between those attempts (the backoff doubles from 50 ms).",
        minimum=0,
        maximum=DAY_S,
    )
)
OPEN_CONNECTION_RETRY_TIMEOUT_MS = register(
    Prop(
        "open_connection_retry_timeout_ms",
        int,
        30000,
        "initial_connection: how long to keep trying to open a connection of the right role "
        "through a cluster endpoint.",
        minimum=0,
        maximum=DAY_MS,
    )
)
OPEN_CONNECTION_RETRY_INTERVAL_MS = register(
    Prop(
        "open_connection_retry_interval_ms",
        int,
        1000,
        "initial_connection: wait between those attempts.",
        minimum=0,
        maximum=DAY_MS,
    )
)
READER_INITIAL_STRATEGY = register(
    Prop(
        "reader_initial_connection_host_selector_strategy",
        str,
        "random",
        "initial_connection: host selector that picks the reader behind a reader endpoint.",
    )
)

# ---------------------------------------------------------------------------------------------
# enhanced failure monitoring (host_monitoring_v2)
# ---------------------------------------------------------------------------------------------

FAILURE_DETECTION_ENABLED = register(
    Prop(
        "failure_detection_enabled",
        bool,
        True,
        "host_monitoring_v2: monitor the host while calls are in flight.",
    )
)
FAILURE_DETECTION_TIME_MS = register(
    Prop(
        "failure_detection_time_ms",
        int,
        30000,
        "host_monitoring_v2: how long a call may run before its host is probed.",
        minimum=0,
        maximum=DAY_MS,
    )
)
FAILURE_DETECTION_INTERVAL_MS = register(
    Prop(
        "failure_detection_interval_ms",
        int,
        5000,
        "host_monitoring_v2: probing interval; a probe unanswered for an interval is a failure.",
        minimum=1,
        maximum=DAY_MS,
    )
)
FAILURE_DETECTION_COUNT = register(
    Prop(
        "failure_detection_count",
        int,
        3,
        "host_monitoring_v2: failed probes in a row after which the host is taken as dead and "
        "the calls in flight on it are aborted.",
        minimum=1,
        maximum=MAX_COUNT,
    )
)
MONITOR_DISPOSAL_TIME_MS = register(
    Prop(
        "monitor_disposal_time_ms",
        int,
        60000,
        "host_monitoring_v2 and fastest_response_strategy: a host monitor with nothing to "
        "watch for this long stops.",
        minimum=0,
        maximum=DAY_MS,
    )
)
MONITORING_PREFIX = register_prefix(
    "monitoring-",
    "host_monitoring_v2: a driver parameter for the monitoring connections only "
    "(e.g. monitoring-connect_timeout=2).",
)

# ---------------------------------------------------------------------------------------------
# read/write splitting
# ---------------------------------------------------------------------------------------------

READER_HOST_SELECTOR_STRATEGY = register(
    Prop(
        "reader_host_selector_strategy",
        str,
        "random",
        "read_write_splitting: host selector that picks the reader for read-only mode.",
    )
)
READ_WRITE_FALLBACK_TO_WRITER = register(
    Prop(
        "read_write_splitting_fallback_to_writer",
        bool,
        True,
        "read_write_splitting: when no reader can be reached, stay on the writer (false: "
        "raise ReadWriteSplittingError).",
    )
)
RESPONSE_MEASUREMENT_INTERVAL_MS = register(
    Prop(
        "response_measurement_interval_ms",
        int,
        30000,
        "fastest_response_strategy: how often each host's monitor measures its response time "
        "(the median of a few pings on a connection of its own) for the fastest_response "
        "host selector.",
        minimum=1,
        maximum=DAY_MS,
    )
)

# ---------------------------------------------------------------------------------------------
# simple read/write splitting (srw): two configured endpoints, no topology
# ---------------------------------------------------------------------------------------------

SRW_READ_ENDPOINT: Prop[str | None] = register(
    Prop(
        "srw_read_endpoint",
        cast(type[str | None], str),
        None,
        "srw (required): the endpoint read-only mode connects to, 'host' or 'host:port' "
        "(port: the initial connection's), e.g. the cluster's reader (cluster-ro) endpoint.",
    )
)
SRW_WRITE_ENDPOINT: Prop[str | None] = register(
    Prop(
        "srw_write_endpoint",
        cast(type[str | None], str),
        None,
        "srw (required): the endpoint read-write mode connects to, 'host' or 'host:port' "
        "(port: the initial connection's), e.g. the cluster (writer) endpoint.",
    )
)
SRW_VERIFY_NEW_CONNECTIONS = register(
    Prop(
        "srw_verify_new_connections",
        bool,
        True,
        "srw: ask each new connection (and a cached one before reusing it) whether it is on a "
        "reader or the writer; one of the wrong role is closed and opened again.",
    )
)
SRW_CONNECT_RETRY_TIMEOUT_MS = register(
    Prop(
        "srw_connect_retry_timeout_ms",
        int,
        60000,
        "srw: how long to keep trying to open a connection of the right role through an "
        "endpoint (with srw_verify_new_connections).",
        minimum=1,
        maximum=DAY_MS,
    )
)
SRW_CONNECT_RETRY_INTERVAL_MS = register(
    Prop(
        "srw_connect_retry_interval_ms",
        int,
        1000,
        "srw: wait between those attempts.",
        minimum=1,
        maximum=DAY_MS,
    )
)
SRW_VERIFY_INITIAL_CONNECTION_TYPE: Prop[str | None] = register(
    Prop(
        "srw_verify_initial_connection_type",
        cast(type[str | None], str),
        None,
        "srw: the role the initial connection must have (writer or reader), retried until "
        "srw_connect_retry_timeout_ms. Unset: writer through a cluster endpoint, reader "
        "through a reader (cluster-ro) endpoint, else not checked.",
        choices=("writer", "reader"),
    )
)

# -- authentication (iam, aws_secrets_manager, federated_auth, okta) -------------------------

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
        "login refreshes it at once).",
        minimum=0,
        maximum=DAY_S,
    )
)
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
        "federated_auth: the identity provider implementation.",
        choices=("adfs",),
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
