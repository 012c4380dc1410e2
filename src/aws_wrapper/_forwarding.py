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
(methods, properties, ``__slots__``) and those its code sets on its objects (read from the
class's code, never from an object's ``__dict__``: see ``names_of``).
Only a driver class that answers names of its own (a ``__getattr__`` or ``__getattribute__``
of its own), whose names cannot be listed, gets the ``__getattr__`` subclass.
"""

from __future__ import annotations

import dis
from collections.abc import Callable
from types import CodeType
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
    listed: the class answers names of its own): the class's, and the attributes its code
    sets on objects (a superset: a name an object lacks still raises AttributeError).

    Never from the object's ``__dict__``: on Python 3.11 reading an object's ``__dict__``
    moves its attributes out of the object into a dict object for good, which deoptimizes
    every attribute read the driver's own code makes on it (~4,000 more machine
    instructions per statement on a psycopg connection, measured with cachegrind)."""
    kind = type(driver_object)
    if hasattr(kind, "__getattr__") or kind.__getattribute__ is not object.__getattribute__:
        return None
    names = set(dir(kind)) | attributes_set_by(kind)
    return frozenset(n for n in names if not n.startswith("_"))


def attributes_set_by(kind: type) -> set[str]:
    """The attribute names the Python code of ``kind`` and its bases assigns (``x.name =``)."""
    names: set[str] = set()
    for klass in kind.__mro__:
        for member in vars(klass).values():
            for func in (
                getattr(member, "__func__", member),
                getattr(member, "fget", None),
                getattr(member, "fset", None),
            ):
                code = getattr(func, "__code__", None)
                if isinstance(code, CodeType):
                    _stored_names(code, names)
    return names


def _stored_names(code: CodeType, names: set[str]) -> None:
    for op in dis.get_instructions(code):
        if op.opname == "STORE_ATTR":
            names.add(op.argval)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            _stored_names(const, names)


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
