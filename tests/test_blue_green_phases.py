"""The blue/green phase logic (aws_wrapper.blue_green), pure: the two sides' reports of a
switchover fed to a SwitchoverTracker with a test clock, and what a connect to each name and
a call on each host get in every phase. The same tracker runs behind the plugin on real
connections in tests/_async/test_blue_green.py."""

from __future__ import annotations

import logging

import pytest

from aws_wrapper.blue_green import (
    Action,
    Phase,
    Role,
    SideReport,
    SwitchoverTracker,
    blue_name_of,
    interval_for,
    is_green_name,
    is_old,
    parse_rows,
    side_phase,
    unold,
)

DOMAIN = "abc123.us-east-1.rds.amazonaws.com"
SUFFIX = "-green-x1y2z3"
BLUE = {
    f"app.cluster-{DOMAIN}": "10.0.0.1",
    f"app.cluster-ro-{DOMAIN}": "10.0.0.2",
    f"db-1.{DOMAIN}": "10.0.0.1",
    f"db-2.{DOMAIN}": "10.0.0.2",
}
GREEN = {
    f"app{SUFFIX}.cluster-{DOMAIN}": "10.0.1.1",
    f"app{SUFFIX}.cluster-ro-{DOMAIN}": "10.0.1.2",
    f"db-1{SUFFIX}.{DOMAIN}": "10.0.1.1",
    f"db-2{SUFFIX}.{DOMAIN}": "10.0.1.2",
}
BLUE_CLUSTER = f"app.cluster-{DOMAIN}"
GREEN_CLUSTER = f"app{SUFFIX}.cluster-{DOMAIN}"
BLUE_INSTANCE = f"db-2.{DOMAIN}"
GREEN_INSTANCE = f"db-2{SUFFIX}.{DOMAIN}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def report(role: Role, phase: Phase | None, now: dict[str, str | None] | None = None) -> SideReport:
    start = BLUE if role is Role.BLUE else GREEN
    current: dict[str, str | None] = dict(start)
    current.update(now or {})
    return SideReport(role, phase, 5432, frozenset(start), dict(start), current)


def tracker(clock: Clock | None = None, *, suspend_blue: bool = False) -> SwitchoverTracker:
    return SwitchoverTracker("1", 180.0, suspend_blue, clock or Clock())


def phase_of(t: SwitchoverTracker) -> Phase:
    return t.routing.phase


def both(t: SwitchoverTracker, phase: Phase, **kw: dict[str, str | None]) -> None:
    t.update(report(Role.BLUE, phase, kw.get("blue")))
    t.update(report(Role.GREEN, phase, kw.get("green")))


BLUE_MOVED: dict[str, str | None] = {h: "10.0.1.9" for h in BLUE}  # DNS: blue names elsewhere
GREEN_GONE: dict[str, str | None] = dict.fromkeys(GREEN)  # DNS: green names gone


def actions(t: SwitchoverTracker) -> dict[str, tuple[Action, str | None]]:
    r = t.routing
    return {
        h: r.connect_action(h)
        for h in (BLUE_CLUSTER, GREEN_CLUSTER, BLUE_INSTANCE, GREEN_INSTANCE, "other.example.com")
    }


# -- rows and names -------------------------------------------------------------------------


def test_rows_are_parsed_and_bad_ones_left_out() -> None:
    rows = parse_rows(
        [
            ("1.0", BLUE_CLUSTER.upper() + ".", 5432, "BLUE_GREEN_DEPLOYMENT_SOURCE", "available"),
            (
                "1.0",
                GREEN_CLUSTER,
                "5432",
                "BLUE_GREEN_DEPLOYMENT_TARGET",
                "SWITCHOVER_IN_PROGRESS",
            ),
            ("2.0", BLUE_INSTANCE, 5432, "BLUE_GREEN_DEPLOYMENT_SOURCE", "SWITCHOVER_COMPLETED"),
            ("1.0", BLUE_INSTANCE, 5432, "SOMETHING_ELSE", "AVAILABLE"),
            ("1.0", BLUE_INSTANCE, 5432, "BLUE_GREEN_DEPLOYMENT_SOURCE", "BROKEN"),
            ("1.0",),
        ]
    )
    assert [(r.endpoint, r.port, r.role, r.phase) for r in rows] == [
        (BLUE_CLUSTER, 5432, Role.BLUE, Phase.CREATED),
        (GREEN_CLUSTER, 5432, Role.GREEN, Phase.IN_PROGRESS),
        (BLUE_INSTANCE, 5432, Role.BLUE, Phase.COMPLETED),  # unknown version read as 1.0
    ]


def test_green_and_old_names() -> None:
    assert is_green_name(GREEN_CLUSTER) and is_green_name(GREEN_INSTANCE)
    assert not is_green_name(BLUE_CLUSTER) and not is_green_name(f"app-green.cluster-{DOMAIN}")
    assert blue_name_of(GREEN_CLUSTER) == BLUE_CLUSTER
    assert blue_name_of(GREEN_INSTANCE) == BLUE_INSTANCE
    assert blue_name_of(BLUE_CLUSTER) == BLUE_CLUSTER
    assert is_old(f"db-1-old1.{DOMAIN}") and not is_old(BLUE_INSTANCE)
    assert unold(f"db-1-old1.{DOMAIN}") == f"db-1.{DOMAIN}"
    assert unold(f"APP-old1.cluster-{DOMAIN}") == BLUE_CLUSTER
    assert unold(BLUE_INSTANCE) == BLUE_INSTANCE


OLD_CLUSTER = f"app-old1.cluster-{DOMAIN}"
OLD_INSTANCE = f"db-2-old1.{DOMAIN}"


def test_old_blue_names_are_known_as_such_from_post_on_only() -> None:
    """After the renames old blue carries ``-old1`` names (failover's topology, read there
    through a stale blue name, leads to them): known as old blue from POST on, not before,
    not after a rollback, and only for this deployment's blue names."""
    t = tracker()
    both(t, Phase.CREATED)
    both(t, Phase.PREPARATION)
    both(t, Phase.IN_PROGRESS)
    assert not t.routing.is_old_blue(OLD_CLUSTER)
    both(t, Phase.POST)
    r = t.routing
    assert r.is_old_blue(OLD_CLUSTER) and r.is_old_blue(OLD_INSTANCE.upper())
    assert not r.is_old_blue(BLUE_CLUSTER) and not r.is_old_blue(GREEN_INSTANCE)
    assert not r.is_old_blue(f"other-old1.{DOMAIN}")  # not one of this deployment's names
    assert r.connect_action(OLD_CLUSTER) == (Action.PASS, None)  # the plugin decides by kind
    both(t, Phase.COMPLETED, blue=BLUE_MOVED, green=GREEN_GONE)
    assert t.finished and t.routing.is_old_blue(OLD_INSTANCE)
    rolled = tracker()
    both(rolled, Phase.CREATED)
    both(rolled, Phase.IN_PROGRESS)
    both(rolled, Phase.CREATED)
    assert not rolled.routing.is_old_blue(OLD_CLUSTER)


def test_the_side_phase_comes_from_its_cluster_endpoint_never_an_old_one() -> None:
    rows = parse_rows(
        [
            ("1.0", f"db-1.{DOMAIN}", 1, "BLUE_GREEN_DEPLOYMENT_SOURCE", "SWITCHOVER_IN_PROGRESS"),
            ("1.0", f"app-old1.cluster-{DOMAIN}", 1, "BLUE_GREEN_DEPLOYMENT_SOURCE", "AVAILABLE"),
            ("1.0", BLUE_CLUSTER, 1, "BLUE_GREEN_DEPLOYMENT_SOURCE", "SWITCHOVER_INITIATED"),
        ]
    )
    found = side_phase(rows)
    assert found is not None and found.endpoint == BLUE_CLUSTER
    assert found.phase is Phase.PREPARATION
    found = side_phase(rows[:2])
    assert found is not None and found.phase is Phase.IN_PROGRESS  # the instance's
    assert side_phase(rows[1:2]) is None
    assert side_phase([]) is None


def test_the_polling_pace_follows_the_phase() -> None:
    pace = {"baseline": 60.0, "increased": 1.0, "high": 0.1}
    assert interval_for(Phase.NOT_CREATED, True, pace) == 60.0
    assert interval_for(Phase.CREATED, True, pace) == 1.0
    for phase in (Phase.PREPARATION, Phase.IN_PROGRESS, Phase.POST):
        assert interval_for(phase, True, pace) == 0.1
    assert interval_for(Phase.COMPLETED, True, pace) == 60.0
    assert interval_for(Phase.CREATED, False, pace) == 0.1  # no connection: retry soon


# -- phases ---------------------------------------------------------------------------------


def test_no_deployment_and_created_pass_everything_through() -> None:
    t = tracker()
    t.update(report(Role.BLUE, None))
    assert phase_of(t) is Phase.NOT_CREATED
    both(t, Phase.CREATED)
    assert phase_of(t) is Phase.CREATED
    assert set(actions(t).values()) == {(Action.PASS, None)}
    assert not t.routing.holds_calls_on(BLUE_CLUSTER)
    assert t.routing.role_of(BLUE_CLUSTER.upper()) is Role.BLUE
    assert t.routing.role_of(GREEN_INSTANCE) is Role.GREEN


def test_preparation_sends_blue_names_to_blue_addresses() -> None:
    t = tracker()
    both(t, Phase.CREATED)
    both(t, Phase.PREPARATION, blue=BLUE_MOVED)
    a = actions(t)
    assert a[BLUE_CLUSTER] == (Action.SUBSTITUTE, "10.0.0.1")
    assert a[BLUE_INSTANCE] == (Action.SUBSTITUTE, "10.0.0.2")
    assert a[GREEN_CLUSTER] == (Action.PASS, None)
    assert a["other.example.com"] == (Action.PASS, None)
    assert not t.routing.hold_calls


@pytest.mark.parametrize("suspend_blue", [False, True])
def test_in_progress_holds_green_connects_and_every_call(suspend_blue: bool) -> None:
    t = tracker(suspend_blue=suspend_blue)
    both(t, Phase.CREATED)
    both(t, Phase.IN_PROGRESS)
    a = actions(t)
    assert a[GREEN_CLUSTER] == (Action.HOLD, None)
    assert a[GREEN_INSTANCE] == (Action.HOLD, None)
    assert t.routing.connect_action("10.0.1.2") == (Action.HOLD, None)  # a green address
    if suspend_blue:
        assert a[BLUE_CLUSTER] == (Action.HOLD, None)
    else:
        assert a[BLUE_CLUSTER] == (Action.SUBSTITUTE, "10.0.0.1")
    assert a["other.example.com"] == (Action.PASS, None)
    r = t.routing
    assert r.hold_calls
    assert r.holds_calls_on(BLUE_INSTANCE) and r.holds_calls_on(GREEN_CLUSTER)
    assert not r.holds_calls_on("other.example.com") and not r.holds_calls_on(None)


def test_post_sends_blue_names_to_the_new_hosts_until_dns_catches_up() -> None:
    t = tracker()
    both(t, Phase.CREATED)
    both(t, Phase.IN_PROGRESS)
    both(t, Phase.POST)
    a = actions(t)
    assert a[BLUE_CLUSTER] == (Action.SUBSTITUTE, "10.0.1.1")  # green writer's address
    assert a[BLUE_INSTANCE] == (Action.SUBSTITUTE, "10.0.1.2")
    assert a[GREEN_CLUSTER] == (Action.REJECT, None)
    assert a[GREEN_INSTANCE] == (Action.REJECT, None)
    assert not t.routing.hold_calls
    # some blue names resolve elsewhere, not all: still substituting
    t.update(report(Role.BLUE, Phase.POST, {BLUE_CLUSTER: "10.0.1.1"}))
    assert actions(t)[BLUE_CLUSTER] == (Action.SUBSTITUTE, "10.0.1.1")
    # a reader endpoint resolving to another blue reader is not "moved"
    t.update(report(Role.BLUE, Phase.POST, {**BLUE_MOVED, f"app.cluster-ro-{DOMAIN}": "10.0.0.1"}))
    assert not t.blue_dns_updated
    t.update(report(Role.BLUE, Phase.POST, BLUE_MOVED))
    assert t.blue_dns_updated
    a = actions(t)
    assert a[BLUE_CLUSTER] == (Action.PASS, None)
    assert a[GREEN_CLUSTER] == (Action.REJECT, None)


def test_completed_with_dns_settled_finishes_logs_the_summary_and_retires_green(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aws_wrapper")
    clock = Clock()
    t = tracker(clock)
    both(t, Phase.CREATED)
    for phase in (Phase.PREPARATION, Phase.IN_PROGRESS, Phase.POST):
        clock.now += 1.5
        both(t, phase)
    clock.now += 1.5
    both(t, Phase.COMPLETED)
    assert phase_of(t) is Phase.COMPLETED and not t.finished  # DNS not there yet
    assert actions(t)[BLUE_CLUSTER] == (Action.SUBSTITUTE, "10.0.1.1")
    clock.now += 2
    t.update(report(Role.BLUE, Phase.COMPLETED, BLUE_MOVED))
    t.update(report(Role.GREEN, Phase.COMPLETED, GREEN_GONE))
    assert t.finished and not t.rollback
    a = actions(t)
    assert a[BLUE_CLUSTER] == (Action.PASS, None)
    assert a[GREEN_CLUSTER] == (Action.REJECT, None)
    summary = t.summaries[-1]
    for event in (
        "PREPARATION",
        "IN_PROGRESS",
        "POST",
        "COMPLETED",
        "Blue DNS updated",
        "Green DNS removed",
    ):
        assert event in summary
    assert "rolled back" not in summary
    # offsets from IN_PROGRESS: POST 1500 ms after it
    post_line = next(line for line in summary.splitlines() if line.rstrip().endswith(" POST"))
    assert " 1500 ms " in post_line
    assert summary in caplog.text
    times = dict(t.phase_times())
    assert times["COMPLETED"] - times["PREPARATION"] == pytest.approx(4.5)
    # the old side's table emptied: nothing changes
    t.update(report(Role.BLUE, None))
    assert phase_of(t) is Phase.COMPLETED and len(t.summaries) == 1
    # a later deployment starts afresh; the old green names stay retired
    t.update(report(Role.BLUE, Phase.CREATED))
    assert phase_of(t) is Phase.CREATED and not t.finished
    assert actions(t)[GREEN_CLUSTER] == (Action.REJECT, None)


def test_a_rolled_back_switchover_goes_back_to_pass_through() -> None:
    clock = Clock()
    t = tracker(clock)
    both(t, Phase.CREATED)
    both(t, Phase.PREPARATION)
    both(t, Phase.IN_PROGRESS)
    clock.now += 1
    t.update(report(Role.BLUE, Phase.PREPARATION))  # statuses going back
    assert t.rollback and phase_of(t) is Phase.PREPARATION
    assert not t.routing.hold_calls
    t.update(report(Role.GREEN, Phase.IN_PROGRESS))  # the other side lagging: still down
    assert phase_of(t) is Phase.PREPARATION
    t.update(report(Role.BLUE, Phase.CREATED))
    assert phase_of(t) is Phase.CREATED
    assert set(actions(t).values()) == {(Action.PASS, None)}
    assert "(rolled back)" in t.summaries[-1] and "Rollback" in t.summaries[-1]
    t.update(report(Role.GREEN, Phase.CREATED))
    assert set(actions(t).values()) == {(Action.PASS, None)}


def test_a_switchover_over_its_timeout_is_taken_as_completed() -> None:
    clock = Clock()
    t = SwitchoverTracker("1", 10.0, False, clock)
    both(t, Phase.CREATED)
    both(t, Phase.PREPARATION)
    both(t, Phase.IN_PROGRESS)
    clock.now += 9
    assert t.evaluate().phase is Phase.IN_PROGRESS
    clock.now += 2
    routing = t.evaluate()  # no new report needed
    assert routing.phase is Phase.COMPLETED and t.timed_out and t.finished
    assert not routing.hold_calls
    a = actions(t)
    assert a[BLUE_CLUSTER] == (Action.PASS, None)
    assert a[GREEN_CLUSTER] == (Action.REJECT, None)
    assert "Switchover timeout" in t.summaries[-1]


def test_a_rollback_over_its_timeout_is_taken_as_rolled_back() -> None:
    clock = Clock()
    t = SwitchoverTracker("1", 10.0, False, clock)
    both(t, Phase.CREATED)
    both(t, Phase.IN_PROGRESS)
    t.update(report(Role.BLUE, Phase.PREPARATION))
    clock.now += 11
    routing = t.evaluate()
    assert routing.phase is Phase.CREATED and not routing.rejected
    assert set(actions(t).values()) == {(Action.PASS, None)}
