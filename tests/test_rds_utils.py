"""RDS / Aurora host names: classification, templates, derived hosts (pure logic)."""

from __future__ import annotations

import pytest

from aws_wrapper.errors import ConfigurationError, PropertyError
from aws_wrapper.rds_utils import (
    INSTANCE_HOST_PATTERN_PROPERTY,
    RdsUrlType,
    classify,
    cluster_id_from_host,
    instance_host,
    instance_host_template,
    instance_id_from_host,
    is_ip_address,
    is_same_region,
    parse_instance_host_pattern,
    rds_id,
    reader_cluster_host,
    region_from_host,
    writer_cluster_host,
)

T = RdsUrlType

# (host, type, region, <id>, instance host template)
HOSTS: list[tuple[str, RdsUrlType, str | None, str | None, str | None]] = [
    # --- commercial partition ---
    (
        "database-1.cluster-xyz123abc456.us-east-2.rds.amazonaws.com",
        T.RDS_WRITER_CLUSTER,
        "us-east-2",
        "xyz123abc456",
        "?.xyz123abc456.us-east-2.rds.amazonaws.com",
    ),
    (
        "database-1.cluster-ro-xyz123abc456.us-east-2.rds.amazonaws.com",
        T.RDS_READER_CLUSTER,
        "us-east-2",
        "xyz123abc456",
        "?.xyz123abc456.us-east-2.rds.amazonaws.com",
    ),
    (
        "analytics.cluster-custom-xyz123abc456.us-east-2.rds.amazonaws.com",
        T.RDS_CUSTOM_CLUSTER,
        "us-east-2",
        "xyz123abc456",
        "?.xyz123abc456.us-east-2.rds.amazonaws.com",
    ),
    (
        "database-1-instance-1.xyz123abc456.us-east-2.rds.amazonaws.com",
        T.RDS_INSTANCE,
        "us-east-2",
        "xyz123abc456",
        "?.xyz123abc456.us-east-2.rds.amazonaws.com",
    ),
    (
        "my-proxy.proxy-xyz123abc456.eu-west-1.rds.amazonaws.com",
        T.RDS_PROXY,
        "eu-west-1",
        "xyz123abc456",
        "?.xyz123abc456.eu-west-1.rds.amazonaws.com",
    ),
    (  # RDS Proxy custom (read-only) endpoint
        "ro-endpoint.endpoint.proxy-xyz123abc456.eu-west-1.rds.amazonaws.com",
        T.RDS_PROXY,
        "eu-west-1",
        "xyz123abc456",
        "?.xyz123abc456.eu-west-1.rds.amazonaws.com",
    ),
    (
        "limitless-1.shardgrp-xyz123abc456.us-west-2.rds.amazonaws.com",
        T.RDS_AURORA_LIMITLESS_DB_SHARD_GROUP,
        "us-west-2",
        "xyz123abc456",
        "?.xyz123abc456.us-west-2.rds.amazonaws.com",
    ),
    (
        "orders-gdb.global-abcdef123456.global.rds.amazonaws.com",
        T.RDS_GLOBAL_WRITER_CLUSTER,
        None,
        "abcdef123456",
        None,
    ),
    (  # blue/green green instance
        "db-1-green-abc123.xyz123abc456.ap-southeast-2.rds.amazonaws.com",
        T.RDS_INSTANCE,
        "ap-southeast-2",
        "xyz123abc456",
        "?.xyz123abc456.ap-southeast-2.rds.amazonaws.com",
    ),
    (  # the devcluster's shape
        "devdb.cluster-3f9a1b2c4d5e.us-east-1.rds.amazonaws.com",
        T.RDS_WRITER_CLUSTER,
        "us-east-1",
        "3f9a1b2c4d5e",
        "?.3f9a1b2c4d5e.us-east-1.rds.amazonaws.com",
    ),
    (
        "a.b1.il-central-1.rds.amazonaws.com",
        T.RDS_INSTANCE,
        "il-central-1",
        "b1",
        "?.b1.il-central-1.rds.amazonaws.com",
    ),
    # --- China: rds.<region>.amazonaws.com.cn and the older <region>.rds.amazonaws.com.cn ---
    (
        "test-postgres.cluster-123456789012.rds.cn-northwest-1.amazonaws.com.cn",
        T.RDS_WRITER_CLUSTER,
        "cn-northwest-1",
        "123456789012",
        "?.123456789012.rds.cn-northwest-1.amazonaws.com.cn",
    ),
    (
        "test-postgres.cluster-ro-123456789012.rds.cn-northwest-1.amazonaws.com.cn",
        T.RDS_READER_CLUSTER,
        "cn-northwest-1",
        "123456789012",
        "?.123456789012.rds.cn-northwest-1.amazonaws.com.cn",
    ),
    (
        "test-alias.cluster-custom-123456789012.rds.cn-north-1.amazonaws.com.cn",
        T.RDS_CUSTOM_CLUSTER,
        "cn-north-1",
        "123456789012",
        "?.123456789012.rds.cn-north-1.amazonaws.com.cn",
    ),
    (
        "test-instance-1.123456789012.rds.cn-north-1.amazonaws.com.cn",
        T.RDS_INSTANCE,
        "cn-north-1",
        "123456789012",
        "?.123456789012.rds.cn-north-1.amazonaws.com.cn",
    ),
    (
        "px.proxy-123456789012.rds.cn-north-1.amazonaws.com.cn",
        T.RDS_PROXY,
        "cn-north-1",
        "123456789012",
        "?.123456789012.rds.cn-north-1.amazonaws.com.cn",
    ),
    (
        "old-style.cluster-123456789012.cn-north-1.rds.amazonaws.com.cn",
        T.RDS_WRITER_CLUSTER,
        "cn-north-1",
        "123456789012",
        "?.123456789012.cn-north-1.rds.amazonaws.com.cn",
    ),
    (
        "old-style-1.123456789012.cn-north-1.rds.amazonaws.com.cn",
        T.RDS_INSTANCE,
        "cn-north-1",
        "123456789012",
        "?.123456789012.cn-north-1.rds.amazonaws.com.cn",
    ),
    (
        "lim.shardgrp-123456789012.cn-north-1.rds.amazonaws.com.cn",
        T.RDS_AURORA_LIMITLESS_DB_SHARD_GROUP,
        "cn-north-1",
        "123456789012",
        "?.123456789012.cn-north-1.rds.amazonaws.com.cn",
    ),
    # --- GovCloud and ISO partitions ---
    (
        "gov.cluster-123456789012.us-gov-west-1.rds.amazonaws.com",
        T.RDS_WRITER_CLUSTER,
        "us-gov-west-1",
        "123456789012",
        "?.123456789012.us-gov-west-1.rds.amazonaws.com",
    ),
    (
        "gov.cluster-ro-123456789012.rds.us-gov-east-1.amazonaws.com",
        T.RDS_READER_CLUSTER,
        "us-gov-east-1",
        "123456789012",
        "?.123456789012.rds.us-gov-east-1.amazonaws.com",
    ),
    (
        "gov-1.123456789012.rds.us-gov-west-1.amazonaws.com",
        T.RDS_INSTANCE,
        "us-gov-west-1",
        "123456789012",
        "?.123456789012.rds.us-gov-west-1.amazonaws.com",
    ),
    (
        "iso.cluster-123456789012.us-iso-east-1.rds.c2s.ic.gov",
        T.RDS_WRITER_CLUSTER,
        "us-iso-east-1",
        "123456789012",
        "?.123456789012.us-iso-east-1.rds.c2s.ic.gov",
    ),
    (
        "iso.cluster-custom-123456789012.rds.us-iso-east-1.c2s.ic.gov",
        T.RDS_CUSTOM_CLUSTER,
        "us-iso-east-1",
        "123456789012",
        "?.123456789012.rds.us-iso-east-1.c2s.ic.gov",
    ),
    (
        "isob-1.123456789012.us-isob-east-1.rds.sc2s.sgov.gov",
        T.RDS_INSTANCE,
        "us-isob-east-1",
        "123456789012",
        "?.123456789012.us-isob-east-1.rds.sc2s.sgov.gov",
    ),
    (
        "isob.proxy-123456789012.rds.us-isob-east-1.sc2s.sgov.gov",
        T.RDS_PROXY,
        "us-isob-east-1",
        "123456789012",
        "?.123456789012.rds.us-isob-east-1.sc2s.sgov.gov",
    ),
    (
        "fips.cluster-123456789012.us-gov-west-1.rds-fips.amazonaws.com",
        T.RDS_WRITER_CLUSTER,
        "us-gov-west-1",
        "123456789012",
        "?.123456789012.us-gov-west-1.rds-fips.amazonaws.com",
    ),
    (  # European Sovereign Cloud
        "eu.cluster-123456789012.eusc-de-east-1.rds.amazonaws.eu",
        T.RDS_WRITER_CLUSTER,
        "eusc-de-east-1",
        "123456789012",
        "?.123456789012.eusc-de-east-1.rds.amazonaws.eu",
    ),
    # --- not RDS ---
    ("10.0.0.1", T.IP_ADDRESS, None, None, None),
    ("127.0.0.1", T.IP_ADDRESS, None, None, None),
    ("0.0.0.0", T.IP_ADDRESS, None, None, None),
    ("255.255.255.255", T.IP_ADDRESS, None, None, None),
    ("::1", T.IP_ADDRESS, None, None, None),
    ("[::1]", T.IP_ADDRESS, None, None, None),
    ("2001:db8::8a2e:370:7334", T.IP_ADDRESS, None, None, None),
    ("2001:0DB8:85A3:0000:0000:8A2E:0370:7334", T.IP_ADDRESS, None, None, None),
    ("fe80::1%eth0", T.IP_ADDRESS, None, None, None),
    ("::ffff:192.0.2.128", T.IP_ADDRESS, None, None, None),
    ("::", T.IP_ADDRESS, None, None, None),
    ("localhost", T.OTHER, None, None, None),
    ("", T.OTHER, None, None, None),
    ("   ", T.OTHER, None, None, None),
    ("db.example.com", T.OTHER, None, None, None),
    ("256.1.1.1", T.OTHER, None, None, None),
    ("1.2.3", T.OTHER, None, None, None),
    ("2001:db8::1::2", T.OTHER, None, None, None),
    ("my-lb-123.elb.us-east-1.amazonaws.com", T.OTHER, None, None, None),
    ("rds.us-east-1.amazonaws.com", T.OTHER, None, None, None),  # the RDS API endpoint
    ("xyz123abc456.us-east-1.rds.amazonaws.com", T.OTHER, None, None, None),
    ("db.xyz123abc456.rds.amazonaws.com", T.OTHER, None, None, None),  # no region
    ("db.xyz123abc456.us-east-1.rds.amazonaws.com.evil.com", T.OTHER, None, None, None),
    ("db.xyz123abc456.global.rds.amazonaws.com", T.OTHER, None, None, None),
    ("db.cluster-xyz.us-east-1.rds.amazonaws.com:5432", T.OTHER, None, None, None),
    ("db.cluster-xyz.us-east-1.rds.amazonaws.org", T.OTHER, None, None, None),
    ("db..cluster-xyz.us-east-1.rds.amazonaws.com", T.OTHER, None, None, None),
    ("db.cluster-xyz.us-east-1.rds.amazonaws.com\nx", T.OTHER, None, None, None),
    ("?.xyz123abc456.us-east-1.rds.amazonaws.com", T.OTHER, None, None, None),  # a template
    ("db.cluster-ro-xyz_1.us-east-1.rds.amazonaws.com", T.OTHER, None, None, None),
]


@pytest.mark.parametrize(("host", "kind", "region", "ident", "template"), HOSTS)
def test_classify_and_parts(
    host: str, kind: RdsUrlType, region: str | None, ident: str | None, template: str | None
) -> None:
    assert classify(host) is kind
    assert region_from_host(host) == region
    assert rds_id(host) == ident
    assert instance_host_template(host) == template
    assert is_ip_address(host) is (kind is T.IP_ADDRESS)


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("Database-1.Cluster-XYZ123ABC456.US-EAST-2.RDS.AMAZONAWS.COM", T.RDS_WRITER_CLUSTER),
        ("DB.CLUSTER-RO-ABC.RDS.CN-NORTH-1.AMAZONAWS.COM.CN", T.RDS_READER_CLUSTER),
        ("database-1.cluster-xyz123abc456.us-east-2.rds.amazonaws.com.", T.RDS_WRITER_CLUSTER),
        ("  database-1.xyz123abc456.us-east-2.rds.amazonaws.com \n", T.RDS_INSTANCE),
        ("Orders.Global-ABC.Global.RDS.amazonaws.com", T.RDS_GLOBAL_WRITER_CLUSTER),
        (" 10.1.2.3 ", T.IP_ADDRESS),
        ("FE80::ABCD", T.IP_ADDRESS),
    ],
)
def test_case_trailing_dot_and_white_space(host: str, kind: RdsUrlType) -> None:
    assert classify(host) is kind


def test_derived_hosts_are_lower_case() -> None:
    host = "Database-1.Cluster-RO-XYZ123.US-EAST-2.rds.amazonaws.com."
    assert instance_host_template(host) == "?.xyz123.us-east-2.rds.amazonaws.com"
    assert writer_cluster_host(host) == "database-1.cluster-xyz123.us-east-2.rds.amazonaws.com"
    assert cluster_id_from_host(host) == "database-1"
    assert region_from_host(host) == "us-east-2"


@pytest.mark.parametrize(
    ("kind", "is_rds", "is_cluster", "has_region"),
    [
        (T.RDS_WRITER_CLUSTER, True, True, True),
        (T.RDS_READER_CLUSTER, True, True, True),
        (T.RDS_CUSTOM_CLUSTER, True, True, True),
        (T.RDS_AURORA_LIMITLESS_DB_SHARD_GROUP, True, True, True),
        (T.RDS_GLOBAL_WRITER_CLUSTER, True, True, False),
        (T.RDS_PROXY, True, False, True),
        (T.RDS_INSTANCE, True, False, True),
        (T.IP_ADDRESS, False, False, False),
        (T.OTHER, False, False, False),
    ],
)
def test_url_type_properties(
    kind: RdsUrlType, is_rds: bool, is_cluster: bool, has_region: bool
) -> None:
    assert kind.is_rds is is_rds
    assert kind.is_rds_cluster is is_cluster
    assert kind.has_region is has_region


def test_every_url_type_is_covered() -> None:
    assert {kind for _, kind, *_ in HOSTS} == set(RdsUrlType)


# (host, cluster id, writer endpoint, reader endpoint)
CLUSTERS: list[tuple[str, str | None, str | None, str | None]] = [
    (
        "database-1.cluster-xyz123abc456.us-east-2.rds.amazonaws.com",
        "database-1",
        "database-1.cluster-xyz123abc456.us-east-2.rds.amazonaws.com",
        "database-1.cluster-ro-xyz123abc456.us-east-2.rds.amazonaws.com",
    ),
    (
        "database-1.cluster-ro-xyz123abc456.us-east-2.rds.amazonaws.com",
        "database-1",
        "database-1.cluster-xyz123abc456.us-east-2.rds.amazonaws.com",
        "database-1.cluster-ro-xyz123abc456.us-east-2.rds.amazonaws.com",
    ),
    (
        "pg.cluster-ro-123456789012.rds.cn-northwest-1.amazonaws.com.cn",
        "pg",
        "pg.cluster-123456789012.rds.cn-northwest-1.amazonaws.com.cn",
        "pg.cluster-ro-123456789012.rds.cn-northwest-1.amazonaws.com.cn",
    ),
    (
        "pg.cluster-123456789012.cn-north-1.rds.amazonaws.com.cn",
        "pg",
        "pg.cluster-123456789012.cn-north-1.rds.amazonaws.com.cn",
        "pg.cluster-ro-123456789012.cn-north-1.rds.amazonaws.com.cn",
    ),
    (
        "gov.cluster-ro-123456789012.rds.us-gov-west-1.amazonaws.com",
        "gov",
        "gov.cluster-123456789012.rds.us-gov-west-1.amazonaws.com",
        "gov.cluster-ro-123456789012.rds.us-gov-west-1.amazonaws.com",
    ),
    (
        "iso.cluster-123456789012.us-iso-east-1.rds.c2s.ic.gov",
        "iso",
        "iso.cluster-123456789012.us-iso-east-1.rds.c2s.ic.gov",
        "iso.cluster-ro-123456789012.us-iso-east-1.rds.c2s.ic.gov",
    ),
    # the global database's identifier, but no regional cluster endpoints
    ("orders-gdb.global-abcdef123456.global.rds.amazonaws.com", "orders-gdb", None, None),
    # a custom endpoint's / shard group's / proxy's label is its own name, not the cluster's
    ("analytics.cluster-custom-xyz123abc456.us-east-2.rds.amazonaws.com", None, None, None),
    ("limitless-1.shardgrp-xyz123abc456.us-west-2.rds.amazonaws.com", None, None, None),
    ("my-proxy.proxy-xyz123abc456.eu-west-1.rds.amazonaws.com", None, None, None),
    # <id>.<region> is shared by every cluster of the account in the region: no cluster id
    ("database-1-instance-1.xyz123abc456.us-east-2.rds.amazonaws.com", None, None, None),
    ("10.0.0.1", None, None, None),
    ("db.example.com", None, None, None),
]


@pytest.mark.parametrize(("host", "cluster_id", "writer", "reader"), CLUSTERS)
def test_cluster_id_and_cluster_endpoints(
    host: str, cluster_id: str | None, writer: str | None, reader: str | None
) -> None:
    assert cluster_id_from_host(host) == cluster_id
    assert writer_cluster_host(host) == writer
    assert reader_cluster_host(host) == reader
    if writer is not None:
        assert classify(writer) is T.RDS_WRITER_CLUSTER
        assert writer_cluster_host(writer) == writer
        assert reader_cluster_host(writer) == reader
    if reader is not None:
        assert classify(reader) is T.RDS_READER_CLUSTER
        assert writer_cluster_host(reader) == writer


@pytest.mark.parametrize(
    ("host", "instance_id"),
    [
        ("database-1-instance-1.xyz123abc456.us-east-2.rds.amazonaws.com", "database-1-instance-1"),
        ("Inst-2.123456789012.rds.cn-north-1.amazonaws.com.cn", "inst-2"),
        ("database-1.cluster-xyz123abc456.us-east-2.rds.amazonaws.com", None),
        ("my-proxy.proxy-xyz123abc456.eu-west-1.rds.amazonaws.com", None),
        ("db.example.com", None),
        ("::1", None),
    ],
)
def test_instance_id_from_host(host: str, instance_id: str | None) -> None:
    assert instance_id_from_host(host) == instance_id


@pytest.mark.parametrize(
    ("host1", "host2", "same"),
    [
        (
            "a.cluster-xyz.us-east-1.rds.amazonaws.com",
            "b.xyz.us-east-1.rds.amazonaws.com",
            True,
        ),
        (
            "a.cluster-xyz.us-east-1.rds.amazonaws.com",
            "a.cluster-xyz.us-east-2.rds.amazonaws.com",
            False,
        ),
        ("a.global-xyz.global.rds.amazonaws.com", "a.global-xyz.global.rds.amazonaws.com", False),
        ("db.example.com", "db.example.com", False),
    ],
)
def test_is_same_region(host1: str, host2: str, same: bool) -> None:
    assert is_same_region(host1, host2) is same


@pytest.mark.parametrize(
    "host",
    [
        "database-1.cluster-xyz123abc456.us-east-2.rds.amazonaws.com",
        "database-1.cluster-ro-xyz123abc456.us-east-2.rds.amazonaws.com",
        "analytics.cluster-custom-xyz123abc456.us-east-2.rds.amazonaws.com",
        "test-postgres.cluster-123456789012.rds.cn-northwest-1.amazonaws.com.cn",
        "old-style.cluster-123456789012.cn-north-1.rds.amazonaws.com.cn",
        "gov.cluster-ro-123456789012.rds.us-gov-east-1.amazonaws.com",
        "isob-1.123456789012.us-isob-east-1.rds.sc2s.sgov.gov",
    ],
)
def test_template_gives_instance_hosts_of_the_same_cluster(host: str) -> None:
    template = instance_host_template(host)
    assert template is not None
    instance = instance_host(template, "instance-7")
    assert classify(instance) is T.RDS_INSTANCE
    assert instance_id_from_host(instance) == "instance-7"
    assert instance_host_template(instance) == template
    assert region_from_host(instance) == region_from_host(host)
    assert rds_id(instance) == rds_id(host)


def test_instance_host() -> None:
    assert instance_host("?.abc.us-east-1.rds.amazonaws.com", "db-1") == (
        "db-1.abc.us-east-1.rds.amazonaws.com"
    )
    assert instance_host("pg-?.internal", "w") == "pg-w.internal"
    assert instance_host("?", "instance-1") == "instance-1"
    with pytest.raises(ValueError, match="no '\\?'"):
        instance_host("db.example.com", "db-1")


@pytest.mark.parametrize(
    ("pattern", "default_port", "expected"),
    [
        (
            "?.abc123.us-east-1.rds.amazonaws.com",
            5432,
            ("?.abc123.us-east-1.rds.amazonaws.com", 5432),
        ),
        (
            "?.abc123.us-east-1.rds.amazonaws.com:3307",
            3306,
            ("?.abc123.us-east-1.rds.amazonaws.com", 3307),
        ),
        (
            " ?.123.rds.cn-north-1.amazonaws.com.cn ",
            5432,
            ("?.123.rds.cn-north-1.amazonaws.com.cn", 5432),
        ),
        (
            "?.ABC123.US-EAST-1.RDS.AMAZONAWS.COM",
            5432,
            ("?.ABC123.US-EAST-1.RDS.AMAZONAWS.COM", 5432),
        ),
        ("db-?.internal.example.com", 5432, ("db-?.internal.example.com", 5432)),
        ("?.db.svc.cluster.local:65535", 1, ("?.db.svc.cluster.local", 65535)),
        ("?.example.com.", 5432, ("?.example.com.", 5432)),
        ("?", 3306, ("?", 3306)),
        ("?:1", 3306, ("?", 1)),
        ("my_?.corp", 3306, ("my_?.corp", 3306)),
    ],
)
def test_parse_instance_host_pattern(
    pattern: str, default_port: int, expected: tuple[str, int]
) -> None:
    assert parse_instance_host_pattern(pattern, default_port) == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "has no '\\?'"),
        ("abc123.us-east-1.rds.amazonaws.com", "has no '\\?'"),
        ("db.example.com:5432", "has no '\\?'"),
        ("?.?.example.com", "has 2 '\\?'"),
        ("??.example.com", "has 2 '\\?'"),
        ("?.example.com:5432:1", "more than one ':'"),
        ("::1", "more than one ':'"),
        ("?.example.com:", "bad port ''"),
        ("?.example.com:0", "bad port '0'"),
        ("?.example.com:65536", "bad port '65536'"),
        ("?.example.com:123456", "bad port '123456'"),
        ("?.example.com:-1", "bad port '-1'"),
        ("?.example.com:abc", "bad port 'abc'"),
        ("?.example.com: 5432", "bad port ' 5432'"),
        ("?.example.com:٥٤٣٢", "bad port"),  # non-ASCII digits
        ("?.exa mple.com", "not a host name template"),
        ("postgres://?.example.com", "bad port '//\\?.example.com'"),
        ("?..example.com", "not a host name template"),
        ("?.example/com", "not a host name template"),
        (
            "?.cluster-abc123.us-east-1.rds.amazonaws.com",
            "is an RDS cluster \\(writer\\) endpoint.*'\\?.abc123.us-east-1.rds.amazonaws.com'",
        ),
        ("?.cluster-ro-abc123.us-east-1.rds.amazonaws.com:5432", "cluster reader endpoint"),
        ("?.cluster-custom-abc123.us-east-1.rds.amazonaws.com", "custom cluster endpoint"),
        ("?.proxy-abc123.us-east-1.rds.amazonaws.com", "RDS Proxy endpoint"),
        ("?.shardgrp-abc123.us-east-1.rds.amazonaws.com", "Limitless shard group endpoint"),
        ("?.global-abc123.global.rds.amazonaws.com", "global database writer endpoint"),
        (
            "?.cluster-123.rds.cn-north-1.amazonaws.com.cn",
            "'\\?.123.rds.cn-north-1.amazonaws.com.cn'",
        ),
        ("db.cluster-?.us-east-1.rds.amazonaws.com", "RDS cluster \\(writer\\) endpoint"),
        (
            "db.?.us-east-1.rds.amazonaws.com",
            "its '\\?' in the instance name \\(the first label\\)",
        ),
    ],
)
def test_bad_instance_host_pattern(pattern: str, message: str) -> None:
    with pytest.raises(PropertyError, match=message) as info:
        parse_instance_host_pattern(pattern, 5432)
    assert info.value.prop == INSTANCE_HOST_PATTERN_PROPERTY == "cluster_instance_host_pattern"
    assert str(info.value).startswith("property 'cluster_instance_host_pattern': ")
    assert isinstance(info.value, ConfigurationError)


def test_devcluster_template_round_trip() -> None:
    """The devcluster's ``instance_template`` is accepted and matches what its cluster
    endpoint implies."""
    cluster = "devdb.cluster-3f9a1b2c4d5e.us-east-1.rds.amazonaws.com"
    template = "?.3f9a1b2c4d5e.us-east-1.rds.amazonaws.com"
    assert instance_host_template(cluster) == template
    assert parse_instance_host_pattern(template, 5432) == (template, 5432)
    host = instance_host(template, "devdb-2")
    assert host == "devdb-2.3f9a1b2c4d5e.us-east-1.rds.amazonaws.com"
    assert classify(host) is T.RDS_INSTANCE


def test_long_hostile_input_is_fast() -> None:
    """No catastrophic backtracking on long, almost-matching names."""
    import time

    hosts = [
        "a." * 5000 + "cluster-abc.us-east-1.rds.amazonaws.co",
        "a-" * 10000 + ".cluster-abc.us-east-1.rds.amazonaws.com.x",
        "a" * 20000,
        ":" * 5000,
    ]
    start = time.perf_counter()
    for host in hosts:
        assert classify(host) is T.OTHER
    assert time.perf_counter() - start < 1.0
