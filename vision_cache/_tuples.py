"""``NamedTuple`` without importing :mod:`typing`.

A stored-verdict lookup in a fresh process imports this package and answers in about the time
``import diskcache`` alone takes; ``typing`` (with ``contextlib``) would be a tenth of that, and
the package uses it for nothing but the class syntax of its records. This base gives the same
syntax (annotated fields in order, defaults, methods, properties, docstrings) and makes a plain
``collections.namedtuple``, which is what ``typing.NamedTuple`` makes too.
"""

from __future__ import annotations

import collections

_NOT_MEMBERS = frozenset(("__module__", "__qualname__", "__annotations__", "__doc__", "__orig_bases__",
                          "__static_attributes__", "__firstlineno__", "__classcell__"))


class _NamedTupleMeta(type):
    def __new__(mcs, name: str, bases: tuple, namespace: dict):
        if not bases:  # NamedTuple itself
            return super().__new__(mcs, name, bases, namespace)
        annotations = namespace.get("__annotations__", {})
        fields = tuple(annotations)
        defaults = [namespace[field] for field in fields if field in namespace]
        cls = collections.namedtuple(name, fields, defaults=defaults, module=namespace["__module__"])
        for key, value in namespace.items():
            if key not in fields and key not in _NOT_MEMBERS:
                setattr(cls, key, value)
        cls.__annotations__ = dict(annotations)
        cls.__qualname__ = namespace.get("__qualname__", name)
        if namespace.get("__doc__"):
            cls.__doc__ = namespace["__doc__"]
        return cls


class NamedTuple(metaclass=_NamedTupleMeta):
    """Subclass it as ``typing.NamedTuple``: ``class Point(NamedTuple): x: int; y: int = 0``."""

    __slots__ = ()
