"""The connection provider that opens plain driver connections."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from aws_wrapper._compat import AIO
from aws_wrapper.errors import ConfigurationError
from aws_wrapper.host_selectors import selector_for, strategies
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.properties import Properties

from .protocols import ConnectionProvider, DriverConnection, DriverDialect


def checked_provider(provider: object, what: str) -> ConnectionProvider:
    """``provider`` when it is a connection provider of this world; else a
    :class:`ConfigurationError` naming ``what`` (where it was given)."""
    if not isinstance(provider, ConnectionProvider):
        raise ConfigurationError(
            f"{what} must be a connection provider (e.g. a pooled connection provider), got "
            f"{type(provider).__name__}"
        )
    is_async = inspect.iscoroutinefunction(provider.connect)
    if AIO:  # noqa: SIM108 - the generator keeps one branch of an `if AIO:` statement
        other = None if is_async else "blocking code"
    else:
        other = "async code" if is_async else None
    if other is not None:
        raise ConfigurationError(
            f"{what}: {type(provider).__name__} is a connection provider for {other}: use "
            "one of the connection's own API (the pooled providers exist in both)"
        )
    return provider


class DriverConnectionProvider:
    """Opens a new driver connection for every request."""

    def accepts(self, host: HostInfo, props: Properties) -> bool:
        return True

    def accepts_strategy(self, role: HostRole, strategy: str) -> bool:
        return strategy in strategies()

    def select_host(
        self, hosts: Sequence[HostInfo], role: HostRole, strategy: str, props: Properties
    ) -> HostInfo:
        return selector_for(strategy).select(hosts, role, props)

    async def connect(
        self, host: HostInfo, props: Properties, driver: DriverDialect
    ) -> DriverConnection:
        return await driver.connect(host, props)

    # aws-advanced-python-wrapper's names of the host choice

    def accepts_host_info(self, host_info: HostInfo, props: Properties) -> bool:
        """Whether this provider opens the connections to ``host_info`` (:meth:`accepts`)."""
        return self.accepts(host_info, props)

    def get_host_info_by_strategy(
        self,
        hosts: Sequence[HostInfo],
        role: HostRole,
        strategy: str,
        props: Properties | None = None,
    ) -> HostInfo:
        """A host of ``role`` chosen by ``strategy`` (:meth:`select_host`)."""
        return self.select_host(hosts, role, strategy, props or Properties({}, {}))

    def owns(self, conn: DriverConnection) -> bool:
        return False

    async def release(
        self, conn: DriverConnection, driver: DriverDialect, *, reusable: bool = True
    ) -> None:
        await driver.close(conn)

    async def invalidate(self, host: HostInfo) -> None:
        return None

    async def release_resources(self) -> None:
        return None


DIRECT = DriverConnectionProvider()
"""The provider of plain connections (also for hosts a pooled provider does not accept)."""


async def close_quietly(
    driver: DriverDialect, conn: DriverConnection, *, abort: bool = False
) -> None:
    """Close ``conn``, never raising: a close that fails aborts it, so its socket is freed
    either way. ``abort=True`` shuts the socket down first, for a connection that may hang
    (its host stopped answering, a call on it was cut short, its state is unknown): the close
    then cannot wait on the network."""
    if abort:
        driver.abort(conn)
    try:
        await driver.close(conn)
    except Exception:
        driver.abort(conn)
