"""diskcache's serialisation for the disk store: str keys, JSON values, never a pickle, never a file.

Imported only when the disk store writes (or repairs) its database: reads go to SQLite directly
(:mod:`.disk`), so a process that only reads never imports diskcache.
"""

from __future__ import annotations

import json
from typing import Any

import diskcache
from diskcache.core import MODE_RAW

from .base import decode_json


class JSONOnlyDisk(diskcache.Disk):
    """diskcache serialisation restricted to str keys and JSON values; never pickles or unpickles.

    Values are always inline in SQLite: this disk never writes a value file. So a row whose
    ``filename`` column is set was planted (it may name any path: ``../../x``, ``/etc/x``, a FIFO),
    and nothing it names is ever opened, stat'ed or removed: :meth:`fetch` refuses the entry (a
    bad entry: ``get`` raises, ``scan`` skips it) and :meth:`remove` does nothing, so deleting,
    replacing, expiring or culling such a row drops the row only.
    """

    def put(self, key: Any) -> tuple[str, bool]:
        if type(key) is not str:
            raise TypeError("store keys must be str")
        return key, True

    def get(self, key: Any, raw: bool) -> str | None:
        if not raw or type(key) is not str:
            return None  # a non-text key (possibly a pickle) is never loaded; scan() skips it
        return key

    def store(self, value: Any, read: bool, key: Any = diskcache.core.UNKNOWN) -> tuple[Any, ...]:
        if read:
            raise TypeError("file values are not supported")
        if type(value) is int and -(1 << 63) <= value < (1 << 63):  # counters: diskcache's incr uses raw ints
            stored: tuple[Any, ...] = super().store(value, False, key=key)
            return stored
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
        return 0, MODE_RAW, None, text

    def fetch(self, mode: int, filename: Any, value: Any, read: bool) -> Any:
        if filename is not None:
            raise ValueError("refusing an entry that names a value file (vision_cache never writes one)")
        if mode == MODE_RAW and type(value) is int:
            return value
        if mode == MODE_RAW and type(value) is str:
            return decode_json(value)
        raise ValueError("refusing a non-JSON value (possibly a pickle) in the store")

    def remove(self, file_path: Any) -> None:
        """Remove nothing. diskcache calls this with a row's ``filename`` (joined to the store folder,
        then it removes the emptied parent folders) when the row is deleted, replaced, expired or
        culled; our rows never have one, so any name here comes from a planted row."""
        return None

    def filename(self, key: Any = diskcache.core.UNKNOWN, value: Any = diskcache.core.UNKNOWN) -> tuple[str, str]:
        raise TypeError("file values are not supported")
