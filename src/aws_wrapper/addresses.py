"""Which instance a connection is on, told by the address it is connected to (no query).

A cluster's instances each have an address of their own: Aurora's cluster and reader
endpoints are DNS aliases of an instance endpoint, so a connection opened through them is
connected to the address the instance's own host name resolves to (the devcluster gives every
instance its own loopback address, the same way). The topology monitor resolves the instance
host names of its topology into an :class:`AddressBook`; a new connection whose peer address
is in the book is on that instance, and the wrapper need not ask it which one it is.

Only what is unambiguous is used: an address that two instance names resolve to (a proxy or
a load balancer in front of several instances) is left out of the book, as is a connection
whose peer address cannot be told (a Unix socket, a driver we cannot look into); a
connection through anything else (RDS Proxy, a tunnel, PgBouncer) has an address no instance
name resolves to. Those connections are identified with a query, as before.

Pure logic shared by both worlds (the monitor resolves names off the event loop).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from typing import Any

from .resolver import resolve_address

Address = tuple[str, int]
"""``(IP address, port)``, the IP in its canonical text form."""


def normalize(ip: str, port: int) -> Address | None:
    """The canonical ``(ip, port)``: IPv6 compressed, IPv4-mapped IPv6 as IPv4, no zone;
    None when ``ip`` is not an IP address (a Unix socket path, a host name)."""
    try:
        parsed = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return (str(parsed), int(port))


def _from_sockaddr(peer: Any) -> Address | None:
    if isinstance(peer, tuple) and len(peer) >= 2 and isinstance(peer[0], str):
        return normalize(peer[0], int(peer[1]))
    return None  # AF_UNIX: a path


def peer_address(conn: object) -> Address | None:
    """The server address ``conn`` (a driver connection) is connected to, or None when it
    cannot be told. Reads what the driver already knows: no I/O beyond a ``getpeername``."""
    try:
        pgconn = getattr(conn, "pgconn", None)
        if pgconn is not None:  # psycopg: libpq knows the address it connected to
            ip = pgconn.hostaddr.decode()
            port = pgconn.port.decode()
            return normalize(ip, int(port)) if ip and port.isdigit() else None
        # aiomysql (an asyncio stream), PyMySQL (a socket), mysql.connector (a socket, or an
        # asyncio stream in its aio API: on the object in `_socket`)
        for holder in (conn, getattr(conn, "_socket", None)):
            if holder is None:
                continue
            writer = getattr(holder, "_writer", None)
            if writer is not None:
                return _from_sockaddr(writer.get_extra_info("peername"))
            sock = getattr(holder, "_sock", None) or getattr(holder, "sock", None)
            if sock is not None and hasattr(sock, "getpeername"):
                return _from_sockaddr(sock.getpeername())
    except Exception:  # closed, an old libpq without PQhostaddr, another driver's object
        return None
    return None


def quick_addresses(host: str, port: int) -> list[Address] | None:
    """The addresses of ``host`` without a DNS query: the installed name resolver's answer
    (see :mod:`aws_wrapper.resolver`) or an IP literal; None when DNS must be asked."""
    hooked = resolve_address(host)
    found = normalize(hooked or host, port)
    if found is not None:
        return [found]
    return None


def dns_addresses(host: str, port: int) -> list[Address]:
    """The addresses DNS gives for ``host`` (blocking); empty when it cannot be resolved."""
    name = resolve_address(host) or host
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    found: list[Address] = []
    for *_, sockaddr in infos:
        address = _from_sockaddr(sockaddr)
        if address is not None and address not in found:
            found.append(address)
    return found


class AddressBook:
    """Instance ids by address: what the instance host names of one topology resolved to,
    addresses shared by two instances left out. Immutable: the monitor replaces it."""

    __slots__ = ("_by_address", "built_at", "hosts")

    def __init__(
        self, resolved: Iterable[tuple[str, Iterable[Address]]], hosts: object = None
    ) -> None:
        by_address: dict[Address, str] = {}
        shared: set[Address] = set()
        for host_id, addresses in resolved:
            for address in addresses:
                other = by_address.setdefault(address, host_id)
                if other != host_id:
                    shared.add(address)
        for address in shared:
            del by_address[address]
        self._by_address = by_address
        self.built_at = time.monotonic()
        self.hosts = hosts
        """What the book was built from (the monitor's topology at the time)."""

    def host_id_at(self, address: Address | None) -> str | None:
        """The id of the instance at ``address``, None when the book does not know it (or
        knows it for more than one instance)."""
        if address is None:
            return None
        return self._by_address.get(address)

    def __len__(self) -> int:
        return len(self._by_address)

    def __repr__(self) -> str:
        return f"<AddressBook {self._by_address}>"
