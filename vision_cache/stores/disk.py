"""The default store: a ``diskcache`` folder that every process on this host may open at once.

Guarantees, on top of :mod:`.base`:

- Values are JSON text in SQLite; :class:`JSONOnlyDisk` refuses to unpickle anything, so a
  planted pickle in a shared folder is treated as a corrupt entry (skipped), never executed.
- Values are never files: nothing outside SQLite is read, stat'ed or removed because of store
  contents (a planted row naming ``../../x`` or ``/x`` as its value file is a bad entry, and
  deleting, replacing or expiring it removes the row only).
- Nothing is evicted: diskcache's eviction is off, so a ``vision`` verdict stays until purged.
- The folder is created 0700 and the database 0600 (it holds the per-install secret).
  Concurrent first opens are retried (diskcache issue #85, "database is locked" while the schema is created).
- A database that SQLite cannot read is moved aside (``cache.db.corrupt-<time>-<pid>-<random>``,
  with its ``-wal`` and ``-shm``) and rebuilt, by one process at a time: processes that meet it
  together queue on ``recovery.lock`` (``flock``) and re-check before moving anything, so each
  corruption leaves exactly one set of aside files and no healthy database is moved aside.
- A connection whose database file was renamed or replaced (by a recovering process) is noticed
  before the next operation (the path's inode changed) and reopened; an operation failing with
  "readonly database", "disk I/O error" or an unreadable-database error reopens and is retried once.
- A connection never crosses ``fork()``: a child process reopens the database.
- On a network file system (SQLite's locking is unreliable there) a warning points to Redis.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import diskcache
from diskcache.core import MODE_RAW

from .._log import logger
from .base import Store, StoreError, decode_json

_NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "lustre", "gpfs",
                        "beegfs", "glusterfs", "fuse.glusterfs", "ceph", "fuse.ceph"}
RECOVERY_LOCK_FILE = "recovery.lock"
_OPEN_ATTEMPTS = 20
_MOVED_ATTEMPTS = 3  # "readonly database" / "disk I/O error" while a peer swaps the file: retried briefly
_LOCK_WAIT = 60.0  # seconds to wait for another process's recovery (it opens SQLite with a 10 s timeout)


class JSONOnlyDisk(diskcache.Disk):
    """diskcache serialisation restricted to str keys and JSON values; never pickles or unpickles.

    Values are always inline in SQLite: this disk never writes a value file. So a row whose
    ``filename`` column is set was planted (it may name any path: ``../../x``, ``/etc/x``, a FIFO),
    and nothing it names is ever opened, stat'ed or removed: :meth:`fetch` refuses the entry (a
    bad entry: ``get`` raises, ``scan`` skips it) and :meth:`remove` does nothing, so deleting,
    replacing, expiring or culling such a row drops the row only.
    """

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
        if filename is not None:
            raise ValueError("refusing an entry that names a value file (vision_cache never writes one)")
        if mode == MODE_RAW and type(value) is int:
            return value
        if mode == MODE_RAW and type(value) is str:
            return decode_json(value)
        raise ValueError("refusing a non-JSON value (possibly a pickle) in the store")

    def remove(self, file_path):
        """Remove nothing. diskcache calls this with a row's ``filename`` (joined to the store folder,
        then it removes the emptied parent folders) when the row is deleted, replaced, expired or
        culled; our rows never have one, so any name here comes from a planted row."""
        return None

    def filename(self, key=diskcache.core.UNKNOWN, value=diskcache.core.UNKNOWN):
        raise TypeError("file values are not supported")


class DiskStore(Store):
    """A store in a local folder (see the module docstring for its guarantees)."""

    kind = "disk"

    def __init__(self, directory: str) -> None:
        """Open (creating if needed) the store at ``directory``.

        Raises:
            StoreError: the folder cannot be created or the database cannot be opened.
        """
        self.location = self.directory = os.path.abspath(os.path.expanduser(directory))
        self._db_path = os.path.join(self.directory, diskcache.core.DBNAME)
        self._cache: diskcache.Cache | None = None
        self._db_identity: tuple[int, int] | None = None
        self._pid = -1
        self._connect()

    # -- connection management -------------------------------------------------------------

    def _connect(self) -> diskcache.Cache:
        if self._cache is not None and self._pid == os.getpid():
            if _identity(self._db_path) == self._db_identity:
                return self._cache
            self._drop()  # the database was moved aside (by a recovering process): use the new one
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
        self._db_identity = _identity(self._db_path)
        self._pid = os.getpid()
        _restrict(os.path.join(self.directory, diskcache.core.DBNAME))
        return self._cache

    def _drop(self) -> None:
        """Forget this process's connection; the next operation reopens the database."""
        if self._cache is not None and self._pid == os.getpid():
            try:
                self._cache.close()
            except sqlite3.Error:
                pass
        self._cache = None
        self._pid = -1

    def _open_cache(self) -> diskcache.Cache:
        return diskcache.Cache(
            self.directory,
            timeout=10,
            disk=JSONOnlyDisk,
            eviction_policy="none",  # committed verdicts are never evicted
            statistics=0,
            tag_index=0,
            disk_min_file_size=1 << 30,  # keep values inline in SQLite
        )

    def _open_database(self) -> diskcache.Cache:
        delay = 0.01
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                return self._open_cache()
            except sqlite3.OperationalError as exc:
                transient = _is_busy(exc) or (_is_moved(exc) and attempt < _MOVED_ATTEMPTS)
                if not transient:
                    raise StoreError(f"cannot open the store in {self.directory}: {exc}") from None
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise StoreError(f"the store in {self.directory} stayed locked: {exc}") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
                cache = self._recover(exc)
                if cache is not None:
                    return cache
            except OSError as exc:
                raise StoreError(f"cannot open the store in {self.directory}: {exc.strerror}") from None
        raise StoreError(f"cannot open the store in {self.directory}")

    def _recover(self, exc: Exception) -> diskcache.Cache | None:
        """Move an unreadable database aside and open a new one, one process at a time.

        Processes that meet the same unreadable database queue on a lock file; each re-checks once
        it holds the lock, so only the first moves the database aside (later ones open the rebuilt
        one). None: the database is busy (another process is creating it); the caller retries.
        """
        with _exclusive(os.path.join(self.directory, RECOVERY_LOCK_FILE), self.directory):
            try:
                return self._open_cache()  # rebuilt by another process while we waited?
            except sqlite3.OperationalError:
                return None
            except sqlite3.DatabaseError as still:
                self._move_aside(still)
            try:
                return self._open_cache()  # the schema is created while the lock is held
            except sqlite3.OperationalError:
                return None

    def _move_aside(self, exc: Exception) -> None:
        """Rename the database and its journal files to ``<name>.corrupt-<time>-<pid>-<random>``.

        The journal files go first: a ``-wal`` left beside a new database would be replayed into it.
        """
        token = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{os.urandom(3).hex()}"
        moved = False
        for suffix in ("-wal", "-shm", ""):
            path = self._db_path + suffix
            try:
                os.replace(path, f"{path}.corrupt-{token}")
                moved = True
            except FileNotFoundError:
                continue
            except OSError as err:
                raise StoreError(f"the store in {self.directory} is unreadable ({exc}) and cannot be moved "
                                 f"aside: {err.strerror}") from None
        if moved:
            logger().warning("vision_cache: the store in %s was unreadable (%s); moved it aside as "
                             "cache.db.corrupt-%s and started a new one", self.directory, exc, token)

    def _run(self, operation, *args):
        for attempt in range(2):
            try:
                return operation(self._connect(), *args)
            except StoreError:
                raise
            except (sqlite3.Error, OSError, diskcache.Timeout, ValueError, TypeError) as exc:
                if isinstance(exc, sqlite3.DatabaseError) and (
                        _is_moved(exc) or not isinstance(exc, sqlite3.OperationalError)):
                    self._drop()  # reopen (moving aside what is still unreadable), then try once more
                    if attempt == 0:
                        continue
                raise StoreError(f"store {self.directory}: {type(exc).__name__}: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

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
        cache, keys = self._run(lambda cache: (cache, list(cache.iterkeys())))
        for key in keys:
            if key is None or not key.startswith(prefix):
                continue
            try:
                value, expires_at = cache.get(key, expire_time=True)
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
        try:
            problems.extend(self._run(lambda cache: _database_problems(cache.directory)))
        except StoreError as exc:
            problems.append(str(exc))
        return problems

    def close(self) -> None:
        self._drop()


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _is_moved(exc: sqlite3.Error) -> bool:
    """SQLite's errors for a database file renamed or replaced under an open connection."""
    text = str(exc)
    return "readonly database" in text or "disk I/O error" in text


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


@contextlib.contextmanager
def _exclusive(lock_path: str, directory: str):
    """Hold an exclusive ``flock`` on ``lock_path`` (created 0600), waiting at most ``_LOCK_WAIT`` s.

    Without ``fcntl`` (Windows) nothing is locked: recovery is then per process, as before.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                     0o600)
    except OSError as exc:
        raise StoreError(f"cannot create the lock file {lock_path}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + _LOCK_WAIT
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(f"another process has been repairing the store in {directory} "
                                     f"for over {_LOCK_WAIT:g} s") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        yield
    finally:
        os.close(fd)  # releases the lock


def _database_problems(directory: str) -> list[str]:
    """SQLite's integrity check, and rows naming a value file (planted: we never write one).

    diskcache's own ``Cache.check`` is not used: it stats every path such a row names, wherever it
    points, and reports our secret file as an unknown file.
    """
    path = os.path.join(directory, diskcache.core.DBNAME)
    db = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=10)
    try:
        problems = [f"{path}: integrity check: {message}"
                    for (message,) in db.execute("PRAGMA integrity_check").fetchall() if message != "ok"]
        (planted,) = db.execute("SELECT COUNT(*) FROM Cache WHERE filename IS NOT NULL").fetchone()
    finally:
        db.close()
    if planted:
        problems.append(f"{path}: {planted} entries name a value file, which vision_cache never writes "
                        "(planted?); they are ignored, and purging them removes no file")
    return problems


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
