"""A store that lives in this process only: the cache's last resort when no shared store works."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from .base import Store


class MemoryStore(Store):
    """A thread-safe dict with expiry. Forgets everything when the process exits."""

    kind = "memory"
    location = "memory"

    def __init__(self, clock=time.time) -> None:
        self._data: dict[str, tuple[Any, float | None]] = {}
        self._lock = threading.Lock()
        self._secret = os.urandom(32)
        self._clock = clock

    def _live(self, key: str) -> tuple[Any, float | None] | None:
        entry = self._data.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= self._clock():
            del self._data[key]
            return None
        return entry

    def _deadline(self, ttl: float | None) -> float | None:
        return None if ttl is None else self._clock() + ttl

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._live(key)
            return None if entry is None else entry[0]

    def set(self, key: str, value: Any, ttl: float | None) -> None:
        with self._lock:
            self._data[key] = (value, self._deadline(ttl))

    def add(self, key: str, value: Any, ttl: float | None) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, self._deadline(ttl))
            return True

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._data.pop(key, None) is not None

    def compare_and_delete(self, key: str, expected: Any) -> bool:
        with self._lock:
            entry = self._live(key)
            if entry is None or entry[0] != expected:
                return False
            del self._data[key]
            return True

    def compare_and_touch(self, key: str, expected: Any, ttl: float) -> bool:
        with self._lock:
            entry = self._live(key)
            if entry is None or entry[0] != expected:
                return False
            self._data[key] = (expected, self._deadline(ttl))
            return True

    def incr(self, key: str, delta: int = 1) -> int:
        with self._lock:
            entry = self._live(key)
            value = (entry[0] if entry and isinstance(entry[0], int) else 0) + delta
            self._data[key] = (value, None)
            return value

    def scan(self, prefix: str = "") -> Iterator[tuple[str, Any, float | None]]:
        with self._lock:
            items = [(k, self._live(k)) for k in list(self._data) if k.startswith(prefix)]
        for key, entry in items:
            if entry is not None:
                yield key, entry[0], entry[1]

    def expire(self) -> int:
        with self._lock:
            before = len(self._data)
            for key in list(self._data):
                self._live(key)
            return before - len(self._data)

    def clear(self) -> int:
        with self._lock:
            count = len(self._data)
            self._data.clear()
            return count

    def secret(self) -> bytes:
        return self._secret
