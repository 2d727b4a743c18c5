"""What the installed transformers knows about vision-language models, read lazily.

Importing the name tables costs about half a second (more on a cold disk), so it happens on the
first miss only, never on a hit. ``importlib.import_module`` is used on purpose: with
transformers 5.x and no torch, ``from transformers.models.auto import modeling_auto`` yields a
dummy object that raises on attribute access, while importing the module itself gives the real
tables. torch is not needed.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

#: ``Ledger.shared``'s shape: (identity, build, ttl, valid) -> the value computed once for all processes
Shared = Callable[[str, Callable[[], Any], float, Callable[[Any], bool]], Any]

@dataclasses.dataclass(frozen=True)
class Registry:
    vision_types: frozenset[str]  # model_type -> takes images, generates text
    vision_classes: frozenset[str]  # architecture class names of those models
    audio_types: frozenset[str]  # multimodal text generators that take audio but not images
    text_types: frozenset[str] = frozenset()  # text-in, text-out generators (no other input)

    def to_record(self) -> dict[str, list[str]]:
        return {name: sorted(getattr(self, name)) for name in _FIELDS}

    @classmethod
    def from_record(cls, record: object) -> Registry | None:
        """A snapshot read back from a store, or None if it is absent or malformed."""
        if not isinstance(record, dict):
            return None
        fields = {}
        for name in _FIELDS:
            values = record.get(name)
            if not isinstance(values, list) or not all(type(v) is str and len(v) < 200 for v in values):
                return None
            fields[name] = frozenset(values)
        return cls(**fields) if fields["vision_types"] else None


_FIELDS = ("vision_types", "vision_classes", "audio_types", "text_types")


def registry_source(shared: Shared) -> Callable[[], Registry]:
    """:func:`transformers_registry`, shared by every process through ``shared`` (``Ledger.shared``).

    Importing the tables costs a second or two of CPU, paid by every process that meets its first
    cold model. The first process imports them and stores a snapshot keyed by the exact installed
    transformers (version and the tables' file), under a lease so that processes starting together
    import once; the others read the snapshot. A snapshot that is missing or malformed (store
    contents are hostile) falls back to importing. Never raises for a store failure.
    """

    def registry() -> Registry:
        if transformers_registry.cache_info().currsize:
            return transformers_registry()
        identity = _transformers_identity()
        if identity is None:
            return transformers_registry()
        snapshot = Registry.from_record(shared(identity, lambda: transformers_registry().to_record(), _SNAPSHOT_TTL,
                                               lambda record: Registry.from_record(record) is not None))
        return snapshot if snapshot is not None else transformers_registry()

    return registry


_SNAPSHOT_TTL = 30 * 24 * 3600.0


def _transformers_identity() -> str | None:
    """The installed transformers' version and its registry file's size and mtime, from metadata only."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("transformers")
        info = dist.locate_file("transformers/models/auto/modeling_auto.py")
        import os

        stat = os.stat(str(info))
    except (PackageNotFoundError, OSError, TypeError):
        return None
    return f"{dist.version}:{stat.st_size}:{stat.st_mtime_ns}"


@functools.lru_cache(maxsize=1)
def transformers_registry() -> Registry:
    """The installed transformers' VLM tables (imported in this process).

    Raises:
        ImportError (or whatever a broken transformers raises): the verdict is then ``unknown`` and
        nothing is stored, rather than a ``not_vision`` judged without the registry.
    """
    from .probe import read_tables

    vision_types, vision_classes, audio_types, text_generators = read_tables()
    multimodal_or_vision = audio_types | vision_types
    return Registry(frozenset(vision_types), frozenset(vision_classes), frozenset(audio_types),
                    frozenset(text_generators - multimodal_or_vision))
