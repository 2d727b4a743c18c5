"""This process's short memory of final verdicts: the first step of a lookup, before the store.

An entry lives at most ``ttl`` seconds (``memory_ttl``, 1 s by default) and never past the
verdict's own expiry, so a purge or invalidation by any other process is seen here within
``ttl``; a purge by this process clears it at once. ``unknown`` and ``stale`` answers, and local
folders (which may be edited at any moment), are never remembered.
"""

from __future__ import annotations

import time

from .target import Target
from .verdict import Kind, Source, Verdict

_MAX_ENTRIES = 4096


class MemoryTier:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[str, str, str, str], tuple[Verdict, float]] = {}

    def get(self, target: Target) -> Verdict | None:
        key = (target.subject.key, target.revision, target.scope, target.question)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= time.time():
            self._entries.pop(key, None)
            return None
        return entry[0]

    def put(self, target: Target, verdict: Verdict) -> Verdict:
        """Remember ``verdict`` if it may be; return it unchanged."""
        if self.ttl > 0 and verdict.kind is not Kind.UNKNOWN and verdict.source is not Source.STALE \
                and not target.subject.is_local:
            deadline = time.time() + self.ttl
            if verdict.expires_at is not None:
                deadline = min(deadline, verdict.expires_at)
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[(target.subject.key, target.revision, target.scope, target.question)] = (
                verdict.with_source(Source.MEMORY), deadline)
        return verdict

    def clear(self) -> None:
        self._entries.clear()
