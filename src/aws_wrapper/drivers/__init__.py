"""The drivers the wrapper knows, in one table that both worlds read (and the SQLAlchemy and
Django layers): :data:`DRIVERS`.

=====================  ==========================  ===============================
engine                 async (``aws_wrapper.aio``)  blocking (``aws_wrapper``)
=====================  ==========================  ===============================
PostgreSQL             psycopg.AsyncConnection      psycopg.Connection
MySQL / MariaDB        aiomysql                     PyMySQL
MySQL / MariaDB        mysql.connector.aio          mysql.connector
=====================  ==========================  ===============================

The dialect is chosen from the connect function the application passes (or a driver name), so
MySQL code never runs through the PostgreSQL dialect by accident. Each dialect is written once,
in ``aws_wrapper._async.drivers``; ``aws_wrapper._sync.drivers`` is generated from it. What the
dialects of both worlds share (parsing, error classification, TLS) is in this package. Driver
packages are imported only when used; a missing one raises :class:`UnsupportedDriverError`
naming the extra that installs it.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from aws_wrapper import custom_dialects
from aws_wrapper._interned import Interned
from aws_wrapper.errors import UnsupportedDriverError

if TYPE_CHECKING:
    from aws_wrapper._async.protocols import DriverDialect as AsyncDriverDialect
    from aws_wrapper._sync.protocols import DriverDialect as SyncDriverDialect


@dataclass(frozen=True)
class Face:
    """A driver's side in one world (async or blocking)."""

    names: tuple[str, ...]
    """Driver names that choose it (``driver=...``, ``wrapper_driver_dialect=...``)."""
    module: str
    """Its DB-API module: what is imported for it, and where its connect functions come from
    (the module of a function, or of a connection class or one of its bases)."""
    connect: str
    """The default connect function, an attribute path in ``module``."""
    dialect: str
    """The dialect class, ``module:Class``."""
    marker: str = ""
    """A word every origin of its connect functions holds, where one package serves both worlds
    (psycopg: ``Async``). A driver's async face is tried first: it is the narrower one."""

    def recognises(self, origin: str) -> bool:
        """True when a connect function from ``origin`` (``module`` or ``module.Class``)
        belongs to this face."""
        inside = origin == self.module or origin.startswith(self.module + ".")
        return inside and self.marker in origin

    @property
    def connect_name(self) -> str:
        return f"{self.module}.{self.connect}"


@dataclass(frozen=True)
class Driver:
    """One driver package: its faces, and what to install for it."""

    name: str
    """Its name in aws_wrapper (``driver=``, the SQLAlchemy dialects' ``aws_driver``)."""
    engine: str
    """``postgresql`` or ``mysql`` (MariaDB included)."""
    extra: str
    """The pip extra of aws-wrapper that installs it (pyproject.toml)."""
    requires: tuple[str, ...]
    """Top-level modules it needs: a missing one means the driver is not installed."""
    aio: Face | None = None
    sync: Face | None = None

    def face(self, aio: bool) -> Face | None:
        return self.aio if aio else self.sync

    def load(self, path: str) -> Any:
        """``module`` or ``module:attr.attr`` imported; a missing driver module raises
        :class:`UnsupportedDriverError` naming the extra to install."""
        module_name, _, attrs = path.partition(":")
        try:
            found: Any = importlib.import_module(module_name)
        except ImportError as e:
            missing = (e.name or "").split(".")[0]
            if missing not in self.requires:
                raise
            raise UnsupportedDriverError(
                f"the {self.name} driver is not installed (no module named {e.name!r}); "
                f"install it with: pip install 'aws-wrapper[{self.extra}]'"
            ) from e
        for attr in attrs.split(".") if attrs else ():
            found = getattr(found, attr)
        return found


logger = logging.getLogger("aws_wrapper")

_ASYNC = "aws_wrapper._async.drivers"
_SYNC = "aws_wrapper._sync.drivers"

DRIVERS: tuple[Driver, ...] = (
    Driver(
        "psycopg",
        engine="postgresql",
        extra="psycopg",
        requires=("psycopg",),
        aio=Face(
            ("psycopg",),
            "psycopg",
            "AsyncConnection.connect",
            f"{_ASYNC}.psycopg:AsyncPsycopgDialect",
            marker="Async",
        ),
        sync=Face(("psycopg",), "psycopg", "Connection.connect", f"{_SYNC}.psycopg:PsycopgDialect"),
    ),
    Driver(
        "pymysql",
        engine="mysql",
        extra="pymysql",
        requires=("pymysql",),
        sync=Face(("pymysql",), "pymysql", "connect", f"{_SYNC}.pymysql:PyMySQLDialect"),
    ),
    Driver(
        "aiomysql",
        engine="mysql",
        extra="aiomysql",
        requires=("aiomysql", "pymysql"),
        aio=Face(("aiomysql",), "aiomysql", "connect", f"{_ASYNC}.pymysql:AiomysqlDialect"),
    ),
    Driver(
        "mysql-connector",
        engine="mysql",
        extra="mysql-connector",
        requires=("mysql",),
        aio=Face(
            (
                "mysql-connector",
                "mysql.connector",
                "mysql-connector-aio",
                "mysql.connector.aio",
                "mysql-connector-python",
            ),
            "mysql.connector.aio",
            "connect",
            f"{_ASYNC}.mysql_connector:MysqlConnectorAioDialect",
        ),
        sync=Face(
            ("mysql-connector", "mysql.connector", "mysql-connector-python"),
            "mysql.connector",
            "connect",
            f"{_SYNC}.mysql_connector:MysqlConnectorDialect",
        ),
    ),
)
"""Every driver, in the order its faces are listed in messages."""

DEFAULT_DRIVER = "psycopg"

UNSET_DRIVER_DIALECTS = frozenset({"generic"})
"""``wrapper_driver_dialect`` values that mean "choose from the connect function" (the
spelling of aws-advanced-python-wrapper for its driver-agnostic dialect)."""
PEER_MYSQL_DRIVER_DIALECTS = frozenset({"mysql-connector-python"})
"""aws-advanced-python-wrapper's code of its MySQL driver dialects (mysql-connector's, and its
aiomysql dialect's too): mysql-connector, unless the connect function is another MySQL
driver's."""


def _faces(aio: bool) -> Iterator[tuple[Driver, Face]]:
    for driver in DRIVERS:
        face = driver.face(aio)
        if face is not None:
            yield driver, face


def _named(name: str, aio: bool) -> tuple[Driver, Face] | None:
    key = name.strip().lower()
    return next(((d, f) for d, f in _faces(aio) if key in f.names), None)


def driver_named(name: str) -> Driver:
    """The table's row for a driver name (``psycopg``, ``aiomysql``, ...)."""
    for driver in DRIVERS:
        if driver.name == name:
            return driver
    raise UnsupportedDriverError(
        f"unknown driver {name!r}; expected one of: " + ", ".join(d.name for d in DRIVERS)
    )


def dbapi_module(name: str, aio: bool) -> ModuleType:
    """The DB-API module of a driver in one world (``mysql.connector`` for
    ``("mysql-connector", aio=False)``), imported; a missing driver raises
    :class:`UnsupportedDriverError` naming the extra to install."""
    driver = driver_named(name)
    face = driver.face(aio)
    if face is None:
        raise UnsupportedDriverError(
            f"{name} is a driver for {_world(not aio)} only, not {_world(aio)}"
        )
    module: ModuleType = driver.load(face.module)
    return module


def connect_function(name: str, aio: bool) -> Callable[..., Any]:
    """A driver's default connect function in one world (``psycopg.AsyncConnection.connect``
    for ``("psycopg", aio=True)``)."""
    found = _named(name, aio)
    if found is None:
        raise UnsupportedDriverError(f"unknown driver {name!r} for {_world(aio)}")
    driver, face = found
    func: Callable[..., Any] = driver.load(f"{face.module}:{face.connect}")
    return func


def _world(aio: bool) -> str:
    return "aws_wrapper.aio" if aio else "aws_wrapper"


def _origins(target: Callable[..., Any]) -> list[str]:
    """Where a connect function comes from: its module, or its class and base classes
    (so a subclass of ``psycopg.AsyncConnection`` is recognised)."""
    owner = getattr(target, "__self__", None)
    if isinstance(owner, type):
        return [f"{c.__module__}.{c.__name__}" for c in owner.__mro__]
    return [str(getattr(target, "__module__", "") or "")]


def _recognise(target: Callable[..., Any]) -> tuple[Driver, Face, bool] | None:
    """(driver, face, whether the face is async) of a connect function."""
    for origin in _origins(target):
        for driver in DRIVERS:
            for aio, face in ((True, driver.aio), (False, driver.sync)):
                if face is not None and face.recognises(origin):
                    return driver, face, aio
    return None


def _resolve(
    target: Callable[..., Any] | str | None, override: str | None, aio: bool
) -> tuple[Driver, Face, Callable[..., Any] | None]:
    """(driver, face, connect function or None) for a world (aio or blocking)."""
    face_name = _world(aio)
    func = None if target is None or isinstance(target, str) else target
    if override is not None:
        key = override.strip().lower()
        if key in UNSET_DRIVER_DIALECTS:
            override = None
        elif key in PEER_MYSQL_DRIVER_DIALECTS and func is not None:
            # the peer's code for its MySQL dialects (aiomysql's too): a recognised MySQL
            # connect function says which driver it is
            found = _recognise(func)
            if found is not None and found[2] == aio and found[0].engine == "mysql":
                override = None
    name = override if override is not None else (None if func else (target or DEFAULT_DRIVER))
    if isinstance(name, str):
        key = name.strip().lower()
        named = _named(key, aio)
        if named is None:
            hint = ""
            if _named(key, not aio) is not None:
                hint = f" ('{key}' is a driver for {_world(not aio)}, not {face_name})"
            what = "property 'wrapper_driver_dialect'" if override is not None else "driver"
            names = sorted({n for _, f in _faces(aio) for n in f.names})
            raise UnsupportedDriverError(
                f"{what}: unknown driver {key!r} for {face_name}{hint}; expected one of: "
                + ", ".join(names)
            )
        return named[0], named[1], func
    assert func is not None
    found = _recognise(func)
    if found is not None and found[2] == aio:
        return found[0], found[1], func
    expected = ", ".join(f.connect_name for _, f in _faces(aio))
    hint = f"; it belongs with {_world(not aio)}" if found else ""
    raise UnsupportedDriverError(
        f"{_describe(func)} is not a connect function {face_name} knows ({expected}){hint}; for "
        "a custom connect function, name its driver with wrapper_driver_dialect=..."
    )


def _custom_dialect(target: Callable[..., Any] | str | None, aio: bool) -> Any:
    """The installed custom driver dialect for ``target`` in this world, or None (see
    :mod:`aws_wrapper.custom_dialects`)."""
    custom = custom_dialects.get_driver_dialect()
    if custom is None:
        return None
    func = None if target is None or isinstance(target, str) else target
    if func is None:  # a driver name: its connect function, when it is one of ours
        try:
            func = connect_function(str(target or DEFAULT_DRIVER), aio)
        except UnsupportedDriverError:
            func = None
    connect = getattr(custom, "connect", None)
    if connect is not None and inspect.iscoroutinefunction(connect) != aio:
        return None  # a dialect of the other world
    engine = getattr(custom, "engine", None)
    if isinstance(engine, str) and getattr(custom, "is_dialect", None) is None:
        # without is_dialect: a dialect serves the connect functions of its engine
        try:
            known = _resolve(target, None, aio)[0]
        except UnsupportedDriverError:
            known = None
        if known is not None and known.engine != engine:
            return None
    if isinstance(custom, type) or connect is None:
        custom = custom(func)  # a class or factory taking the connect function
    is_dialect = getattr(custom, "is_dialect", None)
    if is_dialect is not None and not is_dialect(func):
        logger.warning(
            "the custom driver dialect %s does not accept %s: using the driver's own",
            type(custom).__name__,
            _describe(func) if func is not None else target,
        )
        return None
    if inspect.iscoroutinefunction(getattr(custom, "connect", None)) != aio:
        return None  # a factory's dialect of the other world
    return custom


_SHARED: Interned[tuple[Any, Callable[..., Any]], Any] = Interned(64)
"""Our driver dialects, one per (class, connect function): they hold no state of a
connection (see aws_wrapper._interned)."""


def _dialect(target: Callable[..., Any] | str | None, override: str | None, aio: bool) -> Any:
    custom = _custom_dialect(target, aio)
    if custom is not None:
        return custom
    driver, face, func = _resolve(target, override, aio)
    cls = driver.load(face.dialect)
    if func is None:
        func = cast("Callable[..., Any]", driver.load(f"{face.module}:{face.connect}"))
    return _SHARED.get((cls, func), _new_dialect)


def _new_dialect(key: tuple[Any, Callable[..., Any]]) -> Any:
    cls, func = key
    return cls(func)


def adriver_dialect_for(
    target: Callable[..., Any] | str | None, override: str | None = None
) -> AsyncDriverDialect:
    """The async driver dialect for a connect function or driver name (``override``: the
    ``wrapper_driver_dialect`` property, for connect functions the wrapper cannot recognise)."""
    dialect: AsyncDriverDialect = _dialect(target, override, aio=True)
    return dialect


def driver_dialect_for(
    target: Callable[..., Any] | str | None, override: str | None = None
) -> SyncDriverDialect:
    """The blocking driver dialect for a connect function or driver name."""
    dialect: SyncDriverDialect = _dialect(target, override, aio=False)
    return dialect


def _describe(target: object) -> str:
    module = getattr(target, "__module__", None) or type(target).__module__
    name = getattr(target, "__qualname__", None) or type(target).__name__
    return f"{module}.{name}"
