"""A local Aurora-like cluster on real database servers, and the servers themselves.

``Cluster`` (see :mod:`.client`) runs a devcluster: a writer and readers with real
replication, Aurora metadata, RDS-shaped names, failover and fault injection::

    cluster = Cluster.up("postgresql", readers=2, log=print)
    cluster.failover(crash=True)
    cluster.down()


``PostgresServer`` and ``MariaDBServer`` initialize a throw-away data directory,
start the server as an unprivileged OS user bound to 127.0.0.1, and create an
application user (``app`` / ``app-secret``, database ``app``) and a superuser
(``admin`` / ``admin-secret``)::

    with PostgresServer(log=print) as pg:
        psycopg.connect(**pg.conn_params())
"""

from aws_wrapper.devcluster.client import Cluster, DevclusterError
from aws_wrapper.devcluster.servers import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    APP_DATABASE,
    APP_PASSWORD,
    APP_USER,
    SERVER_OS_USER,
    BinaryNotFoundError,
    DatabaseServer,
    MariaDBServer,
    PostgresServer,
    ServerError,
    ServerStartError,
    free_port,
)

__all__ = [
    "ADMIN_PASSWORD",
    "ADMIN_USER",
    "APP_DATABASE",
    "APP_PASSWORD",
    "APP_USER",
    "SERVER_OS_USER",
    "BinaryNotFoundError",
    "Cluster",
    "DatabaseServer",
    "DevclusterError",
    "MariaDBServer",
    "PostgresServer",
    "ServerError",
    "ServerStartError",
    "free_port",
]
