"""The database dialect each endpoint answered with: detected once per process.

Detecting a dialect takes a query or two on the first connection to an endpoint (see the
dialects module); the answer is kept here, process-wide and for both worlds, so later
connections to the same endpoint make none. An endpoint is ``host:port`` and the driver's
engine (PostgreSQL or MySQL); a cluster's writer and reader endpoints are one endpoint (the
same cluster behind both).

A few endpoints tell the dialect by their name alone: an Aurora global database writer
endpoint (``<name>.global-<id>.global.rds.amazonaws.com``) exists only for Aurora global
databases. Other names do not: a ``.cluster-`` endpoint may be an Aurora cluster or an RDS
Multi-AZ DB cluster, an instance endpoint any RDS engine, a plain host anything.

A forked child starts with an empty cache (see :mod:`aws_wrapper.forking`).
"""

from __future__ import annotations

from . import rds_utils
from .forking import at_fork_in_child

_GLOBAL_AURORA = {"postgresql": "global-aurora-pg", "mysql": "global-aurora-mysql"}

# (endpoint, engine) -> dialect code; a dict's get and set are atomic, no lock is needed
_known: dict[tuple[str, str], str] = {}


def _endpoint(host: str, port: int) -> str:
    host = host.lower()
    return f"{rds_utils.writer_cluster_host(host) or host}:{port}"


def known_dialect(host: str, port: int, engine: str) -> str | None:
    """The dialect code of the endpoint, when it was detected in this process or its name
    tells it; None: detect it."""
    code = _known.get((_endpoint(host, port), engine))
    if code is None and rds_utils.classify(host) is rds_utils.RdsUrlType.RDS_GLOBAL_WRITER_CLUSTER:
        code = _GLOBAL_AURORA.get(engine)
    return code


def remember_dialect(host: str, port: int, engine: str, code: str) -> None:
    """Keep what detection found at the endpoint."""
    _known[(_endpoint(host, port), engine)] = code


def forget_dialects() -> None:
    """Forget every detected dialect (the next connection to each endpoint detects anew)."""
    _known.clear()


@at_fork_in_child
def _forget_dialects_after_fork() -> None:
    global _known
    _known = {}
