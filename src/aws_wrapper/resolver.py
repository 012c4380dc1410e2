"""The name-resolution hook: where the wrapper sends a connection for a host name.

By default the wrapper hands every host name to the driver as is, and the driver resolves it
through the system (DNS, ``/etc/hosts``). An application (or a test harness such as the
devcluster, ``aws-wrapper-devcluster``) may install a resolver in code::

    import aws_wrapper

    def resolve(host: str) -> str | None:
        return {"db.example.internal": "10.0.0.7"}.get(host)

    previous = aws_wrapper.set_name_resolver(resolve)     # process-wide, sync and asyncio
    ...
    aws_wrapper.set_name_resolver(previous)               # None: back to the default

For every connection the wrapper opens (the first one, failover, topology and monitoring
connections, pools), it calls the resolver with the host name; an address sends the
connection there, ``None`` leaves the name to the driver. psycopg gets the address as
``hostaddr`` and keeps the name (TLS host verification, ``pg_hba.conf`` and IAM tokens still
see the name); the MySQL drivers get the address as ``host``.

The resolver is called on the connecting thread, in asyncio on the event loop: it must be quick
and must not block (no DNS query, no network I/O). An exception from it fails the connect.

Nothing here reads the environment or any file: only code decides where connections go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

NameResolver = Callable[[str], str | None]
"""A host name -> an address to connect to instead, or None for "resolve it normally"."""

_resolver: NameResolver | None = None


def set_name_resolver(resolver: NameResolver | None) -> NameResolver | None:
    """Install ``resolver`` for every connection of this process (``None`` removes it);
    returns the previous one, so a caller can restore it or chain to it."""
    global _resolver
    previous, _resolver = _resolver, resolver
    return previous


def get_name_resolver() -> NameResolver | None:
    """The installed resolver, or None."""
    return _resolver


def resolve_address(host: str) -> str | None:
    """The address the installed resolver gives for ``host``, or None (no resolver, or it
    does not know the name)."""
    resolver = _resolver
    if resolver is None:
        return None
    return resolver(host)


PINNED_ADDRESS = "_pinned_address"
"""The key, in a connection's wrapper properties, of ``(host name, address)``: connect to
that host name at that address, whatever the resolver or DNS says now (the blue/green plugin
reaches a blue host by the address it had before the switchover while DNS is stale). The
name is kept for everything else (TLS host verification, IAM tokens), as with the resolver.
Set by the wrapper itself (``props.copy(wrapper={PINNED_ADDRESS: (host, ip)})``), never by
users: it is not a registered property."""


def connect_address(host: str, wrapper_props: Mapping[str, Any]) -> str | None:
    """Where a connection to ``host`` goes: the address pinned for it in ``wrapper_props``
    (see :data:`PINNED_ADDRESS`), else the installed resolver's (None: the driver resolves)."""
    pinned = wrapper_props.get(PINNED_ADDRESS)
    if pinned is not None and pinned[0] == host:
        return str(pinned[1])
    return resolve_address(host)
