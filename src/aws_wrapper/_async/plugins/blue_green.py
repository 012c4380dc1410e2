"""``bg``: blue/green deployments (see docs/blue-green.md).

One :class:`BlueGreenStatusProvider` per deployment (``bg_id``) per process (per event loop in
async code) watches the deployment with two :class:`SideMonitor` workers (a task there, a thread
in blocking code), each on a connection of its own: one to blue, one to green. Each reads the
status rows of its side (the dialect's ``blue_green_sql``) at the baseline, increased or high
interval by phase, and, before the switchover, records the side's endpoints and the addresses
they resolve to (through the installed name resolver, else DNS off the event loop). The
provider folds both sides into a :class:`aws_wrapper.blue_green.Routing` (the phase logic lives
in :mod:`aws_wrapper.blue_green`), which the plugins of every connection read:

- ``connect``: a new connection to a host of the deployment is held, sent to a recorded
  address (the host name kept for TLS and IAM), or refused
  (:class:`~aws_wrapper.errors.GreenEndpointRejectedError`), as the phase says;
- the driver's network-bound calls: held during IN_PROGRESS on connections to blue or green
  hosts (up to ``bg_connect_timeout_ms``, then
  :class:`~aws_wrapper.errors.BlueGreenTimeoutError`). Outside IN_PROGRESS a call costs one
  attribute read (``provider.hold_calls``).

Servers without blue/green metadata (plain PostgreSQL / MySQL, older engine versions, a user
without the grant) get one WARNING per process and deployment, and pass-through.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import partial
from typing import Any

from aws_wrapper import telemetry
from aws_wrapper._compat import AEvent, AThreadLock, arun_blocking, await_event
from aws_wrapper.addresses import dns_addresses, quick_addresses
from aws_wrapper.blue_green import (
    PASS_THROUGH,
    Action,
    Phase,
    Role,
    Routing,
    SideReport,
    SwitchoverTracker,
    blue_name_of,
    interval_for,
    is_old,
    parse_rows,
    side_phase,
)
from aws_wrapper.errors import (
    BlueGreenTimeoutError,
    ConnectError,
    GreenEndpointRejectedError,
    LoginError,
    PropertyError,
    first_line,
)
from aws_wrapper.forking import at_fork_in_child
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.plugins.auth import IAM_HOST
from aws_wrapper.plugins.blue_green import (
    BG_CONNECT_TIMEOUT_MS,
    BG_ID,
    BG_INTERVAL_BASELINE_MS,
    BG_INTERVAL_HIGH_MS,
    BG_INTERVAL_INCREASED_MS,
    BG_MONITORING_PREFIX,
    BG_SUSPEND_NEW_BLUE_CONNECTIONS,
    BG_SWITCHOVER_TIMEOUT_MS,
)
from aws_wrapper.properties import Properties
from aws_wrapper.rds_utils import RdsUrlType, classify
from aws_wrapper.resolver import PINNED_ADDRESS
from aws_wrapper.telemetry import BLUE_GREEN_PHASE_SPAN

from ..dialects import BlueGreenDialect
from ..monitors import HostConnectionWorker, MonitorRegistry
from ..plugin import BasePlugin
from ..protocols import (
    CONNECT,
    NETWORK_METHODS,
    Call,
    ConnectCall,
    DatabaseDialect,
    DriverConnection,
    PluginService,
)

logger = logging.getLogger("aws_wrapper")

MONITOR_CONNECT_TIMEOUT_S = 10
"""The monitors' connect timeout (as the peer's), unless ``blue-green-monitoring-`` sets one."""
HOLD_POLL_S = 0.1
"""A held connect or call looks at the routing at least this often."""

_warned: set[str] = set()
_warned_lock = threading.Lock()


@at_fork_in_child
def _new_lock_after_fork() -> None:
    """A lock held by another thread at the fork would stay held in the child."""
    global _warned_lock
    _warned_lock = threading.Lock()


def _warn_once(bg_id: str, message: str) -> None:
    """One WARNING per process and deployment."""
    with _warned_lock:
        if bg_id in _warned:
            return
        _warned.add(bg_id)
    logger.warning("%s", message)


class SideMonitor(HostConnectionWorker):
    """Reads the status of one side (blue or green) on a connection of its own."""

    def __init__(
        self, provider: BlueGreenStatusProvider, role: Role, host: HostInfo, props: Properties
    ) -> None:
        super().__init__(
            host, provider.driver, provider.connection_provider, props, autocommit=True
        )
        self.owner = provider
        self.role = role
        self._base_props = props
        self._settled = False
        """Connected to this side's own endpoint (its cluster endpoint, from the rows)."""
        self.endpoints: frozenset[str] = frozenset()
        self.start_ips: dict[str, str | None] = {}
        self.port = host.port
        self.polls = 0

    @property
    def side(self) -> str:
        return "blue" if self.role is Role.BLUE else "green"

    def start(self) -> None:
        self._start(self._run, name=f"aws-wrapper-bg-{self.side}-{self.owner.bg_id}")

    def wake(self) -> None:
        self._wake.set()

    def stop_soon(self) -> None:
        """Stop from another worker (the provider, on a completed switchover)."""
        self._stop.set()
        self._wake.set()

    async def release_resources(self) -> None:
        await self._stop_worker()
        await self._drop_conn()

    def retarget(self, host: HostInfo) -> None:
        """Connect to ``host`` from the next poll on (after a switchover: the name the side
        carries now)."""
        if host.host != self.host.host:
            self.host = host
            self._base_props_changed()
            conn, self._conn = self._conn, None
            if conn is not None:
                self.driver.abort(conn)  # closed by the worker's next _drop_conn/_ensure_conn
                self._abandoned = conn

    _abandoned: DriverConnection | None = None

    def _base_props_changed(self) -> None:
        self._props = self._base_props

    # -- the worker --------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self._stop.is_set():
                connected = await self._poll()
                self.polls += 1
                delay = interval_for(self.owner.routing.phase, connected, self.owner.intervals)
                await await_event(self._wake, delay)
                self._wake.clear()
        finally:
            await self._drop_conn()
            await self._close_abandoned()

    async def _close_abandoned(self) -> None:
        conn, self._abandoned = self._abandoned, None
        if conn is not None:
            await self._close(conn)

    async def _connect(self) -> DriverConnection:
        await self._close_abandoned()
        conn = self._conn
        if conn is None or self.driver.is_closed(conn):
            # during a switchover, reach the side where it was (DNS may already point away)
            ip = self.start_ips.get(self.host.host) if self.owner.routing.phase.active else None
            if ip is not None:
                self._props = self._base_props.copy(wrapper={PINNED_ADDRESS: (self.host.host, ip)})
            else:
                self._props = self._base_props
        return await self._ensure_conn()

    async def _poll(self) -> bool:
        """One reading of the status; False when there is no connection."""
        provider = self.owner
        dialect = provider.bg_dialect
        assert dialect is not None
        driver = self.driver
        try:
            conn = await self._connect()
        except Exception as e:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "blue/green %s monitor: cannot connect to %s: %s",
                    self.side,
                    self.host.url,
                    first_line(e),
                )
            return False
        sql = dialect.blue_green_sql
        assert sql is not None
        try:
            if not await dialect.blue_green_available(conn, driver):
                provider.metadata_missing(self.host, None)
                return True
            rows = await driver.fetch(conn, sql)
        except Exception as e:
            if driver.is_closed(conn) or driver.is_network_error(e):
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "blue/green %s monitor: lost %s: %s",
                        self.side,
                        self.host.url,
                        first_line(e),
                    )
                await self._drop_conn()
                return False
            provider.metadata_missing(self.host, e)
            try:
                if driver.in_transaction(conn):
                    await driver.rollback(conn)
            except Exception:
                await self._drop_conn()
            return True
        mine = [r for r in parse_rows(rows) if r.role is self.role]
        row = side_phase(mine)
        if row is not None and not self._settled:
            self._settled = True
            if row.endpoint != self.host.host:
                # the side's own endpoint (the first connection went where the app did)
                self.retarget(HostInfo(row.endpoint, row.port or self.host.port))
        active = provider.routing.phase.active
        if row is not None and (not active or not self.endpoints):
            # before the switchover: the side's endpoints and where they are now
            names = {r.endpoint for r in mine if not is_old(r.endpoint)}
            for name in list(names):
                if classify(name) is RdsUrlType.RDS_WRITER_CLUSTER:
                    names.add(name.replace(".cluster-", ".cluster-ro-", 1))
            self.endpoints = frozenset(names)
            self.port = row.port or self.port
            self.start_ips = {h: await self._resolve(h) for h in sorted(self.endpoints)}
            current = dict(self.start_ips)
        else:
            current = {h: await self._resolve(h) for h in sorted(self.endpoints)}
        provider.report(
            SideReport(
                self.role,
                row.phase if row is not None else None,
                self.port,
                self.endpoints,
                dict(self.start_ips),
                current,
            )
        )
        return True

    async def _resolve(self, host: str) -> str | None:
        """The address ``host`` resolves to now: the name resolver's, else DNS (in async code
        in the offload pool, never on the event loop)."""
        found = quick_addresses(host, self.port)
        if found is None:
            found = await arun_blocking(dns_addresses, host, self.port)
        return found[0][0] if found else None


class BlueGreenStatusProvider:
    """The status of one deployment for every connection of this process (of this event loop
    in async code)."""

    def __init__(
        self, bg_id: str, host: HostInfo, service: PluginService, props: Properties
    ) -> None:
        self.bg_id = bg_id
        self.driver = service.driver_dialect
        dialect: DatabaseDialect = service.dialect
        self.dialect = dialect
        self.bg_dialect: BlueGreenDialect | None = (
            dialect
            if isinstance(dialect, BlueGreenDialect) and dialect.blue_green_sql is not None
            else None
        )
        self.connection_provider = service.monitor_connection_provider
        self.intervals = {
            "baseline": props.get(BG_INTERVAL_BASELINE_MS) / 1000,
            "increased": props.get(BG_INTERVAL_INCREASED_MS) / 1000,
            "high": props.get(BG_INTERVAL_HIGH_MS) / 1000,
        }
        self.tracker = SwitchoverTracker(
            bg_id,
            props.get(BG_SWITCHOVER_TIMEOUT_MS) / 1000,
            props.get(BG_SUSPEND_NEW_BLUE_CONNECTIONS),
        )
        self.routing: Routing = PASS_THROUGH
        self.hold_calls = False
        """True while calls on connections to the deployment's hosts are held (the one field
        the plugin reads per call)."""
        self.released = False
        self._started = False
        self.metadata_problem: str | None = None
        self._changed = AEvent()
        self._lock = AThreadLock()
        overrides: dict[str, Any] = {self.driver.connect_timeout_param: MONITOR_CONNECT_TIMEOUT_S}
        overrides.update(props.with_prefix(BG_MONITORING_PREFIX))
        monitor_props = props.copy(driver=overrides)
        self.monitors: dict[Role, SideMonitor] = {}
        if self.bg_dialect is None:
            self.metadata_problem = "no blue/green metadata on this kind of server"
            _warn_once(
                bg_id,
                f"blue/green deployment '{bg_id}': {host.host} is a {self.dialect.code} server, "
                "which publishes no blue/green status; the bg plugin passes connections "
                "through (it needs Aurora or RDS)",
            )
        else:
            for role in (Role.BLUE, Role.GREEN):
                self.monitors[role] = SideMonitor(self, role, host, monitor_props)

    def start(self) -> None:
        """Start the monitors (once: a monitor stopped since, e.g. old blue's after the
        switchover, stays stopped)."""
        if self._started:
            return
        self._started = True
        for monitor in self.monitors.values():
            monitor.start()

    @property
    def phase(self) -> Phase:
        return self.routing.phase

    # -- from the monitors -------------------------------------------------------------------

    def metadata_missing(self, host: HostInfo, error: BaseException | None) -> None:
        grant = self.bg_dialect.blue_green_grant if self.bg_dialect is not None else ""
        if error is None:
            self.metadata_problem = "missing"
            message = (
                f"blue/green deployment '{self.bg_id}': the server at {host.host} has no "
                f"blue/green status ({self.dialect.code}: the status function or table is "
                "missing or not visible to the user): upgrade the engine to a version with "
                f"blue/green deployment support, or grant the user {grant}; until then the "
                "bg plugin passes connections through"
            )
        else:
            self.metadata_problem = "denied"
            message = (
                f"blue/green deployment '{self.bg_id}': the user cannot read the blue/green "
                f"status on {host.host} ({first_line(error)}): grant it {grant} (or upgrade "
                "the engine); until then the bg plugin passes connections through"
            )
        _warn_once(self.bg_id, message)

    def report(self, report: SideReport) -> None:
        """A side's reading (from its monitor; tests feed their own)."""
        with self._lock:
            routing = self.tracker.update(report)
            if routing == self.routing:
                return
            previous = self.routing
            self.routing = routing
            self.hold_calls = routing.hold_calls
            changed, self._changed = self._changed, AEvent()
        changed.set()
        if routing.phase is not previous.phase:
            with telemetry.monitor_span(
                BLUE_GREEN_PHASE_SPAN,
                {
                    "aws_wrapper.blue_green.id": self.bg_id,
                    "aws_wrapper.blue_green.phase": routing.phase.name,
                    "aws_wrapper.blue_green.previous_phase": previous.phase.name,
                },
            ):
                pass  # a point in time: the phase changed
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "blue/green deployment '%s': phase %s (was %s)",
                    self.bg_id,
                    routing.phase.name,
                    previous.phase.name,
                )
            for other in self.monitors.values():
                other.wake()  # its pace changes with the phase
        tracker = self.tracker
        if tracker.finished and not tracker.rollback and routing.phase is Phase.COMPLETED:
            blue = self.monitors.get(Role.BLUE)
            if blue is not None and blue.running:
                blue.stop_soon()  # old blue (-old1) has nothing more to say
            green = self.monitors.get(Role.GREEN)
            if green is not None:
                # the green side carries blue's names now; its own are going away
                green.retarget(HostInfo(blue_name_of(green.host.host), green.host.port))

    # -- for the plugins ---------------------------------------------------------------------

    async def wait_change(self, timeout: float) -> None:
        """Until the routing changes, at most ``timeout`` seconds."""
        await await_event(self._changed, timeout)

    async def release_resources(self) -> None:
        self.released = True
        # nothing stays held by a provider that no longer watches
        self.routing = PASS_THROUGH
        self.hold_calls = False
        self._changed.set()
        for monitor in self.monitors.values():
            await monitor.release_resources()
        _providers.forget(self)


_providers: MonitorRegistry[BlueGreenStatusProvider] = MonitorRegistry()


def blue_green_providers() -> list[BlueGreenStatusProvider]:
    """The blue/green status providers of this scope (tests, diagnostics)."""
    return _providers.all()


class _Idle:
    """The provider of a plugin before its connection is made: nothing to hold."""

    hold_calls = False
    routing = PASS_THROUGH


_IDLE: Any = _Idle()


class BlueGreenPlugin(BasePlugin):
    """Holds, re-routes or refuses connects and calls by the deployment's phase; see the
    module documentation."""

    subscribed_methods = frozenset({CONNECT, NETWORK_METHODS})

    def __init__(self, service: PluginService, props: Properties) -> None:
        super().__init__(service, props)
        bg_id = props.get(BG_ID).strip().lower()
        if not bg_id:
            raise PropertyError("property 'bg_id': must not be empty", "bg_id")
        self.bg_id = bg_id
        self.timeout_s = props.get(BG_CONNECT_TIMEOUT_MS) / 1000
        self.provider: Any = _IDLE
        self.last_hold_s = 0.0
        """How long the last held connect or call was held (tests, diagnostics)."""

    # -- connect -----------------------------------------------------------------------------

    async def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        provider = self.provider
        if provider is _IDLE or provider.released:
            provider = self._existing_provider()
            if provider is None:
                return await call()
        started: float | None = None
        while True:
            routing = provider.routing
            action, address = routing.connect_action(host.host)
            if not is_initial and routing.is_old_blue(host.host):
                # failover (or read/write splitting) heading for old blue: its topology was
                # read there through a blue name DNS still gives old blue's address
                raise ConnectError(
                    f"blue/green deployment '{self.bg_id}': {host.host} is old blue after "
                    "the switchover (read-only, going away): not connecting there",
                    host.url,
                )
            if action is Action.REJECT:
                raise GreenEndpointRejectedError(
                    f"blue/green deployment '{self.bg_id}': {host.host} is a green endpoint of "
                    "a completed switchover and is going away; connect by the blue "
                    "(original) name, which now reaches the new hosts",
                    host.host,
                )
            if action is Action.HOLD:
                started = self._hold_connect(host, started)
                await provider.wait_change(
                    min(started + self.timeout_s - time.monotonic(), HOLD_POLL_S)
                )
                continue
            try:
                if action is Action.SUBSTITUTE:
                    assert address is not None
                    if logger.isEnabledFor(logging.DEBUG):
                        logger.debug(
                            "blue/green deployment '%s' (%s): connecting to %s at %s",
                            self.bg_id,
                            routing.phase.name,
                            host.host,
                            address,
                        )
                    conn = await self._connect_at(routing, host, props, address)
                else:
                    conn = await call()
            except Exception as e:
                if not self._blue_refused(routing, host, e):
                    raise
                # blue stops taking connections when the switchover begins: the connect
                # waits for the next phase (then goes where that phase says) instead of
                # failing
                started = self._hold_connect(host, started, e)
                await self._wait_routing_change(provider, routing, started)
                continue
            self._held_since(started)
            return conn

    def _hold_connect(
        self, host: HostInfo, started: float | None, error: Exception | None = None
    ) -> float:
        """A connect held (again): when it started; BlueGreenTimeoutError once held for
        ``bg_connect_timeout_ms``."""
        now = time.monotonic()
        if started is None:
            started = now
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "blue/green deployment '%s': switchover in progress: connect to %s held%s",
                    self.bg_id,
                    host.host,
                    f" (blue refused it: {first_line(error)})" if error is not None else "",
                )
        if started + self.timeout_s - now <= 0:
            raise BlueGreenTimeoutError(
                f"blue/green deployment '{self.bg_id}': the switchover was still in "
                f"progress after {self.timeout_s * 1000:.0f} ms (bg_connect_timeout_ms): "
                f"connect to {host.host} not made; try again later"
            ) from error
        return started

    def _blue_refused(self, routing: Routing, host: HostInfo, error: Exception) -> bool:
        """A connect to a blue host failed for want of a server while the switchover is
        under way (PREPARATION, IN_PROGRESS): blue has stopped taking connections."""
        if routing.phase not in (Phase.PREPARATION, Phase.IN_PROGRESS):
            return False
        if routing.role_of(host.host) is not Role.BLUE:
            return False
        if isinstance(error, LoginError) or self.service.is_login_error(error):
            return False
        return isinstance(error, ConnectError) or self.service.is_network_error(error)

    async def _wait_routing_change(
        self, provider: BlueGreenStatusProvider, routing: Routing, started: float
    ) -> None:
        """Until the provider's routing is no longer ``routing`` (at most until the hold's
        deadline)."""
        while provider.routing is routing and not provider.released:
            remaining = started + self.timeout_s - time.monotonic()
            if remaining <= 0:
                return  # the caller's next _hold_connect raises
            await provider.wait_change(min(remaining, HOLD_POLL_S))

    async def _connect_at(
        self, routing: Routing, host: HostInfo, props: Properties, address: str
    ) -> DriverConnection:
        """A connection to ``host`` made at ``address`` (the name kept for TLS and IAM), through
        the rest of the pipeline. After the switchover a green host may not take an IAM token
        for the blue name yet: a refused login is tried once more with a token for its green
        name (unless ``iam_host`` is set)."""
        pinned = props.copy(wrapper={PINNED_ADDRESS: (host.host, address)})
        try:
            return await self.service.connect(host, pinned, skip=self)
        except Exception as e:
            green = routing.green_names.get(host.host.lower())
            login_refused = isinstance(e, LoginError) or self.service.is_login_error(e)
            if green is None or not login_refused or props.is_set(IAM_HOST):
                raise
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "blue/green deployment '%s': login to %s refused; again with a token for %s",
                    self.bg_id,
                    host.host,
                    green,
                )
            again = pinned.copy(wrapper={IAM_HOST.name: green})
            return await self.service.connect(host, again, skip=self)

    def _held_since(self, started: float | None) -> None:
        if started is not None:
            self.last_hold_s = time.monotonic() - started
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "blue/green deployment '%s': held %.0f ms, going on",
                    self.bg_id,
                    self.last_hold_s * 1000,
                )

    def _existing_provider(self) -> BlueGreenStatusProvider | None:
        for provider in _providers.all():
            if provider.bg_id == self.bg_id and not provider.released:
                return provider
        return None

    def notify_connection_changed(self, old: DriverConnection | None, new: HostInfo) -> None:
        provider = self.provider
        if provider is not _IDLE and not provider.released:
            return
        service = self.service
        provider = _providers.get(
            self.bg_id,
            partial(BlueGreenStatusProvider, self.bg_id, new, service, self.props),
            stale=lambda p: p.released,
        )
        provider.start()
        self.provider = provider

    # -- calls -------------------------------------------------------------------------------

    async def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        if self.provider.hold_calls:
            await self._hold_call(method)
        return await call()

    async def _hold_call(self, method: str) -> None:
        provider = self.provider
        host = self.service.current_host
        name = host.host if host is not None else None
        if not provider.routing.holds_calls_on(name):
            return
        started = time.monotonic()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "blue/green deployment '%s': switchover in progress: %s on %s held",
                self.bg_id,
                method,
                name,
            )
        while provider.routing.holds_calls_on(name):
            remaining = started + self.timeout_s - time.monotonic()
            if remaining <= 0:
                raise BlueGreenTimeoutError(
                    f"blue/green deployment '{self.bg_id}': the switchover was still in "
                    f"progress after {self.timeout_s * 1000:.0f} ms (bg_connect_timeout_ms): "
                    f"{method} on {name} not run; try again later"
                )
            await provider.wait_change(min(remaining, HOLD_POLL_S))
        self._held_since(started)
