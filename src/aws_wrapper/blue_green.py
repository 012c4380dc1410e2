"""Blue/green deployments: the phases of a switchover and what the ``bg`` plugin does with
connects and calls in each, as pure logic shared by both worlds (the monitors that feed it and
the plugin that applies it: :mod:`aws_wrapper._async.plugins.blue_green`).

The database publishes one status row per endpoint of both sides (``version, endpoint, port,
role, status``; see ``shared/aurora-metadata.md``). Each side's monitor reads the rows of its
role on a connection of its own and reports a :class:`SideReport`: the side's phase, its
endpoints, and the addresses they resolved to before the switchover (``start_ips``) and now
(``current_ips``). A :class:`SwitchoverTracker` folds the two sides' reports into the
deployment's phase and a :class:`Routing`: what a new connect to a host name gets (pass, hold,
a recorded address, a rejection) and whether calls on connections to the deployment's hosts
are held.

=============  ==============================  ==============================================
phase          status (rows)                   what the application sees
=============  ==============================  ==============================================
NOT_CREATED    (no rows)                       nothing: pass-through
CREATED        AVAILABLE                       nothing: pass-through (addresses recorded)
PREPARATION    SWITCHOVER_INITIATED            blue names connect to blue's recorded address
IN_PROGRESS    SWITCHOVER_IN_PROGRESS          new connects to green names held; blue names:
                                               held with bg_suspend_new_blue_connections, else
                                               to blue's recorded address (held when blue
                                               refuses them, in PREPARATION too); calls on
                                               blue and green connections held
                                               (bg_connect_timeout_ms)
POST           SWITCHOVER_IN_POST_PROCESSING   blue names connect to the new (green) hosts'
                                               recorded addresses until DNS has caught up;
                                               green names rejected
COMPLETED      SWITCHOVER_COMPLETED            as POST until DNS has caught up; then
                                               pass-through, green names still rejected
=============  ==============================  ==============================================

A side whose status goes back (IN_PROGRESS -> AVAILABLE) is a rollback: the phase follows it
down, and once back at CREATED the plugin passes everything through again. A switchover not
over ``bg_switchover_timeout_ms`` after PREPARATION is taken as completed (or rolled back).
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .rds_utils import RdsUrlType, classify

logger = logging.getLogger("aws_wrapper")


class Phase(enum.IntEnum):
    NOT_CREATED = 0
    CREATED = 1
    PREPARATION = 2
    IN_PROGRESS = 3
    POST = 4
    COMPLETED = 5

    @property
    def active(self) -> bool:
        """A switchover is under way or over (PREPARATION and later)."""
        return self >= Phase.PREPARATION


PHASE_OF_STATUS: Mapping[str, Phase] = {
    "AVAILABLE": Phase.CREATED,
    "SWITCHOVER_INITIATED": Phase.PREPARATION,
    "SWITCHOVER_IN_PROGRESS": Phase.IN_PROGRESS,
    "SWITCHOVER_IN_POST_PROCESSING": Phase.POST,
    "SWITCHOVER_COMPLETED": Phase.COMPLETED,
}


class Role(enum.Enum):
    BLUE = "BLUE_GREEN_DEPLOYMENT_SOURCE"
    GREEN = "BLUE_GREEN_DEPLOYMENT_TARGET"


KNOWN_VERSIONS = frozenset({"1.0"})


@dataclass(frozen=True, slots=True)
class StatusRow:
    endpoint: str
    """Lower case."""
    port: int
    role: Role
    phase: Phase


def parse_rows(rows: Iterable[Sequence[Any]]) -> list[StatusRow]:
    """The rows ``version, endpoint, port, role, status`` a server answered; rows of an
    unknown role or status are left out (logged at DEBUG), an unknown version is read as
    1.0 (the only one so far)."""
    found: list[StatusRow] = []
    for row in rows:
        try:
            version, endpoint, port, role, status = row[:5]
            if str(version) not in KNOWN_VERSIONS and logger.isEnabledFor(logging.DEBUG):
                logger.debug("blue/green status version %r read as 1.0", version)
            found.append(
                StatusRow(
                    str(endpoint).strip().lower().rstrip("."),
                    int(port) if port is not None else 0,
                    Role(str(role).upper()),
                    PHASE_OF_STATUS[str(status).upper()],
                )
            )
        except (ValueError, KeyError, TypeError):
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("blue/green status row %r not understood: left out", row)
    return found


def _first_label(host: str) -> str:
    return host.split(".", 1)[0]


_OLD = "-old1"


def is_old(host: str) -> bool:
    """An endpoint of the old blue side after a switchover (``-old1`` on the first label)."""
    return _first_label(host).endswith(_OLD)


def unold(host: str) -> str:
    """The name an old blue endpoint had before the switchover (``app-old1.cluster-...`` ->
    ``app.cluster-...``); other names unchanged."""
    first, dot, rest = host.lower().partition(".")
    if first.endswith(_OLD):
        first = first[: -len(_OLD)]
    return f"{first}{dot}{rest}"


_GREEN_SUFFIX = re.compile(r"-green-[a-z0-9]{6}$")


def is_green_name(host: str) -> bool:
    """A name with ``-green-xxxxxx`` on its first label (a green endpoint before it takes
    blue's name)."""
    return _GREEN_SUFFIX.search(_first_label(host.lower())) is not None


def blue_name_of(host: str) -> str:
    """The blue name a green name stands for (``app-green-abc123.cluster-...`` ->
    ``app.cluster-...``); other names unchanged."""
    first, _, rest = host.lower().partition(".")
    first = _GREEN_SUFFIX.sub("", first)
    return f"{first}.{rest}" if rest else first


def side_phase(rows: Sequence[StatusRow]) -> StatusRow | None:
    """The row that tells a side's phase: its writer cluster endpoint, else an instance
    endpoint, else any (old ``-old1`` endpoints never)."""
    rows = [r for r in rows if not is_old(r.endpoint)]
    for wanted in (RdsUrlType.RDS_WRITER_CLUSTER, RdsUrlType.RDS_INSTANCE):
        for row in rows:
            if classify(row.endpoint) is wanted:
                return row
    return rows[0] if rows else None


@dataclass(frozen=True)
class SideReport:
    """One poll of one side's monitor."""

    role: Role
    phase: Phase | None
    """None: no row of this side (no deployment, or the old side's table emptied after the
    switchover): nothing new."""
    port: int = 0
    endpoints: frozenset[str] = frozenset()
    """The side's endpoints (cluster, reader, instances), as recorded before the switchover."""
    start_ips: Mapping[str, str | None] = field(default_factory=dict)
    """Endpoint -> its address before the switchover (None: did not resolve)."""
    current_ips: Mapping[str, str | None] = field(default_factory=dict)
    """Endpoint -> its address now (None: does not resolve)."""


class Action(enum.Enum):
    PASS = "pass"
    HOLD = "hold"
    REJECT = "reject"
    SUBSTITUTE = "substitute"


@dataclass(frozen=True)
class Routing:
    """What the plugin does, published by the tracker (immutable; replaced on change)."""

    phase: Phase = Phase.NOT_CREATED
    roles: Mapping[str, Role] = field(default_factory=dict)
    """Host name (lower case) or recorded address -> the side it belongs to."""
    hold_connect: frozenset[Role] = frozenset()
    """New connects to names (and recorded addresses) of these sides are held."""
    hold_calls: bool = False
    """Calls on connections to the deployment's hosts are held."""
    substitute: Mapping[str, str] = field(default_factory=dict)
    """Host name -> the address a new connect to it goes to (the name is kept)."""
    rejected: frozenset[str] = frozenset()
    """Green names a new connect is refused for."""
    green_names: Mapping[str, str] = field(default_factory=dict)
    """Blue name -> the green name of the host taking it (POST, COMPLETED): the name an IAM
    token is signed for when the host does not take one for the blue name yet."""

    def role_of(self, host: str) -> Role | None:
        return self.roles.get(host.lower())

    def connect_action(self, host: str) -> tuple[Action, str | None]:
        """What a new connect to ``host`` gets: ``(SUBSTITUTE, address)`` or ``(action,
        None)``."""
        name = host.lower()
        if name in self.rejected:
            return Action.REJECT, None
        role = self.roles.get(name)
        if role is not None and role in self.hold_connect:
            return Action.HOLD, None
        address = self.substitute.get(name)
        if address is not None:
            return Action.SUBSTITUTE, address
        return Action.PASS, None

    def holds_calls_on(self, host: str | None) -> bool:
        return self.hold_calls and host is not None and host.lower() in self.roles

    def is_old_blue(self, host: str) -> bool:
        """``host`` is an endpoint of old blue after this switchover's renames
        (``<blue name>-old1``, POST and later, not rolled back): read-only, going away."""
        name = host.lower()
        return (
            self.phase >= Phase.POST and is_old(name) and self.roles.get(unold(name)) is Role.BLUE
        )


PASS_THROUGH = Routing()


@dataclass
class _PhaseTime:
    wall: datetime
    monotonic: float
    phase: Phase | None


class SwitchoverTracker:
    """The deployment's phase and routing from its two sides' reports (one tracker per
    deployment per process; not thread-safe: its caller serializes the reports)."""

    def __init__(
        self,
        bg_id: str,
        switchover_timeout_s: float,
        suspend_blue: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bg_id = bg_id
        self.switchover_timeout_s = switchover_timeout_s
        self.suspend_blue = suspend_blue
        self.clock = clock
        self.routing = PASS_THROUGH
        self.retired_green: frozenset[str] = frozenset()
        """Green names of a completed switchover: refused from then on."""
        self.summaries: list[str] = []
        """The switchover summaries logged so far (the last one last)."""
        self._reset()

    def _reset(self) -> None:
        self.phase = Phase.NOT_CREATED
        self.rollback = False
        self.blue_dns_updated = False
        self.green_dns_removed = False
        self.timed_out = False
        self.finished = False
        self._reports: dict[Role, SideReport] = {}
        self._ips: dict[str, str] = {}
        self._deadline: float | None = None
        self._times: dict[str, _PhaseTime] = {}

    # -- input -------------------------------------------------------------------------------

    def update(self, report: SideReport) -> Routing:
        """Fold one side's report in; the routing now."""
        if self.finished and report.phase is not None and report.phase < Phase.COMPLETED:
            # a new deployment after a finished switchover (or rollback): start afresh
            self._reset()
        previous = self._reports.get(report.role)
        if (
            previous is not None
            and previous.phase is not None
            and report.phase is not None
            and report.phase < previous.phase
            and not self.finished
        ) and not self.rollback:
            self.rollback = True
            self._event("Rollback", None)
            logger.info(
                "blue/green deployment '%s': the switchover is rolling back (%s side: %s after %s)",
                self.bg_id,
                "blue" if report.role is Role.BLUE else "green",
                report.phase.name,
                previous.phase.name,
            )
        if report.phase is not None and not self.finished:
            if self.rollback:
                if report.phase < self.phase:
                    self.phase = report.phase
            elif report.phase > self.phase:
                self.phase = report.phase
        self._reports[report.role] = report
        for host, ip in report.start_ips.items():
            if ip is not None:
                self._ips[host] = ip
        self._update_dns_flags(report)
        return self.evaluate()

    def _update_dns_flags(self, report: SideReport) -> None:
        if not self.phase.active:
            return
        recorded = [(h, ip) for h, ip in report.start_ips.items() if ip is not None]
        if not recorded:
            return
        now = report.current_ips
        before = {ip for _, ip in recorded}
        # every blue name resolves, and to none of blue's addresses of before (a reader
        # endpoint rotates among the readers): to the new hosts
        if (
            report.role is Role.BLUE
            and not self.blue_dns_updated
            and all(now.get(h) is not None and now.get(h) not in before for h, _ in recorded)
        ):
            self.blue_dns_updated = True
            self._event("Blue DNS updated", None)
        # no green name resolves any more
        if (
            report.role is Role.GREEN
            and not self.green_dns_removed
            and all(now.get(h) is None for h, _ in recorded)
        ):
            self.green_dns_removed = True
            self._event("Green DNS removed", None)

    # -- output ------------------------------------------------------------------------------

    def evaluate(self) -> Routing:
        """The routing now (the switchover timeout counts, with or without a new report)."""
        phase = self.phase
        if phase.active and not self.finished:
            now = self.clock()
            if self._deadline is None:
                self._deadline = now + self.switchover_timeout_s
            elif now > self._deadline and phase < Phase.COMPLETED:
                if not self.timed_out:
                    self.timed_out = True
                    self._event("Switchover timeout", None)
                    logger.info(
                        "blue/green deployment '%s': the switchover did not end within "
                        "bg_switchover_timeout_ms (%.0f ms): taken as %s",
                        self.bg_id,
                        self.switchover_timeout_s * 1000,
                        "rolled back" if self.rollback else "completed",
                    )
                phase = Phase.CREATED if self.rollback else Phase.COMPLETED
        routing = self._routing(phase)
        self._event(phase.name, phase)
        self._finish_if_over(routing.phase)
        self.routing = routing
        return routing

    def _roles(self) -> dict[str, Role]:
        roles: dict[str, Role] = {}
        for report in self._reports.values():
            for host in report.endpoints:
                roles[host] = report.role
                ip = self._ips.get(host)
                if ip is not None:
                    roles.setdefault(ip, report.role)
        return roles

    def _endpoints(self, role: Role) -> frozenset[str]:
        report = self._reports.get(role)
        return report.endpoints if report is not None else frozenset()

    def _blue_addresses(self) -> dict[str, str]:
        """Blue name -> blue's recorded address."""
        return {h: self._ips[h] for h in self._endpoints(Role.BLUE) if h in self._ips}

    def _green_names_for_blue(self) -> dict[str, str]:
        """Blue name -> the green name of the host that takes it."""
        blue = self._endpoints(Role.BLUE)
        return {
            blue_name_of(g): g
            for g in self._endpoints(Role.GREEN)
            if blue_name_of(g) in blue and blue_name_of(g) != g
        }

    def _green_addresses_for_blue(self) -> dict[str, str]:
        """Blue name -> the recorded address of the green host that takes the name."""
        found: dict[str, str] = {}
        blue = self._endpoints(Role.BLUE)
        for green in self._endpoints(Role.GREEN):
            ip = self._ips.get(green)
            name = blue_name_of(green)
            if ip is not None and name in blue and name != green:
                found[name] = ip
        return found

    def _routing(self, phase: Phase) -> Routing:
        retired = self.retired_green
        if phase <= Phase.CREATED:
            # a finished rollback gives the green names back
            return Routing(phase, self._roles(), rejected=retired)
        roles = self._roles()
        if phase is Phase.PREPARATION:
            return Routing(phase, roles, substitute=self._blue_addresses(), rejected=retired)
        if phase is Phase.IN_PROGRESS:
            held = {Role.GREEN, Role.BLUE} if self.suspend_blue else {Role.GREEN}
            substitute = {} if self.suspend_blue else self._blue_addresses()
            return Routing(phase, roles, frozenset(held), True, substitute, retired)
        # POST and COMPLETED: blue names to the new hosts until DNS says so; green names
        # refused (they are going away)
        green = frozenset(h for h in self._endpoints(Role.GREEN) if is_green_name(h))
        rejected = retired | green
        settled = self.blue_dns_updated or self.timed_out
        substitute = {} if settled else self._green_addresses_for_blue()
        return Routing(
            phase,
            roles,
            substitute=substitute,
            rejected=rejected,
            green_names=self._green_names_for_blue(),
        )

    # -- the end of a switchover -------------------------------------------------------------

    def _finish_if_over(self, phase: Phase) -> None:
        if self.finished:
            return
        completed = not self.rollback and phase is Phase.COMPLETED
        if completed and not (self.timed_out or (self.blue_dns_updated and self.green_dns_removed)):
            completed = False  # DNS still moving: routing goes on as in POST
        rolled_back = self.rollback and phase <= Phase.CREATED
        if not (completed or rolled_back):
            return
        if not any(t.phase is not None and t.phase.active for t in self._times.values()):
            return  # nothing happened (a deployment seen first when already completed)
        self.finished = True
        if completed:
            self.retired_green = self.retired_green | frozenset(
                h for h in self._endpoints(Role.GREEN) if is_green_name(h)
            )
        summary = self.summary()
        self.summaries.append(summary)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s", summary)

    def _event(self, name: str, phase: Phase | None) -> None:
        key = f"{name} (rollback)" if self.rollback and phase is not None else name
        if key not in self._times:
            self._times[key] = _PhaseTime(datetime.now(), self.clock(), phase)

    def phase_times(self) -> list[tuple[str, float]]:
        """``(event, seconds since the first)`` of this switchover, in order."""
        entries = sorted(self._times.items(), key=lambda kv: kv[1].monotonic)
        if not entries:
            return []
        zero = entries[0][1].monotonic
        return [(k, v.monotonic - zero) for k, v in entries]

    def summary(self) -> str:
        """The switchover's events with their times, as the peer logs them at the end."""
        entries = sorted(self._times.items(), key=lambda kv: kv[1].monotonic)
        zero_key = "PREPARATION (rollback)" if self.rollback else "IN_PROGRESS"
        zero = self._times.get(zero_key) or self._times.get("PREPARATION")
        divider = "-" * 82
        lines = [
            f"[bg_id: '{self.bg_id}'] blue/green switchover summary"
            + (" (rolled back)" if self.rollback else ""),
            divider,
            f"{'timestamp':<28s} {'time offset (ms)':>21s} {'event':>31s}",
            divider,
        ]
        for name, t in entries:
            offset = "" if zero is None else str(int((t.monotonic - zero.monotonic) * 1000))
            lines.append(f"{t.wall.isoformat(' '):>28s} {offset:>18s} ms {name:>31s}")
        lines.append(divider)
        return "\n".join(lines)


def interval_for(phase: Phase, connected: bool, intervals: Mapping[str, float]) -> float:
    """Seconds until a monitor reads the status again: ``intervals`` has ``baseline``,
    ``increased`` and ``high``; a monitor without a connection retries at the high pace."""
    if not connected or Phase.PREPARATION <= phase <= Phase.POST:
        return intervals["high"]
    if phase is Phase.CREATED:
        return intervals["increased"]
    return intervals["baseline"]
