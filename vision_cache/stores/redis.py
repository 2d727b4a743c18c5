"""A store on a Redis server, shared by workers on any number of hosts (``VISION_CACHE_URL=redis://...``).

Guarantees, on top of :mod:`.base`:

- Every key is namespaced ``prefix + key``; :meth:`RedisStore.scan` and
  :meth:`RedisStore.size_bytes` only ever touch keys under the prefix, and never FLUSHDB.
- Values are JSON text (``incr`` counters are Redis integers, which read back as JSON numbers).
  Nothing is ever unpickled: a value that is not UTF-8 JSON text (a planted pickle, a foreign
  key of another type) makes ``get`` raise :class:`StoreError` and is skipped by ``scan``.
- Expiry is native (``SET ... PX``), so ``expire`` has nothing to do and returns 0.
- Atomic: ``add`` (``SET NX PX``), ``incr`` (``INCRBY``), and ``compare_and_delete`` /
  ``compare_and_touch`` (Lua scripts comparing the stored JSON text with the expected value's
  JSON text, so ``expected`` must serialise exactly as the stored value did; leases use strings).
- ``scan`` reads values and expiries in pipelined batches, not as one snapshot: an entry changed
  during the scan may be reported with its old or new value; one that expires mid-scan is skipped.
- ``get_many`` is one ``MGET``: one round trip, values read at one instant.
- Any redis-py failure raises :class:`StoreError` and nothing else: :class:`StoreUnavailable` (a
  subclass) when the server or connection fails as a whole (refused, timed out, authentication or
  permission refused, loading, read-only, out of memory), plain :class:`StoreError` for one bad
  entry or argument (a value that is not JSON, WRONGTYPE, a counter that is not an integer), so a
  caller can tell "Redis is down" from "this key is bad". Messages name the URL with its
  credentials masked; the password never appears in ``location``, ``repr`` or any error message.
- Lifetimes are clamped to [1 ms, 100 years]: Redis never refuses one ("invalid expire time").
- Fork safety: redis-py's ``ConnectionPool._checkpid`` compares ``os.getpid()`` with the pool's
  pid before handing out or taking back a connection, and resets the pool in a child process,
  so a socket inherited through ``fork()`` is never used (checked against redis-py 8.1).
- Connecting is lazy: constructing the store never touches the network. A lookup's operations
  wait at most ``lookup_timeout`` (0.25 s) per socket connect or read, and a timeout is not
  retried (a refused or dropped connection is, once), so a hung server costs a caller one short
  wait; whole-namespace operations (scan, clear, size, check) use ``socket_timeout``. The store
  works again as soon as the server is back.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from .base import Store, StoreError, StoreUnavailable, decode_json

try:  # optional dependency: pip install 'vision_cache[redis]'
    import redis as _redis
    from redis.backoff import ExponentialBackoff as _ExponentialBackoff
    from redis.retry import Retry as _Retry
except ImportError:  # pragma: no cover - exercised only without the extra
    _redis = None  # type: ignore[assignment]

_BATCH = 500
_HEALTH_CHECK_INTERVAL = 30
LOOKUP_TIMEOUT = 0.25  # seconds a point operation (a lookup's GET, SET, ...) may wait on one socket read
_MAX_TTL_SECONDS = 100 * 365 * 86400  # a century: longer lifetimes are clamped (Redis refuses PX past 2**63 ms)
_SENSITIVE_QUERY = re.compile(r"pass|user|auth|token|secret|cred|key", re.IGNORECASE)
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")

# KEYS[1]: the key; ARGV[1]: expected JSON text. Deletes only if the stored text is exactly that.
_COMPARE_AND_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS[1]: the key; ARGV[1]: expected JSON text; ARGV[2]: new lifetime in milliseconds.
_COMPARE_AND_TOUCH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


def mask_url(url: str) -> str:
    """``url`` with its user name, password and credential-like query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = "***@" + netloc.rpartition("@")[2]
        query = parts.query
        if query:
            query = urlencode([(name, "***" if _SENSITIVE_QUERY.search(name) else value)
                               for name, value in parse_qsl(query, keep_blank_values=True)], safe="*/")
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "<unparseable redis URL>"


def _escape_glob(text: str) -> str:
    return _GLOB_SPECIAL.sub(r"\\\1", text)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot store a non-JSON value: {exc}") from None


def _milliseconds(ttl: float) -> int:
    """A lifetime in whole milliseconds for ``PX``: at least 1 (0 or less expires at once, as in the other
    stores), at most a century (so Redis never refuses it with "invalid expire time")."""
    try:
        seconds = float(ttl)
    except OverflowError:  # an int too large for a float: finite, so clamped like any long lifetime
        seconds = _MAX_TTL_SECONDS if ttl > 0 else 0.0
    except (TypeError, ValueError):
        raise StoreError(f"a ttl must be a number of seconds, not {type(ttl).__name__}") from None
    if seconds != seconds:  # NaN
        raise StoreError("a ttl must be a number of seconds, not NaN")
    if seconds == math.inf:
        raise StoreError("an infinite ttl is written as None")
    if seconds >= _MAX_TTL_SECONDS:
        return _MAX_TTL_SECONDS * 1000
    return max(1, math.ceil(seconds * 1000)) if seconds > 0 else 1


def _is_unavailable(exc: BaseException) -> bool:
    """True for failures of the server or connection as a whole, False for one bad entry or argument.

    Unavailable: no connection, a timeout, a broken reply stream, authentication or permission refused,
    and the server refusing service (loading, read-only replica, out of memory, busy script, cluster
    down). Entry-level: WRONGTYPE, a value that is not an integer, an invalid argument, a value that
    is not JSON (those are ``ValueError`` here).
    """
    if isinstance(exc, OSError | _redis.exceptions.ChildDeadlockedError):
        return True
    errors = _redis.exceptions
    if isinstance(exc, errors.ConnectionError | errors.TimeoutError | errors.InvalidResponse
                  | errors.AuthenticationWrongNumberOfArgsError | errors.NoPermissionError | errors.ReadOnlyError
                  | errors.OutOfMemoryError | errors.ClusterDownError | errors.TryAgainError):
        return True
    return isinstance(exc, errors.ResponseError) and str(exc).startswith(("BUSY ", "NOAUTH", "MASTERDOWN"))


class RedisStore(Store):
    """A store under ``prefix`` in one Redis database (see the module docstring for its guarantees)."""

    kind = "redis"

    def __init__(self, url: str, prefix: str = "vision_cache:", *, socket_timeout: float = 2.0,
                 lookup_timeout: float = LOOKUP_TIMEOUT) -> None:
        """Prepare clients for ``url`` (``redis://``, ``rediss://`` or ``unix://``); connects lazily.

        ``lookup_timeout`` bounds each socket connect and read of the point operations a lookup makes
        (get, set, add, delete, incr, the compare-and-* scripts, the secret); ``socket_timeout`` those
        of whole-namespace operations (scan, clear, size, check), which only tools run.

        Raises:
            StoreError: the redis package is missing, or redis-py rejects the URL.
        """
        self.location = mask_url(url)
        self.prefix = prefix
        self._secrets = self._credentials(url)
        self._expiry_command: str | None = None  # "PEXPIRETIME" (Redis >= 7) or "PTTL"
        if _redis is None:
            raise StoreError("the redis package is needed for redis:// URLs: "
                             "pip install 'vision_cache[redis]'")
        try:
            self._client = self._make_client(url, lookup_timeout)
            self._bulk_client = self._make_client(url, socket_timeout)
            self._compare_and_delete = self._client.register_script(_COMPARE_AND_DELETE)
            self._compare_and_touch = self._client.register_script(_COMPARE_AND_TOUCH)
        except (ValueError, TypeError, _redis.RedisError) as exc:
            raise StoreError(f"invalid redis URL {self.location}: {self._clean(str(exc))}") from None

    @staticmethod
    def _make_client(url: str, timeout: float) -> Any:
        return _redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=_HEALTH_CHECK_INTERVAL,
            # redis-py's default is 10 retries with backoff: ~20 s of stalls per call on a silent
            # network. One quick retry covers a pooled connection the server has dropped; a timeout
            # is not retried (the server is there but not answering: waiting twice helps nobody).
            retry=_Retry(_ExponentialBackoff(cap=0.1, base=0.01), 1, supported_errors=(_redis.ConnectionError,)),
        )

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _credentials(url: str) -> list[str]:
        """Every spelling of the credentials in ``url``, to scrub from messages."""
        found: set[str] = set()
        try:
            parts = urlsplit(url)
            userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
            if userinfo:
                password = userinfo.partition(":")[2]
                found.update(p for p in (password, unquote(password), quote(unquote(password), safe="")) if p)
            for name, value in parse_qsl(parts.query, keep_blank_values=True):
                if _SENSITIVE_QUERY.search(name) and value:
                    found.update((value, quote(value, safe="")))
        except ValueError:
            pass
        found.add(url)
        return sorted(found, key=len, reverse=True)  # longest first: a password containing another

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error(self, exc: BaseException, doing: str) -> StoreError:
        """:class:`StoreUnavailable` for a failure of the server or connection, else :class:`StoreError`."""
        detail = self._clean(str(exc)) or "no detail"
        kind = StoreUnavailable if _is_unavailable(exc) else StoreError
        return kind(f"redis store {self.location}: {doing} failed: {type(exc).__name__}: {detail}")

    def _call(self, doing: str, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return operation(*args, **kwargs)
        except StoreError:
            raise
        except (_redis.RedisError, _redis.exceptions.ChildDeadlockedError, OSError, ValueError,
                TypeError) as exc:
            raise self._error(exc, doing) from None

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _decode(self, raw: bytes | str | int) -> Any:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")  # UnicodeDecodeError is a ValueError
        if isinstance(raw, int):
            return raw
        return decode_json(raw)

    # -- Store API -------------------------------------------------------------------------

    def get(self, key: str) -> Any | None:
        raw = self._call("GET", self._client.get, self._key(key))
        if raw is None:
            return None
        try:
            return self._decode(raw)
        except ValueError:
            raise StoreError(f"redis store {self.location}: the value under {key!r} is not JSON "
                             "(refusing to load it)") from None

    def get_text(self, key: str) -> str | None:
        raw = self._call("GET", self._client.get, self._key(key))
        if raw is None or isinstance(raw, str):
            return raw
        try:
            return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError:
            raise StoreError(f"redis store {self.location}: the value under {key!r} is not JSON "
                             "(refusing to load it)") from None

    def set(self, key: str, value: Any, ttl: float | None) -> None:
        text = _dumps(value)
        px = None if ttl is None else _milliseconds(ttl)
        self._call("SET", self._client.set, self._key(key), text, px=px)

    def add(self, key: str, value: Any, ttl: float | None) -> bool:
        text = _dumps(value)
        px = None if ttl is None else _milliseconds(ttl)
        return bool(self._call("SET NX", self._client.set, self._key(key), text, px=px, nx=True))

    def delete(self, key: str) -> bool:
        return bool(self._call("DEL", self._client.delete, self._key(key)))

    def compare_and_delete(self, key: str, expected: Any) -> bool:
        text = _dumps(expected)
        return bool(self._call("compare-and-delete", self._compare_and_delete, keys=[self._key(key)],
                               args=[text]))

    def compare_and_touch(self, key: str, expected: Any, ttl: float) -> bool:
        text = _dumps(expected)
        return bool(self._call("compare-and-touch", self._compare_and_touch, keys=[self._key(key)],
                               args=[text, _milliseconds(ttl)]))

    def incr(self, key: str, delta: int = 1) -> int:
        if type(delta) is not int:
            raise StoreError(f"incr needs an int delta, not {type(delta).__name__}")
        return int(self._call("INCRBY", self._client.incrby, self._key(key), delta))

    def _namespace_keys(self, prefix: str = "") -> Iterator[bytes]:
        """Every key under ``self.prefix + prefix`` once (SCAN may repeat keys)."""
        pattern = _escape_glob(self.prefix + prefix) + "*"
        seen: set[bytes] = set()
        cursor = 0
        while True:
            cursor, keys = self._call("SCAN", self._bulk_client.scan, cursor, match=pattern, count=_BATCH)
            for raw_key in keys:
                if raw_key not in seen:
                    seen.add(raw_key)
                    yield raw_key
            if not cursor:
                return

    def _expiry_probe(self) -> str:
        if self._expiry_command is None:
            try:
                self._bulk_client.execute_command("PEXPIRETIME", self._key(""))
                self._expiry_command = "PEXPIRETIME"
            except _redis.ResponseError:  # Redis < 7: unknown command
                self._expiry_command = "PTTL"
            except (_redis.RedisError, OSError) as exc:
                raise self._error(exc, "PEXPIRETIME") from None
        return self._expiry_command

    def _scan_batch(self, raw_keys: list[bytes], command: str) -> Iterator[tuple[str, Any, float | None]]:
        def fetch() -> tuple[Any, float]:
            pipe = self._bulk_client.pipeline(transaction=False)
            for raw_key in raw_keys:
                pipe.get(raw_key)
                pipe.execute_command(command, raw_key)
            return pipe.execute(raise_on_error=False), time.time()

        results, now = self._call("scan batch", fetch)
        strip = len(self.prefix.encode("utf-8"))
        for index, raw_key in enumerate(raw_keys):
            raw, expiry = results[2 * index], results[2 * index + 1]
            if raw is None or isinstance(raw, Exception) or isinstance(expiry, Exception):
                continue  # gone, or not a string (WRONGTYPE): skip
            try:
                key = raw_key[strip:].decode("utf-8")
                value = self._decode(raw)
            except ValueError:
                continue  # a non-UTF-8 key or a non-JSON value (possibly a pickle): skip
            if expiry == -2:
                continue  # expired between the two reads
            if expiry == -1:
                expires_at = None
            elif command == "PEXPIRETIME":
                expires_at = expiry / 1000
            else:
                expires_at = now + expiry / 1000
            yield key, value, expires_at

    def scan(self, prefix: str = "") -> Iterator[tuple[str, Any, float | None]]:
        command = self._expiry_probe()
        batch: list[bytes] = []
        for raw_key in self._namespace_keys(prefix):
            batch.append(raw_key)
            if len(batch) >= _BATCH:
                yield from self._scan_batch(batch, command)
                batch = []
        if batch:
            yield from self._scan_batch(batch, command)

    def expire(self) -> int:
        return 0  # Redis drops expired keys itself

    def get_many(self, keys: list[str]) -> list[Any | None]:
        if not keys:
            return []
        raws = self._call("MGET", self._client.mget, [self._key(key) for key in keys])
        values = []
        for key, raw in zip(keys, raws, strict=True):
            try:
                values.append(None if raw is None else self._decode(raw))
            except ValueError:
                raise StoreError(f"redis store {self.location}: the value under {key!r} is not JSON "
                                 "(refusing to load it)") from None
        return values

    def ping(self) -> None:
        self._call("PING", self._client.ping)

    def get_raw(self, key: str) -> bytes | None:
        raw = self._call("GET", self._client.get, self._key(key))
        return raw if isinstance(raw, bytes) else None

    def size_bytes(self) -> int | None:
        try:
            total = 0
            keys = list(self._namespace_keys())
            for start in range(0, len(keys), _BATCH):
                batch = keys[start:start + _BATCH]
                pipe = self._bulk_client.pipeline(transaction=False)
                for raw_key in batch:
                    pipe.memory_usage(raw_key)
                results = self._call("MEMORY USAGE", pipe.execute, raise_on_error=False)
                total += sum(r for r in results if isinstance(r, int))
            return total
        except StoreError:
            return None

    def check(self) -> list[str]:
        problems: list[str] = []
        try:
            self._call("PING", self._bulk_client.ping)
        except StoreError as exc:
            return [str(exc)]
        try:  # eviction may drop the secret (changing every fingerprint) or a lease; CONFIG may be disabled
            reply = self._bulk_client.config_get("maxmemory-policy")
            policy = reply.get("maxmemory-policy") or reply.get(b"maxmemory-policy") or ""
            policy = policy.decode() if isinstance(policy, bytes) else str(policy)
            if policy.startswith("allkeys-"):
                problems.append(f"redis store {self.location}: maxmemory-policy is {policy}, which may evict "
                                "verdicts and the secret; use noeviction or a volatile-* policy")
        except (_redis.RedisError, OSError, AttributeError, UnicodeDecodeError):
            pass
        return problems

    def close(self) -> None:
        for client in (self._client, self._bulk_client):
            try:
                client.close()  # disconnects the pool; the next call reconnects
            except (_redis.RedisError, OSError):
                pass
