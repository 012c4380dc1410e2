"""How the devcluster's RDS-shaped names resolve for the wrapper, without touching the
machine's ``/etc/hosts``.

A devcluster writes a hosts file (``/etc/hosts`` format, ``Cluster.hosts_file``) and rewrites
it on failover. :func:`install_resolver` plugs a resolver reading such files into the wrapper
(:func:`aws_wrapper.set_name_resolver`): every connection the wrapper opens to a name listed
there goes to the listed address. ``Cluster.up`` and ``Cluster.attach`` install it for their
cluster, ``Cluster.down`` removes it, and so do the pytest fixtures.

The wrapper itself never reads the environment. A process started by one that has a cluster
(a subprocess, an example, a benchmark worker, a Django test run) gets the path in
``DEVCLUSTER_HOSTS_FILE`` (``Cluster.env()``, ``python -m aws_wrapper_devcluster env``) and opts
in explicitly with :func:`install_resolver_from_env`.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Mapping
from pathlib import Path

import aws_wrapper

ENV_VAR = "DEVCLUSTER_HOSTS_FILE"
"""Names the devcluster hosts file(s) for a subprocess (several joined with ``:``); read only
by :func:`install_resolver_from_env`."""


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


class HostsFileResolver:
    """A name resolver for :func:`aws_wrapper.set_name_resolver` reading hosts files, again
    whenever one changes (size or modification time); names it does not list go to
    ``fallback`` (the resolver installed before, if any). A name with several addresses gets
    a random one of them (a reader endpoint); a DB shard group endpoint (``.shardgrp-``) the
    next one in turn (round-robin, as Route 53 answers it)."""

    def __init__(
        self,
        paths: list[str | Path] | None = None,
        fallback: aws_wrapper.NameResolver | None = None,
    ) -> None:
        self.paths: list[str] = [str(p) for p in paths or ()]
        self.fallback = fallback
        self._lock = threading.Lock()
        self._key: tuple[tuple[str, int, int], ...] | None = None
        self._table: Mapping[str, tuple[str, ...]] = {}
        self._turn: dict[str, int] = {}  # round-robin position per shard group name

    def _current(self) -> Mapping[str, tuple[str, ...]]:
        stamps = []
        for path in list(self.paths):
            try:
                st = os.stat(path)
            except OSError:
                stamps.append((path, 0, -1))
                continue
            stamps.append((path, st.st_mtime_ns, st.st_size))
        key = tuple(stamps)
        with self._lock:
            if key == self._key:
                return self._table
        table: dict[str, tuple[str, ...]] = {}
        for path, _, size in key:
            if size < 0:
                continue
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            for name, found in parse(text).items():
                table[name] = table.get(name, ()) + found
        with self._lock:
            self._key, self._table = key, table
        return table

    def addresses(self, host: str) -> tuple[str, ...]:
        """Every address the files list for ``host`` (empty when none)."""
        return self._current().get(host.lower(), ())

    def __call__(self, host: str) -> str | None:
        found = self.addresses(host)
        if not found:
            return self.fallback(host) if self.fallback is not None else None
        if len(found) == 1:
            return found[0]
        if ".shardgrp-" in host.lower():
            with self._lock:
                turn = self._turn.get(host.lower(), -1) + 1
                self._turn[host.lower()] = turn
            return found[turn % len(found)]
        return random.choice(found)


_installed: HostsFileResolver | None = None
_install_lock = threading.Lock()


def install_resolver(hosts_file: str | Path) -> HostsFileResolver:
    """Make the names in ``hosts_file`` resolve for every wrapper connection of this process
    (added to the files installed before; the resolver the application had installed stays
    the fallback). Returns the devcluster's resolver."""
    global _installed
    with _install_lock:
        current = aws_wrapper.get_name_resolver()
        if _installed is None or current is not _installed:
            _installed = HostsFileResolver(fallback=current)
            aws_wrapper.set_name_resolver(_installed)
        if str(hosts_file) not in _installed.paths:
            _installed.paths.append(str(hosts_file))
        return _installed


def uninstall_resolver(hosts_file: str | Path) -> None:
    """Forget ``hosts_file``; with no file left, put back the resolver installed before."""
    global _installed
    with _install_lock:
        resolver = _installed
        if resolver is None:
            return
        if str(hosts_file) in resolver.paths:
            resolver.paths.remove(str(hosts_file))
        if not resolver.paths:
            if aws_wrapper.get_name_resolver() is resolver:
                aws_wrapper.set_name_resolver(resolver.fallback)
            _installed = None


def install_resolver_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """The opt-in for subprocesses: install the files named by ``DEVCLUSTER_HOSTS_FILE``
    (``:``-separated) in ``environ`` (default ``os.environ``). Returns them; unset or empty,
    installs nothing. A file that does not exist is an error (a typo would otherwise send
    connections to the real DNS silently)."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "")
    paths = [p for p in value.split(os.pathsep) if p]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise FileNotFoundError(f"{ENV_VAR} names hosts files that do not exist: {missing}")
    for path in paths:
        install_resolver(path)
    return paths
