"""A local Aurora-like cluster on real database servers, and the servers themselves.

``Cluster`` (see :mod:`.client`) runs a devcluster: a writer and readers with real
replication, Aurora metadata, RDS-shaped names, failover and fault injection::

    cluster = Cluster.up("postgresql", readers=2, log=print)   # its names now resolve
    cluster.failover(crash=True)
    cluster.down()

Its names resolve for the wrapper through the name-resolution hook
(:func:`aws_wrapper.set_name_resolver`), which ``Cluster.up`` / ``attach`` install in the
calling process; another process opts in with :func:`install_resolver_from_env` (see
:mod:`.names`).


``PostgresServer`` and ``MariaDBServer`` initialize a throw-away data directory,
start the server as an unprivileged OS user bound to 127.0.0.1, and create an
application user (``app`` / ``app-secret``, database ``app``) and a superuser
(``admin`` / ``admin-secret``)::

    with PostgresServer(log=print) as pg:
        psycopg.connect(**pg.conn_params())
"""

from aws_wrapper_devcluster.client import Cluster, DevclusterError
from aws_wrapper_devcluster.names import (
    HostsFileResolver,
    install_resolver,
    install_resolver_from_env,
    uninstall_resolver,
)
from aws_wrapper_devcluster.servers import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    APP_DATABASE,
    APP_PASSWORD,
    APP_USER,
    SERVER_OS_USER,
    BinaryNotFoundError,
    DatabaseServer,
    DriverNotFoundError,
    MariaDBServer,
    PostgresServer,
    RequirementError,
    ServerError,
    ServerStartError,
    check_requirements,
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
    "DriverNotFoundError",
    "HostsFileResolver",
    "MariaDBServer",
    "PostgresServer",
    "RequirementError",
    "ServerError",
    "ServerStartError",
    "check_requirements",
    "free_port",
    "install_resolver",
    "install_resolver_from_env",
    "uninstall_resolver",
]
