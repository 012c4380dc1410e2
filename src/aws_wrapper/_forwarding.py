"""Wrapper classes that answer the names of the driver object they wrap.

The wrapper connection and cursor answer any public name they do not define with the driver
connection's or cursor's (psycopg's ``info``, ``adapters``, ``pgresult``, ...). A
``__getattr__`` would do that, but on Python 3.11 a class with a ``__getattr__`` gets none of
the interpreter's attribute-access specializations: every attribute read and method call on
its objects takes the slow generic lookup (several type lookups, a bound method object per
call), which is most of what a wrapper call costs, in async code above all, where the event
loop and the driver push those lookups' data out of the CPU caches between two calls.

So each wrapper class is specialized, once per driver class, into a subclass that forwards
each of the driver object's public names with a property: those of the driver class
(methods, properties, ``__slots__``) and those its objects hold in a ``__dict__`` when made
(the drivers set their public attributes in ``__init__`` or while connecting, none later).
Only a driver class that answers names of its own (a ``__getattr__`` or ``__getattribute__``
of its own), whose names cannot be listed, gets the ``__getattr__`` subclass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

Getter = Callable[[Any], Any]
"""``getter(wrapper)``: the driver object a wrapper forwards to (None: there is none)."""


def _property(name: str, getter: Getter) -> property:
    def get(self: Any) -> Any:
        target = getter(self)
        if target is None:
            raise AttributeError(name)
        return getattr(target, name)

    return property(get, doc=f"The driver's ``{name}``.")


def _getattr(getter: Getter) -> Callable[[Any, str], Any]:
    def __getattr__(self: Any, name: str) -> Any:
        target = getter(self) if not name.startswith("_") else None
        if target is None:
            raise AttributeError(name)
        return getattr(target, name)

    return __getattr__


def names_of(driver_object: object) -> frozenset[str] | None:
    """The public names objects of ``driver_object``'s class have (None: they cannot be
    listed: the class answers names of its own)."""
    kind = type(driver_object)
    if hasattr(kind, "__getattr__") or kind.__getattribute__ is not object.__getattribute__:
        return None
    names = set(dir(kind)) | set(getattr(driver_object, "__dict__", ()))
    return frozenset(n for n in names if not n.startswith("_"))


def forwarding_class(base: type[T], names: frozenset[str] | None, getter: Getter) -> type[T]:
    """A subclass of ``base`` (named alike) whose objects answer ``names`` (those ``base``
    does not define) with ``getter(obj)``'s; with ``names`` None, any public name, through a
    ``__getattr__``."""
    base = base.__dict__.get("__forwarding_base__", base)  # not a subclass of one made here
    namespace: dict[str, Any]
    if names is None:
        namespace = {"__getattr__": _getattr(getter)}
    else:
        ours = set(dir(base))
        namespace = {n: _property(n, getter) for n in sorted(names - ours)}
    namespace.update(
        __forwarding_base__=base,
        __slots__=(),
        __module__=base.__module__,
        __qualname__=base.__qualname__,
        __doc__=base.__doc__,
    )
    return type(base.__name__, (base,), namespace)
