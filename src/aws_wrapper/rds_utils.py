"""RDS and Aurora host names: what kind of endpoint a host is, and the hosts derived from it.

Pure functions: no DNS, no I/O. They run when a connection is opened (to pick the URL type,
the instance host template and the cluster endpoints), not per statement; the regular
expressions are compiled once and parsed hosts are cached.

Endpoint shapes (``<id>`` is the identifier RDS assigns per account and region, shared by every
cluster, instance and proxy of that account in that region)::

    cluster (writer)  <cluster>.cluster-<id>.<region>.rds.amazonaws.com
    cluster reader    <cluster>.cluster-ro-<id>.<region>.rds.amazonaws.com
    custom            <name>.cluster-custom-<id>.<region>.rds.amazonaws.com
    instance          <instance>.<id>.<region>.rds.amazonaws.com
    RDS Proxy         <name>.proxy-<id>.<region>.rds.amazonaws.com
                      <name>.endpoint.proxy-<id>.<region>.rds.amazonaws.com  (proxy endpoint)
    Limitless         <name>.shardgrp-<id>.<region>.rds.amazonaws.com
    global writer     <name>.global-<id>.global.rds.amazonaws.com

The ``<region>.rds`` part may also be written ``rds.<region>`` (China:
``rds.cn-north-1.amazonaws.com.cn``; GovCloud), ``rds`` may be ``rds-fips``, and the partition
suffix may be ``amazonaws.com``, ``amazonaws.com.cn``, ``c2s.ic.gov``, ``sc2s.sgov.gov`` or
``amazonaws.eu`` / ``amazonaws.au`` / ``amazonaws.uk``, as the AWS Advanced wrappers accept.

Host names are matched case-insensitively, ignoring surrounding white space and one trailing
dot. Hosts returned by this module are lower case without a trailing dot. Functions take a
host, never ``host:port``.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NoReturn

from .errors import PropertyError

INSTANCE_HOST_PATTERN_PROPERTY = "cluster_instance_host_pattern"
GLOBAL_HOST_PATTERNS_PROPERTY = "global_cluster_instance_host_patterns"


class RdsUrlType(enum.Enum):
    """What a host name says about the endpoint behind it."""

    RDS_WRITER_CLUSTER = "rds_writer_cluster"
    RDS_READER_CLUSTER = "rds_reader_cluster"
    RDS_CUSTOM_CLUSTER = "rds_custom_cluster"
    RDS_PROXY = "rds_proxy"
    RDS_INSTANCE = "rds_instance"
    RDS_AURORA_LIMITLESS_DB_SHARD_GROUP = "rds_aurora_limitless_db_shard_group"
    RDS_GLOBAL_WRITER_CLUSTER = "rds_global_writer_cluster"
    IP_ADDRESS = "ip_address"
    OTHER = "other"

    @property
    def is_rds(self) -> bool:
        """An RDS / Aurora DNS name (any kind)."""
        return self not in _NOT_RDS

    @property
    def is_rds_cluster(self) -> bool:
        """An endpoint that follows a cluster rather than naming one instance or a proxy."""
        return self in _CLUSTER_TYPES

    @property
    def has_region(self) -> bool:
        """The host name contains an AWS region (false for the global writer endpoint)."""
        return self.is_rds and self is not RdsUrlType.RDS_GLOBAL_WRITER_CLUSTER


_NOT_RDS = frozenset({RdsUrlType.IP_ADDRESS, RdsUrlType.OTHER})
_CLUSTER_TYPES = frozenset(
    {
        RdsUrlType.RDS_WRITER_CLUSTER,
        RdsUrlType.RDS_READER_CLUSTER,
        RdsUrlType.RDS_CUSTOM_CLUSTER,
        RdsUrlType.RDS_AURORA_LIMITLESS_DB_SHARD_GROUP,
        RdsUrlType.RDS_GLOBAL_WRITER_CLUSTER,
    }
)

# The label prefix in front of <id> -> URL type.
_KIND_TYPES = {
    "cluster-": RdsUrlType.RDS_WRITER_CLUSTER,
    "cluster-ro-": RdsUrlType.RDS_READER_CLUSTER,
    "cluster-custom-": RdsUrlType.RDS_CUSTOM_CLUSTER,
    "proxy-": RdsUrlType.RDS_PROXY,
    "shardgrp-": RdsUrlType.RDS_AURORA_LIMITLESS_DB_SHARD_GROUP,
    "": RdsUrlType.RDS_INSTANCE,
}

_NAME = r"[a-z0-9-]+(?:\.[a-z0-9-]+)*"  # one or more DNS labels
_ID = r"[a-z0-9]+"
# Every AWS region so far: us-east-1, us-gov-west-1, cn-north-1, us-isob-east-1, eusc-de-east-1.
_REGION = r"[a-z]{2,}(?:-[a-z]+)*-[0-9]+"
_SERVICE = r"rds|rds-fips"
_PARTITION = (
    r"amazonaws\.com|amazonaws\.com\.cn|amazonaws\.(?:eu|au|uk)"  # commercial, China, sovereign
    r"|c2s\.ic\.gov|sc2s\.sgov\.gov"  # ISO partitions
)

_REGIONAL_RE = re.compile(
    rf"(?P<name>{_NAME})\."
    r"(?P<kind>cluster-ro-|cluster-custom-|cluster-|proxy-|shardgrp-)?"
    rf"(?P<domain>(?P<id>{_ID})\."
    rf"(?:(?P<region>{_REGION})\.(?:{_SERVICE})|(?:{_SERVICE})\.(?P<region2>{_REGION}))"
    rf"\.(?:{_PARTITION}))"
)
_GLOBAL_RE = re.compile(
    rf"(?P<name>{_NAME})\.global-(?P<domain>(?P<id>{_ID})\.global\.rds\.amazonaws\.com)"
)
# A host template: DNS labels, '?' anywhere in a label (validated separately: exactly one).
_TEMPLATE_RE = re.compile(r"[a-z0-9_?-]+(?:\.[a-z0-9_?-]+)*\.?")
_PORT_RE = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True, slots=True)
class _Parsed:
    type: RdsUrlType
    name: str | None = None  # the label(s) before <kind><id>: cluster, instance, proxy name...
    rds_id: str | None = None
    region: str | None = None
    domain: str | None = None  # "<id>.<region>.rds.amazonaws.com" and its variants


_OTHER = _Parsed(RdsUrlType.OTHER)
_IP = _Parsed(RdsUrlType.IP_ADDRESS)


def _normalize(host: str) -> str:
    host = host.strip().lower()
    return host[:-1] if host.endswith(".") else host


def is_ip_address(host: str) -> bool:
    """An IPv4 or IPv6 literal (``[::1]`` brackets and ``%zone`` suffixes allowed)."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text or not (":" in text or text[0].isdigit()):
        return False  # cheap rejection of ordinary host names
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=512)
def _parse(host: str) -> _Parsed:
    if is_ip_address(host):
        return _IP
    text = _normalize(host)
    m = _REGIONAL_RE.fullmatch(text)
    if m is not None:
        return _Parsed(
            type=_KIND_TYPES[m["kind"] or ""],
            name=m["name"],
            rds_id=m["id"],
            region=m["region"] or m["region2"],
            domain=m["domain"],
        )
    m = _GLOBAL_RE.fullmatch(text)
    if m is not None:
        return _Parsed(
            type=RdsUrlType.RDS_GLOBAL_WRITER_CLUSTER,
            name=m["name"],
            rds_id=m["id"],
            domain=m["domain"],
        )
    return _OTHER


def classify(host: str) -> RdsUrlType:
    """The kind of endpoint ``host`` names. IP literals are ``IP_ADDRESS``; non-RDS hosts
    (custom DNS, ELB, localhost, ``host:port`` strings) are ``OTHER``."""
    return _parse(host).type


def rds_id(host: str) -> str | None:
    """The ``<id>`` token of an RDS host (per account and region), else None."""
    return _parse(host).rds_id


def region_from_host(host: str) -> str | None:
    """The AWS region of a regional RDS host; None for the global writer endpoint and
    non-RDS hosts."""
    return _parse(host).region


def instance_host_template(host: str) -> str | None:
    """``?.<id>.<region>.rds.amazonaws.com`` (in the host's own partition and layout) for a
    regional RDS host, where ``?`` stands for an instance id; None for the global writer
    endpoint (its instances live in several regions) and for non-RDS hosts.

    For an RDS Proxy host this is the template of the instances of the same account and
    region; whether to connect to them directly is the caller's decision.
    """
    parsed = _parse(host)
    if parsed.region is None:
        return None
    return f"?.{parsed.domain}"


def instance_id_from_host(host: str) -> str | None:
    """The ``<instance>`` part of an RDS instance host (Aurora's ``server_id``), else None."""
    parsed = _parse(host)
    return parsed.name if parsed.type is RdsUrlType.RDS_INSTANCE else None


def cluster_id_from_host(host: str) -> str | None:
    """The DB cluster identifier named by a cluster (writer) or reader endpoint, or the global
    cluster identifier of a global writer endpoint; None for everything else.

    Custom endpoints, Limitless shard groups and proxies carry their *own* name, not the
    cluster's, and instance hosts carry no cluster name at all (``<id>.<region>`` is shared by
    every cluster of the account in that region), so none of them yields a cluster id. The id
    is unique only within one account and region; for a globally unique key use
    :func:`writer_cluster_host`.
    """
    parsed = _parse(host)
    if parsed.type in _NAMES_CLUSTER:
        return parsed.name
    return None


_NAMES_CLUSTER = frozenset(
    {
        RdsUrlType.RDS_WRITER_CLUSTER,
        RdsUrlType.RDS_READER_CLUSTER,
        RdsUrlType.RDS_GLOBAL_WRITER_CLUSTER,
    }
)
_REGIONAL_CLUSTER = frozenset({RdsUrlType.RDS_WRITER_CLUSTER, RdsUrlType.RDS_READER_CLUSTER})


def writer_cluster_host(host: str) -> str | None:
    """The cluster (writer) endpoint of the cluster a writer or reader endpoint belongs to.

    None for custom endpoints and every other host: a custom endpoint's first label is the
    endpoint's name, not the cluster's, so ``<name>.cluster-<id>...`` would be a different (or
    no) cluster.
    """
    parsed = _parse(host)
    if parsed.type not in _REGIONAL_CLUSTER:
        return None
    return f"{parsed.name}.cluster-{parsed.domain}"


def reader_cluster_host(host: str) -> str | None:
    """The reader (``cluster-ro-``) endpoint of the cluster of a writer or reader endpoint;
    None otherwise (see :func:`writer_cluster_host`)."""
    parsed = _parse(host)
    if parsed.type not in _REGIONAL_CLUSTER:
        return None
    return f"{parsed.name}.cluster-ro-{parsed.domain}"


def is_same_region(host1: str, host2: str) -> bool:
    """Both hosts are regional RDS hosts in the same region."""
    region = region_from_host(host1)
    return region is not None and region == region_from_host(host2)


_TYPE_DESCRIPTIONS = {
    RdsUrlType.RDS_WRITER_CLUSTER: "an RDS cluster (writer) endpoint",
    RdsUrlType.RDS_READER_CLUSTER: "an RDS cluster reader endpoint",
    RdsUrlType.RDS_CUSTOM_CLUSTER: "an RDS custom cluster endpoint",
    RdsUrlType.RDS_PROXY: "an RDS Proxy endpoint",
    RdsUrlType.RDS_AURORA_LIMITLESS_DB_SHARD_GROUP: "an Aurora Limitless shard group endpoint",
    RdsUrlType.RDS_GLOBAL_WRITER_CLUSTER: "an Aurora global database writer endpoint",
}
_PROBE = "x"  # one character, so positions in the probe match positions in the pattern


def parse_instance_host_pattern(pattern: str, default_port: int) -> tuple[str, int]:
    """Check the ``cluster_instance_host_pattern`` property: ``<template>[:<port>]``.

    The template contains exactly one ``?`` (replaced by an instance id) and must not be an
    RDS cluster, reader, custom, proxy, shard group or global endpoint. Returns the template
    (white space stripped) and the port, ``default_port`` when none is given. Raises
    :class:`~aws_wrapper.errors.PropertyError` naming the property.
    """
    text = pattern.strip()
    template, port = text, default_port
    if ":" in text:
        template, _, port_text = text.rpartition(":")
        if ":" in template:
            _bad(pattern, "has more than one ':'; expected <host template>[:<port>]")
        port = _parse_port(pattern, port_text)
    count = template.count("?")
    if count == 0:
        _bad(
            pattern,
            "has no '?'; expected a host template where '?' stands for the instance id, "
            "such as '?.abc123xyz.us-east-1.rds.amazonaws.com'",
        )
    if count > 1:
        _bad(pattern, f"has {count} '?'; the template must contain exactly one")
    if not _TEMPLATE_RE.fullmatch(template.lower()):
        _bad(pattern, "is not a host name template (letters, digits, '-', '_', '.' and one '?')")
    probe = template.replace("?", _PROBE)
    parsed = _parse(probe)
    description = _TYPE_DESCRIPTIONS.get(parsed.type)
    if description is not None:
        hint = instance_host_template(probe)
        use = f"; use the instance template {hint!r}" if hint else ""
        _bad(pattern, f"is {description}, not an instance host template{use}")
    if (
        parsed.type is RdsUrlType.RDS_INSTANCE
        and parsed.name is not None
        and template.index("?") >= len(parsed.name)
    ):
        _bad(pattern, "must have its '?' in the instance name (the first label) of the RDS host")
    return template, port


def _parse_port(pattern: str, port_text: str) -> int:
    if _PORT_RE.fullmatch(port_text) is None or not 1 <= int(port_text) <= 65535:
        _bad(pattern, f"has a bad port {port_text!r}; expected 1-65535")
    return int(port_text)


def _bad(pattern: str, reason: str) -> NoReturn:
    raise PropertyError(
        f"property '{INSTANCE_HOST_PATTERN_PROPERTY}': {pattern!r} {reason}",
        INSTANCE_HOST_PATTERN_PROPERTY,
    )


_REGION_ONLY_RE = re.compile(_REGION)


def is_region(text: str) -> bool:
    """``text`` has the form of an AWS region name (``us-east-1``, ``us-gov-west-1``)."""
    return _REGION_ONLY_RE.fullmatch(text.strip().lower()) is not None


def parse_global_host_patterns(value: str, default_port: int) -> dict[str, tuple[str, int]]:
    """Check the ``global_cluster_instance_host_patterns`` property: comma-separated
    ``<region>:<template>[:<port>]`` (aws-advanced-python-wrapper's format), one per region of
    the global database, e.g. ``us-east-1:?.abc.us-east-1.rds.amazonaws.com,us-west-2:?.def.
    us-west-2.rds.amazonaws.com``. Each template is checked as ``cluster_instance_host_pattern``
    is; an RDS template must name its own region. Returns ``{region: (template, port)}``.
    Raises :class:`~aws_wrapper.errors.PropertyError` naming the property."""
    name = GLOBAL_HOST_PATTERNS_PROPERTY
    result: dict[str, tuple[str, int]] = {}
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        region, sep, rest = item.partition(":")
        region = region.strip().lower()
        if not sep or not _REGION_ONLY_RE.fullmatch(region) or not rest.strip():
            raise PropertyError(
                f"property '{name}': {item!r} is not '<region>:<host template>[:<port>]' "
                "(e.g. 'us-east-1:?.abc123.us-east-1.rds.amazonaws.com')",
                name,
            )
        try:
            template, port = parse_instance_host_pattern(rest, default_port)
        except PropertyError as e:
            reason = str(e).split(": ", 1)[-1]
            raise PropertyError(f"property '{name}': region {region}: {reason}", name) from None
        named = region_from_host(template.replace("?", _PROBE))
        if named is not None and named != region:
            raise PropertyError(
                f"property '{name}': the template {template!r} is in {named}, not {region}",
                name,
            )
        if region in result:
            raise PropertyError(f"property '{name}': region {region} is given twice", name)
        result[region] = (template, port)
    if not result:
        raise PropertyError(f"property '{name}' names no region", name)
    return result


def instance_host(template: str, instance_id: str) -> str:
    """The host of instance ``instance_id``: ``template`` with its ``?`` replaced."""
    if "?" not in template:
        raise ValueError(f"instance host template {template!r} has no '?'")
    return template.replace("?", instance_id, 1)


__all__ = [
    "GLOBAL_HOST_PATTERNS_PROPERTY",
    "INSTANCE_HOST_PATTERN_PROPERTY",
    "RdsUrlType",
    "classify",
    "cluster_id_from_host",
    "instance_host",
    "instance_host_template",
    "instance_id_from_host",
    "is_ip_address",
    "is_region",
    "is_same_region",
    "parse_global_host_patterns",
    "parse_instance_host_pattern",
    "rds_id",
    "reader_cluster_host",
    "region_from_host",
    "writer_cluster_host",
]
