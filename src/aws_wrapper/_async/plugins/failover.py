"""``failover_v2`` (alias ``failover``): survive the loss of the instance a connection is on.

When a network-bound call fails with a network error, the plugin

1. notes whether a transaction was open *before* the call,
2. asks the cluster's shared topology monitor for the new writer (it probes every instance
   until one confirms it is the writer) — or picks a reader, per ``failover_mode``,
3. opens a connection there through the pipeline (so authentication plugins run), retrying
   transient rejections with backoff, and verifies its role,
4. makes it the wrapper's connection (autocommit, read-only, isolation level and schema are
   replayed by the plugin service), and
5. raises :class:`FailoverSuccessError` — or :class:`TransactionResolutionUnknownError` when a
   transaction was open — so the application re-runs its statement or transaction.

:class:`FailoverFailedError` is raised when no suitable host answers within
``failover_timeout_sec``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aws_wrapper import rds_utils
from aws_wrapper._compat import asleep
from aws_wrapper.errors import (
    ConnectionClosedError,
    FailoverFailedError,
    FailoverSuccessError,
    PropertyError,
    TransactionResolutionUnknownError,
)
from aws_wrapper.host_selectors import selector_for
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.plugins.failover import (
    CONNECTION_RETRY_MAX_ATTEMPTS,
    CONNECTION_RETRY_MAX_BACKOFF_S,
    ENABLE_CONNECT_FAILOVER,
    FAILOVER_MODE,
    FAILOVER_READER_STRATEGY,
    FAILOVER_TIMEOUT_SEC,
)
from aws_wrapper.properties import Properties
from aws_wrapper.telemetry import FAILOVER_SPAN, now_ns, span_of
from aws_wrapper.topology import writer_of

from ..host_list_provider import RdsHostListProvider
from ..plugin import BasePlugin
from ..protocols import (
    CONNECT,
    NETWORK_METHODS,
    Call,
    ConnectCall,
    DriverConnection,
    PluginService,
)
from .custom_endpoint import filter_hosts_for

logger = logging.getLogger("aws_wrapper")

STRICT_WRITER = "strict_writer"
STRICT_READER = "strict_reader"
READER_OR_WRITER = "reader_or_writer"


FAILOVER_MODE_ATTR = "aws_wrapper.failover.mode"
_OUTCOMES = (FailoverSuccessError, TransactionResolutionUnknownError)

_ACTIVE = frozenset({NETWORK_METHODS, CONNECT})
_CONNECT_ONLY = frozenset({CONNECT})


class FailoverPlugin(BasePlugin):
    needs_topology = True

    @property
    def subscribed_methods(self) -> frozenset[str]:  # type: ignore[override]
        # without a topology (a single server) there is nowhere to fail over to: stay off the
        # call path entirely
        active = isinstance(self.service.host_list_provider, RdsHostListProvider)
        return _ACTIVE if active else _CONNECT_ONLY

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        self._driver = service.driver_dialect
        self._timeout = props.get(FAILOVER_TIMEOUT_SEC)
        self._connect_failover = props.get(ENABLE_CONNECT_FAILOVER)
        self._attempts = props.get(CONNECTION_RETRY_MAX_ATTEMPTS)
        self._max_backoff = props.get(CONNECTION_RETRY_MAX_BACKOFF_S)
        strategy = props.get(FAILOVER_READER_STRATEGY)
        try:
            self._selector = selector_for(strategy)
        except ValueError as e:
            raise PropertyError(
                f"property 'failover_reader_host_selector_strategy': {e}",
                "failover_reader_host_selector_strategy",
            ) from None
        mode = props.get(FAILOVER_MODE)
        if mode is None:
            reader_endpoint = rds_utils.RdsUrlType.RDS_READER_CLUSTER
            kind = rds_utils.classify(service.initial_host.host)
            mode = READER_OR_WRITER if kind is reader_endpoint else STRICT_WRITER
        self.mode = mode
        self.failovers = 0

    # -- hooks -------------------------------------------------------------------------------

    async def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        conn = self.service.current_connection
        in_transaction = conn is not None and self._driver.in_transaction(conn)
        try:
            return await call()
        except Exception as error:
            await self.call_failed(method, error, in_transaction)
            raise

    guards_calls = True
    """On the hot paths (``Cursor.execute``, ``Connection.commit``, ...) the wrapper does
    not run :meth:`execute` as a chain link: it calls :meth:`call_failed` from the failed
    call's except (see ``plugin_manager.INLINE``), so a call that succeeds never enters the
    plugin."""

    async def call_failed(self, method: str, error: Exception, in_transaction: bool) -> None:
        """A call failed with ``error`` (``in_transaction``: a transaction was open before
        it): fail over when the connection is gone (raising the outcome), else return."""
        provider = self.service.host_list_provider
        conn = self.service.current_connection
        if (
            method == "Connection.close"
            or not isinstance(provider, RdsHostListProvider)
            or not (
                self._driver.is_network_error(error)
                # a driver error on a connection the driver has closed (psycopg closes it
                # when a call is cancelled): the connection is gone all the same
                or (conn is not None and self._driver.is_closed(conn))
            )
        ):
            return
        await self._failover(provider, in_transaction, error)

    async def recover(self, in_transaction: bool) -> bool:
        """The current connection was lost before this call (a failover that failed, a
        cancelled call): fail over now, as if the call had failed."""
        provider = self.service.host_list_provider
        if not isinstance(provider, RdsHostListProvider):
            return False
        host = self.service.current_host
        where = host.url if host is not None else "the host"
        await self._failover(
            provider, in_transaction, ConnectionClosedError(f"the connection to {where} was lost")
        )
        return True  # not reached: _failover always raises

    async def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        if not (is_initial and self._connect_failover):
            return await call()
        try:
            return await call()
        except Exception as error:
            dialect = self.service.dialect
            if not self._driver.is_network_error(error) or not dialect.has_topology:
                raise
            provider = RdsHostListProvider(
                host, dialect, self._driver, self.service.monitor_connection_provider, props
            )
            logger.info("connect to %s failed (%s): failing over", host.url, error)
            deadline = time.monotonic() + self._timeout
            provider.monitor.report_failure(None)
            with span_of(
                self.service.telemetry,
                FAILOVER_SPAN,
                {
                    FAILOVER_MODE_ATTR: self.mode,
                    "aws_wrapper.failover.trigger": "connect",
                    "aws_wrapper.failover.from": host.url,
                },
            ) as span:
                conn, found = await self._find(provider, deadline, failed=host, cause=error)
                span.set_attribute("aws_wrapper.failover.to", found.url)
                span.set_attribute("aws_wrapper.failover.outcome", "success")
            return conn

    # -- failover ----------------------------------------------------------------------------

    async def _failover(
        self, provider: RdsHostListProvider, in_transaction: bool, error: BaseException
    ) -> None:
        telemetry = self.service.telemetry
        if telemetry is None:
            await self._fail_over(provider, in_transaction, error, None)
            return
        tel = telemetry.tel
        old = self.service.current_host
        attrs: dict[str, Any] = {
            **telemetry.attributes(),
            FAILOVER_MODE_ATTR: self.mode,
            "aws_wrapper.failover.trigger": "call",
            "aws_wrapper.failover.in_transaction": in_transaction,
            "aws_wrapper.failover.cause": f"{type(error).__module__}.{type(error).__qualname__}",
        }
        if old is not None:
            attrs["aws_wrapper.failover.from"] = old.url
        instruments = tel.instruments
        metric = {"aws_wrapper.failover.mode": self.mode}
        if instruments is not None:
            instruments.failover_attempts.add(1, metric)
        start = now_ns()
        outcome = "failed"
        span: Any = None
        try:
            with tel.span(FAILOVER_SPAN, attrs, ok=_OUTCOMES) as span:
                try:
                    await self._fail_over(provider, in_transaction, error, span)
                except TransactionResolutionUnknownError:
                    outcome = "transaction_resolution_unknown"
                    raise
                except FailoverSuccessError:
                    outcome = "success"
                    raise
                finally:
                    attrs["aws_wrapper.failover.outcome"] = outcome
                    attrs["aws_wrapper.failover.duration_s"] = (now_ns() - start) / 1e9
                    new = self.service.current_host
                    if outcome != "failed" and new is not None:
                        attrs["aws_wrapper.failover.to"] = new.url
                    span.set_attributes(attrs)
        finally:
            if instruments is not None:
                if outcome == "failed":
                    instruments.failover_failures.add(1, metric)
                else:
                    instruments.failover_successes.add(1, metric)
            if tel.failover_top and span is not None and tel.traces:
                tel.copy_as_top(FAILOVER_SPAN, span, attrs, start)

    async def _fail_over(
        self,
        provider: RdsHostListProvider,
        in_transaction: bool,
        error: BaseException,
        span: Any,
    ) -> None:
        started = time.monotonic()
        old_conn = self.service.current_connection
        old_host = self.service.current_host
        if old_conn is not None:
            # aborted now; replaced below, or at the start of the next call if no host is found
            self.service.mark_lost(old_conn, in_transaction=in_transaction)
        provider.monitor.report_failure(old_host)
        if old_host is not None:
            await self.service.connection_provider.invalidate(old_host)
        conn, host = await self._find(
            provider, started + self._timeout, failed=old_host, cause=error
        )
        if span is not None:
            span.set_attribute("aws_wrapper.failover.to", host.url)
            span.set_attribute("aws_wrapper.failover.to_role", host.role.value)
        await self.service.set_current_connection(conn, host)  # releases conn if it fails
        if old_conn is not None:
            await self.service.release_connection(old_conn, reusable=False)
        self.failovers += 1
        elapsed = time.monotonic() - started
        was = old_host.url if old_host else "the failed host"
        if in_transaction:
            raise TransactionResolutionUnknownError(
                f"the connection to {was} failed during a transaction; it is now connected to "
                f"{host.url} ({host.role.value}, after {elapsed:.2f} s). Whether the "
                "transaction committed is unknown: check, or re-run it if it is idempotent."
            ) from error
        raise FailoverSuccessError(
            f"the connection to {was} failed and was replaced by one to {host.url} "
            f"({host.role.value}, after {elapsed:.2f} s); session state was restored. "
            "Re-run the statement."
        ) from error

    async def _find(
        self,
        provider: RdsHostListProvider,
        deadline: float,
        *,
        failed: HostInfo | None,
        cause: BaseException,
    ) -> tuple[DriverConnection, HostInfo]:
        """A verified connection per the failover mode, or FailoverFailedError."""
        avoid = failed.url if failed is not None else None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FailoverFailedError(
                    f"failover ({self.mode}) found no healthy host within "
                    f"{self._timeout:g} s (failover_timeout_sec)"
                ) from cause
            if self.mode == STRICT_WRITER:
                hosts = await provider.writer_verified(remaining)
                writer = writer_of(hosts)
                if writer is None or provider.monitor.in_panic():
                    continue
                found = await self._open(provider, writer, deadline, want_reader=False)
                if found is not None:
                    return found, writer
                provider.monitor.report_failure(None)
                continue
            found_reader = await self._reader(provider, deadline, avoid)
            if found_reader is not None:
                return found_reader
            await asleep(min(0.1, max(0.0, deadline - time.monotonic())))

    async def _reader(
        self, provider: RdsHostListProvider, deadline: float, avoid: str | None
    ) -> tuple[DriverConnection, HostInfo] | None:
        # a connection through a custom endpoint stays among its members
        hosts = filter_hosts_for(self.service, await provider.refresh())
        readers = [h for h in hosts if h.role is HostRole.READER and h.url != avoid]
        while readers:
            choice = self._selector.select(readers, HostRole.READER, self.props)
            readers.remove(choice)
            conn = await self._open(provider, choice, deadline, want_reader=True)
            if conn is not None:
                return conn, choice
        if self.mode == READER_OR_WRITER:
            writer = writer_of(hosts)
            if writer is not None and writer.url != avoid:
                conn = await self._open(provider, writer, deadline, want_reader=None)
                if conn is not None:
                    return conn, writer
        return None

    async def _open(
        self,
        provider: RdsHostListProvider,
        host: HostInfo,
        deadline: float,
        *,
        want_reader: bool | None,
    ) -> DriverConnection | None:
        """Connect (retrying transient rejections with backoff) and check the role."""
        backoff = 0.05
        for attempt in range(self._attempts):
            try:
                conn = await self.service.connect(host, skip=self)
            except Exception as e:
                if self._driver.is_login_error(e):
                    raise FailoverFailedError(
                        f"failover reached {host.url} but the login failed: {e}"
                    ) from e
                if attempt + 1 >= self._attempts or time.monotonic() + backoff > deadline:
                    return None
                await asleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            try:
                reader = await provider.dialect.is_reader(conn, self._driver)
            except BaseException as e:
                await self.service.release_connection(conn, reusable=False)
                if not isinstance(e, Exception):
                    raise  # cancelled
                return None
            if want_reader is None or reader == want_reader:
                return conn
            await self.service.release_connection(conn)
            return None
        return None
