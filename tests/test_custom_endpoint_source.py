"""The boto3 member source of the custom_endpoint plugin, against a local moto server (no AWS),
and the pure logic of custom endpoint information.

moto (5.2.5, the newest release) implements RDS clusters and instances but not the DB cluster
*endpoint* actions (CreateDBClusterEndpoint, DescribeDBClusterEndpoints, ...: "not been
implemented"). ``_cluster_endpoint_actions`` adds the three this test needs to moto's RDS
handler, inside the same moto server, while the fixture runs: moto's own request parsing and
response serialization (from botocore's RDS model) are used, clusters and instances are checked
against moto's backend, only the storage of custom endpoints is ours. The shim steps aside as
soon as moto implements the actions itself.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.rds.exceptions import RDSClientError
from moto.rds.responses import RDSResponse
from moto.server import ThreadedMotoServer

from aws_wrapper._async.plugins.custom_endpoint import CustomEndpointPlugin as AsyncPlugin
from aws_wrapper._async.resources import release_resources as arelease_resources
from aws_wrapper._sync.plugins.custom_endpoint import CustomEndpointPlugin, monitors
from aws_wrapper._sync.resources import release_resources
from aws_wrapper.custom_endpoint import (
    Boto3CustomEndpointSource,
    CustomEndpointError,
    CustomEndpointInfo,
    CustomEndpointNotFoundError,
    CustomEndpointRoleType,
    CustomEndpointSource,
    custom_endpoint_source,
    endpoint_id_from_host,
    filter_hosts,
    instance_id_of,
    set_custom_endpoint_source,
)
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import parse_properties

REGION = "us-east-1"

# -- the moto server, with the cluster endpoint actions it lacks -----------------------------

_endpoints: dict[tuple[str, str, str], dict[str, Any]] = {}
seen_requests: list[dict[str, Any]] = []


def _create_db_cluster_endpoint(self: RDSResponse) -> Any:
    from moto.core.responses import ActionResult

    params = self.params
    cluster = self.backend.describe_db_clusters(params["DBClusterIdentifier"])[0]
    members = {m.db_instance_identifier for m in cluster.members}
    for name in [*params.get("StaticMembers", []), *params.get("ExcludedMembers", [])]:
        if name not in members:
            raise RDSClientError(
                "InvalidParameterValue", f"{name} is not in {cluster.db_cluster_identifier}"
            )
    endpoint_id = params["DBClusterEndpointIdentifier"].lower()
    domain = cluster.endpoint.split(".cluster-", 1)[1]
    item = {
        "DBClusterEndpointIdentifier": endpoint_id,
        "DBClusterIdentifier": cluster.db_cluster_identifier,
        "DBClusterEndpointResourceIdentifier": f"cluster-endpoint-{endpoint_id}",
        "Endpoint": f"{endpoint_id}.cluster-custom-{domain}",
        "Status": "available",
        "EndpointType": "CUSTOM",
        "CustomEndpointType": params["EndpointType"],
        "StaticMembers": list(params.get("StaticMembers", [])),
        "ExcludedMembers": list(params.get("ExcludedMembers", [])),
        "DBClusterEndpointArn": (
            f"arn:aws:rds:{self.region}:{self.current_account}:cluster-endpoint:{endpoint_id}"
        ),
    }
    _endpoints[(self.current_account, self.region, endpoint_id)] = item
    return ActionResult(item)


def _modify_db_cluster_endpoint(self: RDSResponse) -> Any:
    from moto.core.responses import ActionResult

    params = self.params
    key = (self.current_account, self.region, params["DBClusterEndpointIdentifier"].lower())
    if key not in _endpoints:
        raise RDSClientError("DBClusterEndpointNotFoundFault", f"{key[2]} not found")
    item = _endpoints[key]
    for field in ("StaticMembers", "ExcludedMembers"):
        if field in params:
            item[field] = list(params[field])
    if "EndpointType" in params:
        item["CustomEndpointType"] = params["EndpointType"]
    return ActionResult(item)


def _describe_db_cluster_endpoints(self: RDSResponse) -> Any:
    from moto.core.responses import ActionResult

    params = self.params
    wanted = params.get("DBClusterEndpointIdentifier")
    asked = [{"Name": f["Name"], "Values": list(f["Values"])} for f in params.get("Filters", [])]
    seen_requests.append({"DBClusterEndpointIdentifier": wanted, "Filters": asked})
    filters = {f["Name"]: [v.lower() for v in f["Values"]] for f in params.get("Filters", [])}
    items: list[dict[str, Any]] = []
    for cluster in self.backend.describe_db_clusters():  # the built-in endpoints, as RDS lists them
        for kind, address in (("WRITER", cluster.endpoint), ("READER", cluster.reader_endpoint)):
            items.append(
                {
                    "DBClusterIdentifier": cluster.db_cluster_identifier,
                    "Endpoint": address,
                    "EndpointType": kind,
                }
            )
    items += [
        v
        for (account, region, _), v in _endpoints.items()
        if (account, region) == (self.current_account, self.region)
    ]
    if wanted:
        items = [i for i in items if i.get("DBClusterEndpointIdentifier") == wanted.lower()]
    if "db-cluster-endpoint-type" in filters:
        items = [
            i for i in items if i["EndpointType"].lower() in filters["db-cluster-endpoint-type"]
        ]
    return ActionResult({"DBClusterEndpoints": items})


_ACTIONS = {
    "create_db_cluster_endpoint": _create_db_cluster_endpoint,
    "modify_db_cluster_endpoint": _modify_db_cluster_endpoint,
    "describe_db_cluster_endpoints": _describe_db_cluster_endpoints,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    empty = tmp_path_factory.mktemp("aws") / "none"
    empty.write_text("")
    with pytest.MonkeyPatch.context() as mp:
        # dummy credentials; never the developer's own profile or config
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_CONFIG_FILE", str(empty))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
        for name in (
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_RDS",
        ):
            mp.delenv(name, raising=False)
        for action, func in _ACTIONS.items():
            if not hasattr(RDSResponse, action):
                mp.setattr(RDSResponse, action, func, raising=False)
        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()
            _endpoints.clear()


@pytest.fixture(scope="module")
def cluster(moto_url: str) -> dict[str, Any]:
    """An Aurora cluster of four instances and two custom endpoints."""
    rds = boto3.client("rds", region_name=REGION, endpoint_url=moto_url)
    rds.create_db_cluster(
        DBClusterIdentifier="prod",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="not-a-secret-1",
    )
    for i in range(1, 5):
        rds.create_db_instance(
            DBInstanceIdentifier=f"prod-{i}",
            DBClusterIdentifier="prod",
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
        )
    readers = rds.create_db_cluster_endpoint(
        DBClusterIdentifier="prod",
        DBClusterEndpointIdentifier="analytics",
        EndpointType="READER",
        StaticMembers=["prod-2", "prod-3"],
    )
    anything = rds.create_db_cluster_endpoint(
        DBClusterIdentifier="prod",
        DBClusterEndpointIdentifier="batch",
        EndpointType="ANY",
        ExcludedMembers=["prod-1"],
    )
    return {"url": moto_url, "analytics": readers["Endpoint"], "batch": anything["Endpoint"]}


@pytest.fixture(autouse=True)
def default_source() -> Iterator[None]:
    set_custom_endpoint_source(None)
    yield
    set_custom_endpoint_source(None)


# -- the boto3 source ------------------------------------------------------------------------


def test_static_members_and_reader_type(cluster: dict[str, Any]) -> None:
    seen_requests.clear()
    source = Boto3CustomEndpointSource(cluster["url"])
    info = source.fetch("analytics", REGION)
    assert info == CustomEndpointInfo(
        endpoint_id="analytics",
        cluster_id="prod",
        endpoint=cluster["analytics"],
        role_type=CustomEndpointRoleType.READER,
        static_members=frozenset({"prod-2", "prod-3"}),
        excluded_members=frozenset(),
    )
    assert endpoint_id_from_host(cluster["analytics"]) == "analytics"
    # what was asked: this endpoint, custom endpoints only
    assert seen_requests[-1]["DBClusterEndpointIdentifier"] == "analytics"
    assert seen_requests[-1]["Filters"] == [
        {"Name": "db-cluster-endpoint-type", "Values": ["custom"]}
    ]


def test_excluded_members_and_any_type(cluster: dict[str, Any]) -> None:
    info = Boto3CustomEndpointSource(cluster["url"]).fetch("batch", REGION)
    assert info.role_type is CustomEndpointRoleType.ANY
    assert info.static_members == frozenset() and info.excluded_members == frozenset({"prod-1"})
    assert info.allowed_host_ids is None
    assert not info.allows("prod-1") and info.allows("prod-4")


def test_membership_change_is_seen(cluster: dict[str, Any]) -> None:
    rds = boto3.client("rds", region_name=REGION, endpoint_url=cluster["url"])
    source = Boto3CustomEndpointSource(cluster["url"])
    rds.modify_db_cluster_endpoint(
        DBClusterEndpointIdentifier="analytics", StaticMembers=["prod-4"]
    )
    try:
        assert source.fetch("analytics", REGION).static_members == frozenset({"prod-4"})
    finally:
        rds.modify_db_cluster_endpoint(
            DBClusterEndpointIdentifier="analytics", StaticMembers=["prod-2", "prod-3"]
        )


def test_unknown_endpoint_is_a_clear_error(cluster: dict[str, Any]) -> None:
    with pytest.raises(CustomEndpointNotFoundError) as raised:
        Boto3CustomEndpointSource(cluster["url"]).fetch("nosuch", REGION)
    assert "'nosuch'" in str(raised.value) and REGION in str(raised.value)
    assert raised.value.endpoint == "nosuch"
    # another region of the same account has no such endpoint either
    with pytest.raises(CustomEndpointNotFoundError, match="'analytics' not found in eu-west-1"):
        Boto3CustomEndpointSource(cluster["url"]).fetch("analytics", "eu-west-1")


def test_unreachable_rds_is_a_clear_error() -> None:
    source = Boto3CustomEndpointSource(
        f"http://127.0.0.1:{_free_port()}", connect_timeout_s=1, read_timeout_s=1, max_attempts=1
    )
    with pytest.raises(
        CustomEndpointError, match=r"'analytics'.*DescribeDBClusterEndpoints failed"
    ):
        source.fetch("analytics", REGION)


def test_endpoint_url_from_the_environment(
    cluster: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", cluster["url"])
    source = custom_endpoint_source(None)
    assert isinstance(source, Boto3CustomEndpointSource) and source.endpoint_url == cluster["url"]
    assert custom_endpoint_source(None) is source  # one shared client cache per URL
    assert source.fetch("analytics", REGION).static_members == frozenset({"prod-2", "prod-3"})


# -- the plugins with the boto3 source, end to end (no database: the chain is stubbed) -------


def test_sync_plugin_learns_members_from_rds(cluster: dict[str, Any]) -> None:
    host = cluster["analytics"]
    props = parse_properties({"custom_endpoint_rds_endpoint": cluster["url"]}, frozenset(), "test")

    class Service:
        initial_host = HostInfo(host, 5432)

    plugin = CustomEndpointPlugin(Service(), props)  # type: ignore[arg-type]
    try:
        assert plugin.connect(HostInfo(host, 5432), props, True, lambda: "conn") == "conn"
        assert plugin.allowed_host_ids() == frozenset({"prod-2", "prod-3"})
        assert [m.endpoint_host for m in monitors()] == [host]
    finally:
        release_resources()
    assert monitors() == []


async def test_async_plugin_learns_members_from_rds(cluster: dict[str, Any]) -> None:
    host = cluster["batch"]
    props = parse_properties({"custom_endpoint_rds_endpoint": cluster["url"]}, frozenset(), "test")

    class Service:
        initial_host = HostInfo(host, 5432)

    async def opened() -> str:
        return "conn"

    plugin = AsyncPlugin(Service(), props)  # type: ignore[arg-type]
    try:
        assert await plugin.connect(HostInfo(host, 5432), props, True, opened) == "conn"
        assert plugin.blocked_host_ids() == frozenset({"prod-1"})
    finally:
        await arelease_resources()


# -- pure logic ------------------------------------------------------------------------------


def test_info_from_api_shapes() -> None:
    bare = CustomEndpointInfo.from_api(
        {"DBClusterEndpointIdentifier": "e", "CustomEndpointType": "any"}
    )
    assert bare.role_type is CustomEndpointRoleType.ANY
    assert bare.static_members == frozenset() == bare.excluded_members
    assert bare.allows("anything")
    with pytest.raises(CustomEndpointError, match=r"'e'.*'WRITER'"):
        CustomEndpointInfo.from_api(
            {"DBClusterEndpointIdentifier": "e", "CustomEndpointType": "WRITER"}
        )


def test_filtering_uses_host_ids_else_the_instance_name() -> None:
    endpoint = "e.cluster-custom-abc.us-east-1.rds.amazonaws.com"
    info = CustomEndpointInfo("e", "c", endpoint, CustomEndpointRoleType.READER, frozenset({"i-2"}))
    by_id = HostInfo("10.0.0.2", 5432, host_id="i-2")
    by_name = HostInfo("I-2.abc.us-east-1.rds.amazonaws.com", 5432)
    other = HostInfo("i-3.abc.us-east-1.rds.amazonaws.com", 5432)
    itself = HostInfo("E.cluster-custom-abc.us-east-1.rds.amazonaws.com.", 5432)
    unknown = [HostInfo("c.cluster-abc.us-east-1.rds.amazonaws.com", 5432), HostInfo("10.0.0.9", 1)]
    assert instance_id_of(by_name) == "i-2" and instance_id_of(itself) is None
    assert filter_hosts([by_id, by_name, other, itself, *unknown], info) == [by_id, by_name, itself]
    assert filter_hosts([other], None) == [other]  # unknown members: no restriction


def test_endpoint_id_only_for_custom_endpoints() -> None:
    assert endpoint_id_from_host("My-EP.cluster-custom-abc.eu-west-1.rds.amazonaws.com.") == "my-ep"
    assert endpoint_id_from_host("prod.cluster-abc.eu-west-1.rds.amazonaws.com") is None
    assert endpoint_id_from_host("localhost") is None


def test_set_custom_endpoint_source() -> None:
    class Fixed:
        def fetch(self, endpoint_id: str, region: str) -> CustomEndpointInfo:
            return CustomEndpointInfo(endpoint_id, "c", "", CustomEndpointRoleType.ANY)

    fixed = Fixed()
    assert isinstance(fixed, CustomEndpointSource)
    set_custom_endpoint_source(fixed)
    assert custom_endpoint_source("http://ignored") is fixed
    set_custom_endpoint_source(None)
    assert isinstance(custom_endpoint_source("http://127.0.0.1:1"), Boto3CustomEndpointSource)
    with pytest.raises(TypeError):
        set_custom_endpoint_source(object())  # type: ignore[arg-type]
