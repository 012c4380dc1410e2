# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/__init__.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The plugin codes this world knows, each with its factory and ordering weight.

Factories import their plugin on first use, so an unused plugin costs nothing (not even the
import of its dependencies). Lower weights run first (outermost) when plugins are auto-sorted.
"""

from __future__ import annotations

from aws_wrapper import custom_endpoint as _custom_endpoint  # noqa: F401 - declares its properties
from aws_wrapper.properties import Properties

from ..plugin_manager import register_plugin
from ..protocols import Plugin, PluginService


def _connect_time(service: PluginService, props: Properties) -> Plugin:
    from .timing import ConnectTimePlugin

    return ConnectTimePlugin(service, props)


def _execute_time(service: PluginService, props: Properties) -> Plugin:
    from .timing import ExecuteTimePlugin

    return ExecuteTimePlugin(service, props)


def _failover(service: PluginService, props: Properties) -> Plugin:
    from .failover import FailoverPlugin

    return FailoverPlugin(service, props)


def _tracker(service: PluginService, props: Properties) -> Plugin:
    from .aurora import AuroraConnectionTrackerPlugin

    return AuroraConnectionTrackerPlugin(service, props)


def _stale_dns(service: PluginService, props: Properties) -> Plugin:
    from .aurora import StaleDnsPlugin

    return StaleDnsPlugin(service, props)


def _initial_connection(service: PluginService, props: Properties) -> Plugin:
    from .aurora import InitialConnectionPlugin

    return InitialConnectionPlugin(service, props)


def _custom_endpoint_plugin(service: PluginService, props: Properties) -> Plugin:
    from .custom_endpoint import CustomEndpointPlugin

    return CustomEndpointPlugin(service, props)


def _host_monitoring(service: PluginService, props: Properties) -> Plugin:
    from .host_monitoring import HostMonitoringPlugin

    return HostMonitoringPlugin(service, props)


def _fastest_response(service: PluginService, props: Properties) -> Plugin:
    from .fastest_response import FastestResponseStrategyPlugin

    return FastestResponseStrategyPlugin(service, props)


def _read_write_splitting(service: PluginService, props: Properties) -> Plugin:
    from .read_write_splitting import ReadWriteSplittingPlugin

    return ReadWriteSplittingPlugin(service, props)


def _simple_read_write_splitting(service: PluginService, props: Properties) -> Plugin:
    from .simple_read_write_splitting import SimpleReadWriteSplittingPlugin

    return SimpleReadWriteSplittingPlugin(service, props)


def _dev(service: PluginService, props: Properties) -> Plugin:
    from .dev import DeveloperPlugin

    return DeveloperPlugin(service, props)


register_plugin("connect_time", _connect_time, 0, "Measures the time spent opening connections.")
register_plugin("execute_time", _execute_time, 0, "Measures the time spent in every wrapped call.")
register_plugin(
    "aurora_connection_tracker",
    _tracker,
    100,
    "Aborts connections still open to the old writer as soon as the writer moves.",
)
register_plugin(
    "initial_connection",
    _initial_connection,
    150,
    "Aurora initial connection strategy: through a cluster endpoint, connect to an instance "
    "of the right role (retrying), picking readers from the topology.",
)
register_plugin(
    "stale_dns",
    _stale_dns,
    200,
    "Replaces a connection that the writer endpoint's stale DNS sent to a reader with one to "
    "the real writer.",
)
register_plugin(
    "fastest_response_strategy",
    _fastest_response,
    290,
    "Measures every host's response time (one shared monitor per host) so the "
    "fastest_response host selector picks the fastest reader.",
)
register_plugin(
    "read_write_splitting",
    _read_write_splitting,
    300,
    "read_only=True moves the connection to a reader, read_only=False back to the writer.",
)
register_plugin(
    "srw",
    _simple_read_write_splitting,
    300,
    "read_only=True moves the connection to srw_read_endpoint, read_only=False to "
    "srw_write_endpoint (no topology).",
)
register_plugin(
    "custom_endpoint",
    _custom_endpoint_plugin,
    380,
    "Aurora custom endpoints: learns the endpoint's members from RDS (one shared monitor per "
    "endpoint) so plugins that pick an instance stay among them.",
)
register_plugin(
    "failover_v2",
    _failover,
    400,
    "Failover: on a network error, move the connection to the new writer (or a reader) and "
    "raise FailoverSuccessError / TransactionResolutionUnknownError.",
    aliases=("failover",),
)
register_plugin(
    "host_monitoring_v2",
    _host_monitoring,
    500,
    "Enhanced failure monitoring: probes the host of a long-running call and aborts the call "
    "when the host stops answering.",
    aliases=("host_monitoring",),
)
register_plugin(
    "dev",
    _dev,
    10_000,
    "Developer plugin: raises a chosen error on the next call or connect (for testing an "
    "application's error handling).",
)


def _iam(service: PluginService, props: Properties) -> Plugin:
    from .auth import IamAuthPlugin

    return IamAuthPlugin(service, props)


def _secrets_manager(service: PluginService, props: Properties) -> Plugin:
    from .auth import SecretsManagerPlugin

    return SecretsManagerPlugin(service, props)


def _federated(service: PluginService, props: Properties) -> Plugin:
    from .federated import FederatedAuthPlugin

    return FederatedAuthPlugin(service, props)


def _okta(service: PluginService, props: Properties) -> Plugin:
    from .federated import OktaAuthPlugin

    return OktaAuthPlugin(service, props)


register_plugin(
    "iam",
    _iam,
    600,
    "IAM database authentication: the password is an RDS IAM token signed with the AWS "
    "credentials (cached until iam_expiration).",
)
register_plugin(
    "aws_secrets_manager",
    _secrets_manager,
    600,
    "User name and password from an AWS Secrets Manager secret (cached; re-read once when the "
    "login is refused, e.g. after a rotation).",
)
register_plugin(
    "federated_auth",
    _federated,
    600,
    "IAM token for an ADFS user: SAML sign-in at ADFS, STS AssumeRoleWithSAML, then an IAM "
    "token with the temporary credentials.",
)
register_plugin(
    "okta",
    _okta,
    600,
    "IAM token for an Okta user: Okta session token, SAML assertion, STS AssumeRoleWithSAML, "
    "then an IAM token.",
)
