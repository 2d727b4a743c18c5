"""``NamedTuple`` without importing :mod:`typing`.

A stored-verdict lookup in a fresh process imports this package and answers in about the time
``import diskcache`` alone takes; ``typing`` (with ``contextlib``) would be a tenth of that, and
the package uses it for nothing but the class syntax of its records. This base gives the same
syntax (annotated fields in order, defaults, methods, properties, docstrings) and makes a plain
``collections.namedtuple``, which is what ``typing.NamedTuple`` makes too.
"""

from __future__ import annotations

import collections

TYPE_CHECKING = False  # type checkers see typing.NamedTuple itself (mypy treats this name as True)

_NOT_MEMBERS = frozenset(("__module__", "__qualname__", "__annotations__", "__doc__", "__orig_bases__",
                          "__static_attributes__", "__firstlineno__", "__classcell__"))


class _NamedTupleMeta(type):
    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, object]) -> type:
        if not bases:  # NamedTuple itself
            return super().__new__(mcs, name, bases, namespace)
        annotations: dict[str, object] = namespace.get("__annotations__", {})  # type: ignore[assignment]
        fields = tuple(annotations)
        defaults = [namespace[field] for field in fields if field in namespace]
        make = collections.namedtuple  # (called with computed arguments: a plain call for type checkers)
        cls: type = make(name, fields, defaults=defaults, module=str(namespace["__module__"]))
        for key, value in namespace.items():
            if key not in fields and key not in _NOT_MEMBERS:
                setattr(cls, key, value)
        cls.__annotations__ = dict(annotations)
        cls.__qualname__ = str(namespace.get("__qualname__", name))
        doc = namespace.get("__doc__")
        if isinstance(doc, str) and doc:
            cls.__doc__ = doc
        return cls


if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:

    class NamedTuple(metaclass=_NamedTupleMeta):
        """Subclass it as ``typing.NamedTuple``: ``class Point(NamedTuple): x: int; y: int = 0``."""

        __slots__ = ()
