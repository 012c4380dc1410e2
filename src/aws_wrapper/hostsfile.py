"""Host name overrides from a hosts-format file: how RDS-shaped names of a local devcluster
resolve without touching the machine's ``/etc/hosts``.

When the environment variable ``AWS_WRAPPER_HOSTS_FILE`` names a file in ``/etc/hosts``
format (or several, separated by ``:``), every connection the wrapper opens to a host listed
there goes to the listed address (psycopg gets it as ``hostaddr`` and keeps the name; MySQL
drivers get the address), and the
wrapper's own DNS lookups see it too. The devcluster writes such a file and rewrites it on
failover; ``python -m aws_wrapper.devcluster env`` prints the variable to export.

Unset (the normal case), it costs one environment lookup per connect and nothing per call.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping

ENV_VAR = "AWS_WRAPPER_HOSTS_FILE"

_cache: tuple[str, tuple[tuple[int, int], ...], Mapping[str, tuple[str, ...]]] | None = None


def parse(text: str) -> dict[str, tuple[str, ...]]:
    """``name -> addresses`` from hosts-file text (a name may have several lines)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        address, *names = line.split()
        for name in names:
            out.setdefault(name.lower(), []).append(address)
    return {k: tuple(v) for k, v in out.items()}


def _table() -> Mapping[str, tuple[str, ...]]:
    global _cache
    value = os.environ.get(ENV_VAR)
    if not value:
        return {}
    paths = [p for p in value.split(os.pathsep) if p]
    stamps = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            stamps.append((0, -1))
            continue
        stamps.append((st.st_mtime_ns, st.st_size))
    cached = _cache
    if cached is not None and cached[0] == value and cached[1] == tuple(stamps):
        return cached[2]
    table: dict[str, tuple[str, ...]] = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                for name, found in parse(f.read()).items():
                    table[name] = table.get(name, ()) + found
        except OSError:
            continue
    _cache = (value, tuple(stamps), table)
    return table


def addresses(host: str) -> tuple[str, ...]:
    """Every address the hosts file lists for ``host`` (empty when none or no file)."""
    return _table().get(host.lower(), ())


def lookup(host: str) -> str | None:
    """One address for ``host`` from the hosts file (random among several), or None."""
    found = addresses(host)
    if not found:
        return None
    return found[0] if len(found) == 1 else random.choice(found)
