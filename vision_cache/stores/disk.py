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
- Reads never write: ``get``, ``get_many`` and ``get_text`` read ``cache.db`` through SQLite
  connections opened read-only (``mode=ro``), one per thread, with diskcache's own query (key, raw
  flag, expiry) and :class:`JSONOnlyDisk`'s refusals; diskcache itself (whose opening upserts its
  settings: a write, and the write lock, per process) is imported and opened on the first write
  only. A reader re-checks at most every 0.1 s that the file at the path is still the one it
  opened. This reads diskcache's table directly, so the supported diskcache versions are pinned
  (see pyproject.toml); ``tests/test_disk_store.py`` checks the reads agree with diskcache's.
- On a network file system (SQLite's locking is unreliable there) a warning points to Redis.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from .._log import logger
from .base import Store, StoreError, decode_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager
    from typing import Any, TypeVar

    T = TypeVar("T")

    import diskcache

_NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "lustre", "gpfs",
                        "beegfs", "glusterfs", "fuse.glusterfs", "ceph", "fuse.ceph"}
RECOVERY_LOCK_FILE = "recovery.lock"
_OPEN_ATTEMPTS = 20
_MOVED_ATTEMPTS = 3  # "readonly database" / "disk I/O error" while a peer swaps the file: retried briefly
_LOCK_WAIT = 60.0  # seconds to wait for another process's recovery (it opens SQLite with a 10 s timeout)
DBNAME = "cache.db"  # diskcache.core.DBNAME
_MODE_RAW = 1  # diskcache.core.MODE_RAW
_RECHECK = 0.1  # seconds: how often a reader checks that the database file is still the one it opened
# diskcache's own query for Cache.get (5.6), without the columns it needs for statistics and eviction
_SELECT = ("SELECT value, mode, filename FROM Cache"
           " WHERE key = ? AND raw = 1 AND (expire_time IS NULL OR expire_time > ?)")
_SELECT_MANY = ("SELECT key, value, mode, filename FROM Cache"
                " WHERE key IN ({}) AND raw = 1 AND (expire_time IS NULL OR expire_time > ?)")
_MANY = 500  # keys per query (SQLite allows at least 999 parameters)
_SCAN_BATCH = 1000
_SCAN = ("SELECT key, value, mode, filename, expire_time FROM Cache WHERE raw = 1 AND substr(key, 1, ?) = ?"
         f" AND (expire_time IS NULL OR expire_time > ?) ORDER BY key LIMIT {_SCAN_BATCH}")
_SCAN_FROM = _SCAN.replace(" ORDER BY", " AND key > ? ORDER BY")

_forks = 0  # fork() count in this process's ancestry: a reader opened under another count is abandoned


def _forked() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def __getattr__(name: str) -> Any:  # JSONOnlyDisk lives in .jsondisk (it imports diskcache)
    if name == "JSONOnlyDisk":
        from .jsondisk import JSONOnlyDisk

        return JSONOnlyDisk
    raise AttributeError(name)


class _Reader(threading.local):
    """One thread's read-only connection to ``cache.db``."""

    con: sqlite3.Connection | None = None
    forks = -1  # _forks when opened
    epoch = -1  # the store's epoch when opened (closing or reopening the store bumps it)
    identity: tuple[int, int] | None = None  # the database file's (device, inode) when opened
    check_at = 0.0  # monotonic time of the next identity check


class DiskStore(Store):
    """A store in a local folder (see the module docstring for its guarantees)."""

    kind = "disk"

    def __init__(self, directory: str) -> None:
        """Open (creating if needed) the store at ``directory``. An existing database is not touched
        until it is read (read-only) or written (through diskcache).

        Raises:
            StoreError: the folder cannot be created or written, or the database cannot be opened.
        """
        self.location = self.directory = os.path.abspath(os.path.expanduser(directory))
        self._db_path = os.path.join(self.directory, DBNAME)
        self._cache: diskcache.Cache | None = None
        self._db_identity: tuple[int, int] | None = None
        self._pid = -1
        self._reader = _Reader()
        self._readers: list[tuple[int, sqlite3.Connection]] = []  # (forks, connection) of every thread
        self._readers_lock = threading.Lock()
        self._epoch = 0
        try:
            info = os.stat(self.directory)
        except FileNotFoundError:
            self._connect()  # creates the folder and the database
            return
        except OSError as exc:
            raise StoreError(f"cannot create the store folder {self.directory}: {exc.strerror}") from None
        _check_ownership(self.directory, info)
        if not os.path.exists(self._db_path):
            self._connect()
        elif not (os.access(self.directory, os.W_OK) and os.access(self._db_path, os.R_OK | os.W_OK)):
            raise StoreError(f"the store in {self.directory} is not writable by this user")

    # -- connection management -------------------------------------------------------------

    def _connect(self) -> diskcache.Cache:
        """diskcache's connection (for writes), opened on first use."""
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
        _restrict(self._db_path)
        return self._cache

    def _read_connection(self) -> sqlite3.Connection:
        """This thread's read-only connection (see the module docstring)."""
        reader = self._reader
        con = reader.con
        if con is not None and reader.epoch == self._epoch and reader.forks == _forks \
                and time.monotonic() < reader.check_at:
            return con
        return self._open_reader(reader)

    def _open_reader(self, reader: _Reader) -> sqlite3.Connection:
        identity = _identity(self._db_path)
        current = reader.con is not None and reader.forks == _forks  # opened in this process
        if current and reader.epoch == self._epoch and identity == reader.identity and identity is not None:
            reader.check_at = time.monotonic() + _RECHECK
            return reader.con  # type: ignore[return-value]  # current: opened, so not None
        if current and reader.con is not None:
            _close_quietly(reader.con)
        reader.con = None  # one inherited through fork() is abandoned, never used
        if identity is None:
            raise sqlite3.OperationalError("no database file yet")  # the write path creates it
        con = sqlite3.connect(_read_only_uri(self._db_path), uri=True, timeout=10, isolation_level=None,
                              check_same_thread=False)
        reader.con, reader.forks, reader.epoch, reader.identity = con, _forks, self._epoch, identity
        reader.check_at = time.monotonic() + _RECHECK
        with self._readers_lock:
            self._readers.append((_forks, con))
        return con

    def _drop_readers(self) -> None:
        """Close every thread's read-only connection; each reopens on its next read."""
        with self._readers_lock:
            readers, self._readers = self._readers, []
            self._epoch += 1
        for forks, con in readers:
            if forks == _forks:
                _close_quietly(con)

    def _rows(self, query: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]] | None:
        """Rows of a read-only query, or None if the read path cannot answer (no database yet, being
        created, moved, unreadable...): the caller then asks diskcache, which repairs what it must."""
        try:
            return self._read_connection().execute(query, parameters).fetchall()
        except sqlite3.Error:
            self._drop_readers()
            return None

    def _value(self, key: str, value: Any, mode: int, filename: Any) -> Any:
        """A row's value, refused as :class:`JSONOnlyDisk` refuses it (a planted file or pickle)."""
        if filename is None and mode == _MODE_RAW:
            if type(value) is int:
                return value
            if type(value) is str:
                try:
                    return decode_json(value)
                except ValueError as exc:
                    raise StoreError(f"store {self.directory}: ValueError: {exc}") from None
        raise StoreError(f"store {self.directory}: ValueError: refusing the entry under {key!r}: it names a "
                         "value file or is not JSON (possibly a pickle); vision_cache never writes either")

    def _drop(self) -> None:
        """Forget this process's connections; the next operation reopens the database. The read-only
        ones close first: the last connection to close checkpoints the log, and only a writer can."""
        self._drop_readers()
        if self._cache is not None and self._pid == os.getpid():
            try:
                self._cache.close()
            except sqlite3.Error:
                pass
        self._cache = None
        self._pid = -1

    def _open_cache(self) -> diskcache.Cache:
        import diskcache

        from .jsondisk import JSONOnlyDisk

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

    def _run(self, operation: Callable[..., T], *args: Any) -> T:
        import diskcache

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
        rows = self._rows(_SELECT, (key, time.time()))
        if rows is None:
            return self._run(lambda cache: cache.get(key))
        return self._value(key, *rows[0]) if rows else None

    def get_text(self, key: str) -> str | bytes | None:
        rows = self._rows(_SELECT, (key, time.time()))
        if rows is None:
            return super().get_text(key)
        if not rows:
            return None
        value, mode, filename = rows[0]
        if filename is None and mode == _MODE_RAW and type(value) is str:
            return value  # parsed (and refused if it is not JSON) by the caller
        return str(self._value(key, value, mode, filename))  # an int counter, or refused

    def get_many(self, keys: list[str]) -> list[Any | None]:
        found: dict[str, Any] = {}
        for start in range(0, len(keys), _MANY):
            chunk = keys[start:start + _MANY]
            rows = self._rows(_SELECT_MANY.format(",".join("?" * len(chunk))), (*chunk, time.time()))
            if rows is None:
                return self._run(lambda cache: [cache.get(key) for key in keys])
            for key, value, mode, filename in rows:
                if filename is None and mode == _MODE_RAW and type(value) is str:  # the usual row, inline
                    try:
                        found[key] = decode_json(value)
                        continue
                    except ValueError:
                        pass
                found[key] = self._value(key, value, mode, filename)
        return [found.get(key) for key in keys]

    def set(self, key: str, value: Any, ttl: float | None) -> None:
        self._run(lambda cache: cache.set(key, value, expire=ttl))

    def add(self, key: str, value: Any, ttl: float | None) -> bool:
        return bool(self._run(lambda cache: cache.add(key, value, expire=ttl)))

    def delete(self, key: str) -> bool:
        return bool(self._run(lambda cache: cache.delete(key)))

    def compare_and_delete(self, key: str, expected: Any) -> bool:
        def operation(cache: diskcache.Cache) -> bool:
            with cache.transact():
                if cache.get(key) != expected:
                    return False
                return bool(cache.delete(key))

        return self._run(operation)

    def compare_and_touch(self, key: str, expected: Any, ttl: float) -> bool:
        def operation(cache: diskcache.Cache) -> bool:
            with cache.transact():
                return bool(cache.get(key) == expected and cache.touch(key, expire=ttl))

        return self._run(operation)

    def incr(self, key: str, delta: int = 1) -> int:
        return int(self._run(lambda cache: cache.incr(key, delta)))

    def scan(self, prefix: str = "") -> Iterator[tuple[str, Any, float | None]]:
        """Entries in key order, read in batches (each its own read, so no snapshot is held open)."""
        after = None
        while True:
            rows = self._rows(_SCAN_FROM if after is not None else _SCAN,
                              (len(prefix), prefix, time.time(), *(() if after is None else (after,))))
            if rows is None:
                yield from self._scan_with_diskcache(prefix, after)
                return
            for key, value, mode, filename, expires_at in rows:
                after = key
                if type(key) is not str:
                    continue  # not a text key (possibly a pickle): never loaded
                try:
                    value = self._value(key, value, mode, filename)
                except StoreError:
                    continue  # malformed: skip
                yield key, value, expires_at
            if len(rows) < _SCAN_BATCH:
                return

    def _scan_with_diskcache(self, prefix: str, after: str | None) -> Iterator[tuple[str, Any, float | None]]:
        import diskcache

        cache, keys = self._run(lambda cache: (cache, list(cache.iterkeys())))
        for key in keys:
            if key is None or not key.startswith(prefix) or (after is not None and key <= after):
                continue
            try:
                value, expires_at = cache.get(key, expire_time=True)
            except (sqlite3.Error, ValueError, diskcache.Timeout):
                continue  # malformed or vanished: skip
            if value is not None:
                yield key, value, expires_at

    def expire(self) -> int:
        return int(self._run(lambda cache: cache.expire()))

    def size_bytes(self) -> int | None:
        try:
            return int(self._run(lambda cache: cache.volume()))
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
        database = self._db_path
        if os.path.exists(database) and os.stat(database).st_mode & 0o077:
            problems.append(f"{database} is readable by others (expected mode 600)")
        try:
            problems.extend(self._run(lambda cache: _database_problems(cache.directory)))
        except StoreError as exc:
            problems.append(str(exc))
        return problems

    def close(self) -> None:
        self._drop()


def _read_only_uri(path: str) -> str:
    """An SQLite URI opening ``path`` read-only (``%``, ``?`` and ``#`` escaped, as URIs need)."""
    return "file:" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23") + "?mode=ro"


def _close_quietly(con: sqlite3.Connection) -> None:
    try:
        con.close()
    except sqlite3.Error:
        pass


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


def _exclusive(lock_path: str, directory: str) -> AbstractContextManager[None]:
    """:func:`_hold_exclusive` as a context manager (contextlib is imported only here: a rare path)."""
    import contextlib

    return contextlib.contextmanager(_hold_exclusive)(lock_path, directory)


def _hold_exclusive(lock_path: str, directory: str) -> Iterator[None]:
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
    path = os.path.join(directory, DBNAME)
    db = sqlite3.connect(_read_only_uri(path), uri=True, timeout=10)
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


def _check_ownership(directory: str, info: os.stat_result | None = None) -> None:
    """Refuse a folder another user owns (they could read the secret and plant verdicts); tighten our own."""
    if not hasattr(os, "getuid"):
        return
    info = os.stat(directory) if info is None else info
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
