"""Real database servers on loopback for tests, demos and a local Aurora-like cluster.

``PostgresServer`` and ``MariaDBServer`` initialize a throw-away data directory,
start the server as an unprivileged OS user bound to 127.0.0.1, and create an
application user (``app`` / ``app-secret``, database ``app``) and a superuser
(``admin`` / ``admin-secret``)::

    with PostgresServer(log=print) as pg:
        psycopg.connect(**pg.conn_params())
"""

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
    "DatabaseServer",
    "MariaDBServer",
    "PostgresServer",
    "ServerError",
    "ServerStartError",
    "free_port",
]
