"""``bg``: blue/green deployments. Its code and properties (the names and defaults of
aws-advanced-python-wrapper's).

The class: ``aws_wrapper._async.plugins.blue_green`` (async code) and its generated twin in
``aws_wrapper._sync``; the phase logic, shared by both worlds: :mod:`aws_wrapper.blue_green`.
"""

from __future__ import annotations

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import DAY_MS, Prop, register, register_prefix

BG_ID = register(
    Prop(
        "bg_id",
        str,
        "1",
        "bg: the blue/green deployment's identifier: connections with the same id share one "
        "status monitor per process (per event loop in aws_wrapper.aio). Give each deployment "
        "an application uses an id of its own.",
    )
)
BG_CONNECT_TIMEOUT_MS = register(
    Prop(
        "bg_connect_timeout_ms",
        int,
        30000,
        "bg: how long a connect or call is held during a switchover (phase IN_PROGRESS) "
        "before it fails with BlueGreenTimeoutError.",
        minimum=0,
        maximum=DAY_MS,
    )
)
BG_INTERVAL_BASELINE_MS = register(
    Prop(
        "bg_interval_baseline_ms",
        int,
        60000,
        "bg: how often the status is read with no deployment, or after a switchover.",
        minimum=1,
        maximum=DAY_MS,
    )
)
BG_INTERVAL_INCREASED_MS = register(
    Prop(
        "bg_interval_increased_ms",
        int,
        1000,
        "bg: how often the status is read while a deployment exists (phase CREATED); the "
        "host names' addresses are recorded at this pace.",
        minimum=1,
        maximum=DAY_MS,
    )
)
BG_INTERVAL_HIGH_MS = register(
    Prop(
        "bg_interval_high_ms",
        int,
        100,
        "bg: how often the status is read during a switchover (PREPARATION, IN_PROGRESS, "
        "POST) and while a monitor has no connection.",
        minimum=1,
        maximum=DAY_MS,
    )
)
BG_SWITCHOVER_TIMEOUT_MS = register(
    Prop(
        "bg_switchover_timeout_ms",
        int,
        180000,
        "bg: a switchover not over this long after it began (PREPARATION) is taken as "
        "completed (rolled back, if it was rolling back).",
        minimum=0,
        maximum=DAY_MS,
    )
)
BG_SUSPEND_NEW_BLUE_CONNECTIONS = register(
    Prop(
        "bg_suspend_new_blue_connections",
        bool,
        False,
        "bg: during the switchover (IN_PROGRESS), hold new connections to blue host names too "
        "(false: they go to blue's address recorded before the switchover).",
    )
)
BG_MONITORING_PREFIX = register_prefix(
    "blue-green-monitoring-",
    "bg: a driver parameter for the blue/green status monitors' connections only (e.g. "
    "blue-green-monitoring-connect_timeout=5).",
)

register_plugin(
    "bg",
    aio="aws_wrapper._async.plugins.blue_green:BlueGreenPlugin",
    sync="aws_wrapper._sync.plugins.blue_green:BlueGreenPlugin",
    weight=550,
    doc=(
        "Blue/green deployments: watches the deployment's status and holds, re-routes or "
        "rejects connections and calls phase by phase during a switchover."
    ),
)
