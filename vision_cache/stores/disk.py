"""The default store: a ``diskcache`` folder that every process on this host may open at once.

Guarantees, on top of :mod:`.base`:

- Values are JSON text in SQLite; :class:`JSONOnlyDisk` refuses to unpickle anything, so a
  planted pickle in a shared folder is treated as a corrupt entry (skipped), never executed.
- Nothing is evicted: diskcache's eviction is off, so a ``vision`` verdict stays until purged.
- The folder is created 0700 and the database 0600 (it holds the per-install secret).
  Concurrent first opens are retried (diskcache issue #85, "database is locked" while the schema is created).
- A database that SQLite cannot read is moved aside (``cache.db.corrupt-<time>``) and rebuilt.
- A connection never crosses ``fork()``: a child process reopens the database.
- On a network file system (SQLite's locking is unreliable there) a warning points to Redis.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import diskcache
from diskcache.core import MODE_RAW, MODE_TEXT

from .._log import logger
from .base import Store, StoreError, decode_json

_NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "lustre", "gpfs",
                        "beegfs", "glusterfs", "fuse.glusterfs", "ceph", "fuse.ceph"}
_OPEN_ATTEMPTS = 20


class JSONOnlyDisk(diskcache.Disk):
    """diskcache serialisation restricted to str keys and JSON values; never pickles or unpickles."""

    def put(self, key):
        if type(key) is not str:
            raise TypeError("store keys must be str")
        return key, True

    def get(self, key, raw):
        if not raw or type(key) is not str:
            return None  # a non-text key (possibly a pickle) is never loaded; scan() skips it
        return key

    def store(self, value, read, key=diskcache.core.UNKNOWN):
        if read:
            raise TypeError("file values are not supported")
        if type(value) is int and -(1 << 63) <= value < (1 << 63):  # counters: diskcache's incr uses raw ints
            return super().store(value, False, key=key)
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
        return 0, MODE_RAW, None, text

    def fetch(self, mode, filename, value, read):
        if mode == MODE_RAW and type(value) is int:
            return value
        if mode == MODE_RAW and type(value) is str:
            return decode_json(value)
        if mode == MODE_TEXT and filename:
            return decode_json(super().fetch(mode, filename, value, False))
        raise ValueError("refusing a non-JSON value (possibly a pickle) in the store")


class DiskStore(Store):
    """A store in a local folder (see the module docstring for its guarantees)."""

    kind = "disk"

    def __init__(self, directory: str) -> None:
        """Open (creating if needed) the store at ``directory``.

        Raises:
            StoreError: the folder cannot be created or the database cannot be opened.
        """
        self.location = self.directory = os.path.abspath(os.path.expanduser(directory))
        self._cache: diskcache.Cache | None = None
        self._pid = -1
        self._connect()

    # -- connection management -------------------------------------------------------------

    def _connect(self) -> diskcache.Cache:
        if self._cache is not None and self._pid == os.getpid():
            return self._cache
        self._cache = None  # a connection inherited through fork() is abandoned, never used
        try:
            created = not os.path.isdir(self.directory)
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            if created:
                os.chmod(self.directory, 0o700)
        except OSError as exc:
            raise StoreError(f"cannot create the store folder {self.directory}: {exc.strerror}") from None
        if created:
            _warn_if_network_filesystem(self.directory)
        else:
            _check_ownership(self.directory)
        self._cache = self._open_database()
        self._pid = os.getpid()
        _restrict(os.path.join(self.directory, diskcache.core.DBNAME))
        return self._cache

    def _open_database(self) -> diskcache.Cache:
        delay = 0.01
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                return diskcache.Cache(
                    self.directory,
                    timeout=10,
                    disk=JSONOnlyDisk,
                    eviction_policy="none",  # committed verdicts are never evicted
                    statistics=0,
                    tag_index=0,
                    disk_min_file_size=1 << 30,  # keep values inline in SQLite
                )
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise StoreError(f"cannot open the store in {self.directory}: {exc}") from None
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise StoreError(f"the store in {self.directory} stayed locked: {exc}") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
                self._move_aside(exc)
            except OSError as exc:
                raise StoreError(f"cannot open the store in {self.directory}: {exc.strerror}") from None
        raise StoreError(f"cannot open the store in {self.directory}")

    def _move_aside(self, exc: Exception) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        moved = False
        for suffix in ("", "-wal", "-shm"):
            path = os.path.join(self.directory, diskcache.core.DBNAME + suffix)
            if os.path.exists(path):
                try:
                    os.replace(path, f"{path}.corrupt-{stamp}")
                    moved = True
                except OSError:
                    pass
        if not moved:
            raise StoreError(f"the store in {self.directory} is unreadable ({exc}) and cannot be moved aside")
        logger().warning("vision_cache: the store in %s was unreadable (%s); moved it aside as "
                       "cache.db.corrupt-%s and started a new one", self.directory, exc, stamp)

    def _run(self, operation, *args):
        try:
            return operation(self._connect(), *args)
        except StoreError:
            raise
        except (sqlite3.Error, OSError, diskcache.Timeout, ValueError, TypeError) as exc:
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
                self._cache = None  # reopen (and move aside if still corrupt) on the next call
                self._pid = -1
            raise StoreError(f"store {self.directory}: {type(exc).__name__}: {exc}") from None

    # -- Store API -------------------------------------------------------------------------

    def get(self, key: str) -> Any | None:
        return self._run(lambda cache: cache.get(key))

    def get_many(self, keys: list[str]) -> list[Any | None]:
        def operation(cache: diskcache.Cache) -> list[Any | None]:
            return [cache.get(key) for key in keys]

        return self._run(operation)

    def set(self, key: str, value: Any, ttl: float | None) -> None:
        self._run(lambda cache: cache.set(key, value, expire=ttl))

    def add(self, key: str, value: Any, ttl: float | None) -> bool:
        return self._run(lambda cache: cache.add(key, value, expire=ttl))

    def delete(self, key: str) -> bool:
        return self._run(lambda cache: cache.delete(key))

    def compare_and_delete(self, key: str, expected: Any) -> bool:
        def operation(cache: diskcache.Cache) -> bool:
            with cache.transact():
                if cache.get(key) != expected:
                    return False
                return cache.delete(key)

        return self._run(operation)

    def compare_and_touch(self, key: str, expected: Any, ttl: float) -> bool:
        def operation(cache: diskcache.Cache) -> bool:
            with cache.transact():
                return cache.get(key) == expected and cache.touch(key, expire=ttl)

        return self._run(operation)

    def incr(self, key: str, delta: int = 1) -> int:
        return self._run(lambda cache: cache.incr(key, delta))

    def scan(self, prefix: str = "") -> Iterator[tuple[str, Any, float | None]]:
        try:
            keys = list(self._connect().iterkeys())
        except (sqlite3.Error, OSError, ValueError, diskcache.Timeout) as exc:
            raise StoreError(f"store {self.directory}: {exc}") from None
        for key in keys:
            if key is None or not key.startswith(prefix):
                continue
            try:
                value, expires_at = self._connect().get(key, expire_time=True)
            except (sqlite3.Error, ValueError, diskcache.Timeout):
                continue  # malformed or vanished: skip
            if value is not None:
                yield key, value, expires_at

    def expire(self) -> int:
        return self._run(lambda cache: cache.expire())

    def size_bytes(self) -> int | None:
        try:
            return self._run(lambda cache: cache.volume())
        except StoreError:
            return None

    def check(self) -> list[str]:
        problems: list[str] = []
        fs_type = network_filesystem(self.directory)
        if fs_type:
            problems.append(f"{self.directory} is on a network file system ({fs_type}): use Redis to share")
        mode = os.stat(self.directory).st_mode & 0o777
        if mode & 0o077:
            problems.append(f"folder {self.directory} is readable by others (mode {mode:o}; expected 700)")
        database = os.path.join(self.directory, diskcache.core.DBNAME)
        if os.path.exists(database) and os.stat(database).st_mode & 0o077:
            problems.append(f"{database} is readable by others (expected mode 600)")
        import warnings

        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self._run(lambda cache: cache.check())
            problems.extend(str(w.message) for w in caught)
        except StoreError as exc:
            problems.append(str(exc))
        return problems

    def close(self) -> None:
        if self._cache is not None and self._pid == os.getpid():
            self._cache.close()
        self._cache = None


def _restrict(path: str) -> None:
    """Make ``path`` readable by its owner only, if it is ours and is not already (best effort)."""
    try:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass


def _check_ownership(directory: str) -> None:
    """Refuse a folder another user owns (they could read the secret and plant verdicts); tighten our own."""
    if not hasattr(os, "getuid"):
        return
    info = os.stat(directory)
    if info.st_uid != os.getuid():
        raise StoreError(f"the store folder {directory} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o077:
        try:
            os.chmod(directory, 0o700)
        except OSError as exc:
            raise StoreError(f"cannot restrict {directory} to its owner: {exc.strerror}") from None


def network_filesystem(directory: str) -> str | None:
    """The file system type if ``directory`` is on a network file system (per /proc/mounts), else None."""
    try:
        with open("/proc/mounts", encoding="utf-8") as fh:
            mounts = [line.split()[1:3] for line in fh if len(line.split()) > 2]
    except OSError:
        return None
    best = ("", "")
    for mount_point, fs_type in mounts:
        if (directory == mount_point or directory.startswith(mount_point.rstrip("/") + "/")) and \
                len(mount_point) > len(best[0]):
            best = (mount_point, fs_type)
    return best[1] if best[1] in _NETWORK_FILESYSTEMS else None


def _warn_if_network_filesystem(directory: str) -> None:
    """SQLite's locking is unreliable on network file systems (diskcache issue #164)."""
    fs_type = network_filesystem(directory)
    if fs_type:
        logger().warning("vision_cache: %s is on a network file system (%s); SQLite may corrupt there. "
                         "Share verdicts between hosts with VISION_CACHE_URL=redis://... instead.", directory, fs_type)
