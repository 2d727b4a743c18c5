"""A store that lives in this process only: the cache's last resort when no shared store works.

It keeps the same contract as the shared stores: values go in and come out as JSON text (so a
caller can neither store what the others would refuse nor change a stored value in place), and
expired entries are never returned.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .base import Store, StoreError, decode_json


class MemoryStore(Store):
    """A thread-safe dict of JSON texts with expiry. Forgets everything when the process exits."""

    kind = "memory"
    location = "memory"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._data: dict[str, tuple[Any, float | None]] = {}  # key -> (JSON text or int counter, deadline)
        self._lock = threading.Lock()
        self._clock = clock

    def _live(self, key: str) -> tuple[Any, float | None] | None:
        entry = self._data.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= self._clock():
            del self._data[key]
            return None
        return entry

    def _deadline(self, ttl: float | None) -> float | None:
        return None if ttl is None else self._clock() + ttl

    @staticmethod
    def _encode(value: Any) -> Any:
        if type(value) is int:
            return value  # integers stay integers, so that incr() can add to them
        try:
            return json.dumps(value, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"memory store: value is not JSON: {exc}") from None

    @staticmethod
    def _decode(stored: Any) -> Any:
        return stored if isinstance(stored, int) else decode_json(stored)

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._live(key)
        return None if entry is None else self._decode(entry[0])

    def get_text(self, key: str) -> str | None:
        with self._lock:
            entry = self._live(key)
        return None if entry is None else str(entry[0])  # JSON text, or an int counter (its text)

    def set(self, key: str, value: Any, ttl: float | None) -> None:
        text = self._encode(value)
        with self._lock:
            self._data[key] = (text, self._deadline(ttl))

    def add(self, key: str, value: Any, ttl: float | None) -> bool:
        text = self._encode(value)
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (text, self._deadline(ttl))
            return True

    def delete(self, key: str) -> bool:
        with self._lock:
            if self._live(key) is None:
                return False
            del self._data[key]
            return True

    def compare_and_delete(self, key: str, expected: Any) -> bool:
        text = self._encode(expected)
        with self._lock:
            entry = self._live(key)
            if entry is None or entry[0] != text:
                return False
            del self._data[key]
            return True

    def compare_and_touch(self, key: str, expected: Any, ttl: float) -> bool:
        text = self._encode(expected)
        with self._lock:
            entry = self._live(key)
            if entry is None or entry[0] != text:
                return False
            self._data[key] = (text, self._deadline(ttl))
            return True

    def incr(self, key: str, delta: int = 1) -> int:
        with self._lock:
            entry = self._live(key)
            value = (entry[0] if entry and isinstance(entry[0], int) else 0) + delta
            self._data[key] = (value, entry[1] if entry else None)
            return value

    def scan(self, prefix: str = "") -> Iterator[tuple[str, Any, float | None]]:
        with self._lock:
            items = [(k, self._live(k)) for k in list(self._data) if k.startswith(prefix)]
        for key, entry in items:
            if entry is not None:
                yield key, self._decode(entry[0]), entry[1]

    def expire(self) -> int:
        with self._lock:
            before = len(self._data)
            for key in list(self._data):
                self._live(key)
            return before - len(self._data)
