"""Aurora custom endpoints: what the ``custom_endpoint`` plugin knows of one, and where it learns
it. Shared by both worlds; no I/O on import.

A custom endpoint (``<name>.cluster-custom-<id>.<region>.rds.amazonaws.com``) is a cluster
endpoint whose instances the user chose in RDS. DNS sends a connection through it to one of its
members, but a plugin that picks an instance itself (failover, read/write splitting) must also
stay among them. Membership is not visible from inside the database: it comes from the RDS API
(``DescribeDBClusterEndpoints``), through a :class:`CustomEndpointSource`.

* :class:`CustomEndpointInfo` is one answer: the members (``StaticMembers``), or everything but
  the ``ExcludedMembers``, and the endpoint's type (``READER`` or ``ANY``).
* :class:`Boto3CustomEndpointSource` asks RDS with boto3 (credentials from the standard chain).
  It blocks: the async plugin calls it through ``arun_blocking`` (a worker thread).
* :func:`set_custom_endpoint_source` replaces it process-wide (tests, or an application that
  gets the information elsewhere).

The plugin itself lives in ``aws_wrapper._async.plugins.custom_endpoint`` (and its generated sync
twin); the properties it reads are declared here.
"""

from __future__ import annotations

import enum
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from . import rds_utils
from .errors import AwsWrapperError, ConfigurationError, OperationalError
from .forking import at_fork_in_child, bury
from .hostinfo import HostInfo
from .properties import DAY_MS, Prop, register

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

# ---------------------------------------------------------------------------------------------
# properties (names as the AWS Advanced Python Wrapper documents them)
# ---------------------------------------------------------------------------------------------

CUSTOM_ENDPOINT_INFO_REFRESH_RATE_MS = register(
    Prop(
        "custom_endpoint_info_refresh_rate_ms",
        int,
        30000,
        "custom_endpoint: how often the shared monitor of a custom endpoint asks RDS for its "
        "members (DescribeDBClusterEndpoints).",
        minimum=1,
        maximum=DAY_MS,
    )
)
CUSTOM_ENDPOINT_IDLE_MONITOR_EXPIRATION_MS = register(
    Prop(
        "custom_endpoint_idle_monitor_expiration_ms",
        int,
        900000,
        "custom_endpoint: a custom endpoint monitor that no connection used for this long stops "
        "(the next use starts a new one).",
        minimum=1,
        maximum=DAY_MS,
    )
)
WAIT_FOR_CUSTOM_ENDPOINT_INFO = register(
    Prop(
        "wait_for_custom_endpoint_info",
        bool,
        True,
        "custom_endpoint: block connects (and calls) until the custom endpoint's members are "
        "known. False: proceed at once; hosts are not restricted until they are known.",
    )
)
WAIT_FOR_CUSTOM_ENDPOINT_INFO_TIMEOUT_MS = register(
    Prop(
        "wait_for_custom_endpoint_info_timeout_ms",
        int,
        5000,
        "custom_endpoint: how long to wait for the members before failing with "
        "CustomEndpointError.",
        minimum=0,
        maximum=DAY_MS,
    )
)
CUSTOM_ENDPOINT_REGION: Prop[str | None] = register(
    Prop(
        "custom_endpoint_region",
        cast(type[str | None], str),
        None,
        "custom_endpoint: AWS region of the RDS API calls. Unset: parsed from the endpoint.",
    )
)
CUSTOM_ENDPOINT_RDS_ENDPOINT: Prop[str | None] = register(
    Prop(
        "custom_endpoint_rds_endpoint",
        cast(type[str | None], str),
        None,
        "custom_endpoint: URL of the RDS API (e.g. a local moto server). Unset: "
        "AWS_ENDPOINT_URL_RDS, else AWS_ENDPOINT_URL, else AWS's regional endpoint.",
    )
)

# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------


class CustomEndpointError(AwsWrapperError, OperationalError):
    """The members of a custom endpoint could not be learned (in time). Names the endpoint."""

    def __init__(self, message: str, endpoint: str) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class CustomEndpointNotFoundError(CustomEndpointError):
    """RDS has no custom endpoint of that name in that region (for these credentials)."""


# ---------------------------------------------------------------------------------------------
# the information
# ---------------------------------------------------------------------------------------------


class CustomEndpointRoleType(enum.Enum):
    """Which instances a custom endpoint may route to (RDS has no WRITER custom endpoints)."""

    ANY = "ANY"
    READER = "READER"


@dataclass(frozen=True, slots=True)
class CustomEndpointInfo:
    """One custom endpoint as RDS describes it.

    RDS semantics: when ``static_members`` is not empty, the endpoint is exactly those
    instances; otherwise it is every instance of the cluster except ``excluded_members``
    (new instances join it automatically).
    """

    endpoint_id: str
    cluster_id: str
    endpoint: str
    role_type: CustomEndpointRoleType
    static_members: frozenset[str] = frozenset()
    excluded_members: frozenset[str] = frozenset()

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> CustomEndpointInfo:
        """From one element of ``DescribeDBClusterEndpoints``' ``DBClusterEndpoints``."""
        endpoint_id = str(item.get("DBClusterEndpointIdentifier") or "")
        raw_type = str(item.get("CustomEndpointType") or "").upper()
        try:
            role = CustomEndpointRoleType(raw_type)
        except ValueError:
            raise CustomEndpointError(
                f"custom endpoint '{endpoint_id}': unexpected CustomEndpointType {raw_type!r} "
                "(expected READER or ANY)",
                endpoint_id,
            ) from None
        return cls(
            endpoint_id=endpoint_id,
            cluster_id=str(item.get("DBClusterIdentifier") or ""),
            endpoint=str(item.get("Endpoint") or ""),
            role_type=role,
            static_members=frozenset(item.get("StaticMembers") or ()),
            excluded_members=frozenset(item.get("ExcludedMembers") or ()),
        )

    @property
    def allowed_host_ids(self) -> frozenset[str] | None:
        """The instance ids the endpoint is limited to; None when it is "all but excluded"."""
        return self.static_members or None

    def allows(self, host_id: str) -> bool:
        """True when instance ``host_id`` belongs to the endpoint."""
        if self.static_members:
            return host_id in self.static_members
        return host_id not in self.excluded_members

    def includes(self, host: HostInfo) -> bool:
        """True when ``host`` is a member instance, or the custom endpoint itself (DNS routes
        it to a member). A host whose instance is unknown (no ``host_id``, not an RDS instance
        name: a cluster endpoint, an IP address) is not: it may lead anywhere."""
        instance = instance_id_of(host)
        if instance is None:
            return bool(self.endpoint) and _normalize(host.host) == _normalize(self.endpoint)
        return self.allows(instance)

    def filter_hosts(self, hosts: Iterable[HostInfo]) -> list[HostInfo]:
        """The hosts that belong to the endpoint (see :meth:`includes`), in their order; possibly
        none."""
        return [h for h in hosts if self.includes(h)]


def instance_id_of(host: HostInfo) -> str | None:
    """The instance id of ``host``: its ``host_id`` (from the topology), else the instance name
    of an RDS instance host (``<instance>.<id>.<region>.rds.amazonaws.com``), else None."""
    if host.host_id:
        return host.host_id
    return rds_utils.instance_id_from_host(host.host)


def _normalize(host: str) -> str:
    host = host.strip().lower()
    return host[:-1] if host.endswith(".") else host


def filter_hosts(hosts: Sequence[HostInfo], info: CustomEndpointInfo | None) -> list[HostInfo]:
    """``hosts`` restricted to the members of ``info``; all of them when ``info`` is None (the
    members are not known: nothing to restrict by)."""
    return list(hosts) if info is None else info.filter_hosts(hosts)


def is_custom_endpoint(host: str) -> bool:
    return rds_utils.classify(host) is rds_utils.RdsUrlType.RDS_CUSTOM_CLUSTER


def endpoint_id_from_host(host: str) -> str | None:
    """The custom endpoint identifier (the first label) of a custom endpoint host, else None."""
    if not is_custom_endpoint(host):
        return None
    return host.strip().lower().split(".", 1)[0]


# ---------------------------------------------------------------------------------------------
# where the information comes from
# ---------------------------------------------------------------------------------------------


@runtime_checkable
class CustomEndpointSource(Protocol):
    """Learns a custom endpoint's members. ``fetch`` may block (network I/O): the async plugin
    runs it in a worker thread, the sync plugin in the monitor's thread. It is called by one
    monitor per endpoint, but monitors of different endpoints (or event loops) call it
    concurrently, so it must be thread-safe."""

    def fetch(self, endpoint_id: str, region: str) -> CustomEndpointInfo:
        """The endpoint's current information; raises :class:`CustomEndpointNotFoundError`
        when it does not exist, any other exception when RDS could not be asked."""
        ...


_NOT_FOUND_CODES = frozenset({"DBClusterEndpointNotFoundFault", "DBClusterEndpointNotFound"})


class Boto3CustomEndpointSource:
    """:class:`CustomEndpointSource` over boto3's RDS client (``DescribeDBClusterEndpoints``).

    Credentials come from boto3's standard chain (environment, shared files, SSO, instance or
    task role). One client per region, created on first use (in the calling thread) and
    shared: boto3 clients are thread-safe, their creation is not, hence the lock.
    """

    def __init__(
        self,
        endpoint_url: str | None = None,
        *,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 10.0,
        max_attempts: int = 3,
    ) -> None:
        self.endpoint_url = endpoint_url
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._max_attempts = max_attempts
        self._clients: dict[str, RDSClient] = {}
        self._lock = threading.Lock()

    def _client(self, region: str) -> RDSClient:
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                try:
                    import boto3.session
                    from botocore.config import Config
                except ImportError:
                    raise ConfigurationError(
                        "the custom_endpoint plugin asks RDS for the endpoint's members with "
                        "boto3, which is not installed: pip install boto3"
                    ) from None
                config = Config(
                    connect_timeout=self._connect_timeout_s,
                    read_timeout=self._read_timeout_s,
                    retries={"max_attempts": self._max_attempts, "mode": "standard"},
                )
                session = boto3.session.Session()  # one per client: sessions are not thread-safe
                client = self._clients[region] = session.client(
                    "rds", region_name=region, endpoint_url=self.endpoint_url, config=config
                )
            return client

    def fetch(self, endpoint_id: str, region: str) -> CustomEndpointInfo:
        client = self._client(region)  # first: ConfigurationError without boto3
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = client.describe_db_cluster_endpoints(
                DBClusterEndpointIdentifier=endpoint_id,
                Filters=[{"Name": "db-cluster-endpoint-type", "Values": ["custom"]}],
            )
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND_CODES:
                raise _not_found(endpoint_id, region) from e
            raise CustomEndpointError(
                f"custom endpoint '{endpoint_id}' ({region}): DescribeDBClusterEndpoints "
                f"failed: {e}",
                endpoint_id,
            ) from e
        except BotoCoreError as e:  # no credentials, no connection, timeouts...
            raise CustomEndpointError(
                f"custom endpoint '{endpoint_id}' ({region}): DescribeDBClusterEndpoints "
                f"failed: {e}",
                endpoint_id,
            ) from e
        found = [
            item
            for item in response.get("DBClusterEndpoints", [])
            if str(item.get("DBClusterEndpointIdentifier", "")).lower() == endpoint_id.lower()
        ]
        if not found:
            raise _not_found(endpoint_id, region)
        if len(found) > 1:
            raise CustomEndpointError(
                f"custom endpoint '{endpoint_id}' ({region}): DescribeDBClusterEndpoints "
                f"returned {len(found)} endpoints of that name",
                endpoint_id,
            )
        return CustomEndpointInfo.from_api(found[0])

    def __repr__(self) -> str:
        return f"Boto3CustomEndpointSource(endpoint_url={self.endpoint_url!r})"


def _not_found(endpoint_id: str, region: str) -> CustomEndpointNotFoundError:
    return CustomEndpointNotFoundError(
        f"custom endpoint '{endpoint_id}' not found in {region} (DescribeDBClusterEndpoints "
        "with these credentials); check the host name, or set custom_endpoint_region",
        endpoint_id,
    )


_source: CustomEndpointSource | None = None
_defaults: dict[str | None, Boto3CustomEndpointSource] = {}
_source_lock = threading.Lock()


@at_fork_in_child
def _forget_sources_after_fork() -> None:
    """A forked child makes its own boto3 sources (their clients hold the parent's sockets)."""
    global _defaults, _source_lock
    bury(_defaults)
    _defaults = {}
    _source_lock = threading.Lock()


def set_custom_endpoint_source(source: CustomEndpointSource | None) -> None:
    """Use ``source`` for every custom endpoint monitor started from now on, in this process;
    None restores the boto3 default. Running monitors keep the source they started with
    (``release_resources()`` stops them)."""
    global _source
    if source is not None and not isinstance(source, CustomEndpointSource):
        raise TypeError(f"{source!r} has no fetch(endpoint_id, region) method")
    _source = source


def custom_endpoint_source(endpoint_url: str | None = None) -> CustomEndpointSource:
    """The source a new monitor uses: the one set with :func:`set_custom_endpoint_source`, else
    the (shared) boto3 source for ``endpoint_url`` (default: ``AWS_ENDPOINT_URL_RDS``, else
    ``AWS_ENDPOINT_URL``, else AWS's own endpoint)."""
    source = _source
    if source is not None:
        return source
    url = (
        endpoint_url or os.environ.get("AWS_ENDPOINT_URL_RDS") or os.environ.get("AWS_ENDPOINT_URL")
    )
    with _source_lock:
        default = _defaults.get(url)
        if default is None:
            default = _defaults[url] = Boto3CustomEndpointSource(url or None)
        return default


__all__ = [
    "CUSTOM_ENDPOINT_IDLE_MONITOR_EXPIRATION_MS",
    "CUSTOM_ENDPOINT_INFO_REFRESH_RATE_MS",
    "CUSTOM_ENDPOINT_RDS_ENDPOINT",
    "CUSTOM_ENDPOINT_REGION",
    "WAIT_FOR_CUSTOM_ENDPOINT_INFO",
    "WAIT_FOR_CUSTOM_ENDPOINT_INFO_TIMEOUT_MS",
    "Boto3CustomEndpointSource",
    "CustomEndpointError",
    "CustomEndpointInfo",
    "CustomEndpointNotFoundError",
    "CustomEndpointRoleType",
    "CustomEndpointSource",
    "custom_endpoint_source",
    "endpoint_id_from_host",
    "filter_hosts",
    "instance_id_of",
    "is_custom_endpoint",
    "set_custom_endpoint_source",
]
