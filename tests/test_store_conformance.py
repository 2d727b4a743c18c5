"""One conformance suite for every Store backend (disk, memory, redis), plus Redis-only guarantees.

The redis parameter needs a server at 127.0.0.1:6379; without one it is skipped, except when the
``CI`` environment variable is set, where a missing server fails the run instead.

"""

from __future__ import annotations

import os
import pickle
import threading
import time
import traceback
from uuid import uuid4

import pytest
from conftest import REDIS_URL, require_redis

from vision_cache.lease import Lease
from vision_cache.stores.base import Store, StoreError
from vision_cache.stores.disk import DiskStore
from vision_cache.stores.memory import MemoryStore

SHORT_TTL = 0.3
PAST_SHORT_TTL = 0.45

def glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


def raw_redis():
    import redis

    return redis.Redis(host="127.0.0.1", port=6379, db=0)


# -- the three factories ---------------------------------------------------------------------


class StoreFactory:
    """Opens stores of one backend on one location; ``shared``: two instances see the same data."""

    def __init__(self, kind: str, tmp_path) -> None:
        self.kind = kind
        self.shared = kind != "memory"
        self.opened: list[Store] = []
        self.directory = str(tmp_path / "store")
        self.prefix = f"vc-test-{uuid4().hex}:"
        self._memory: MemoryStore | None = None

    def open(self) -> Store:
        """A new instance on the same location (for memory: the one instance, nothing is shared)."""
        if self.kind == "disk":
            store: Store = DiskStore(self.directory)
        elif self.kind == "memory":
            if self._memory is None:
                self._memory = MemoryStore()
            store = self._memory
        else:
            from vision_cache.stores.redis import RedisStore

            store = RedisStore(REDIS_URL, prefix=self.prefix)
        self.opened.append(store)
        return store

    def teardown(self) -> None:
        if self.kind == "redis" and self.opened:
            for key, _, _ in list(self.opened[0].scan()):
                self.opened[0].delete(key)
            client = raw_redis()
            leftovers = list(client.scan_iter(match=glob_escape(self.prefix) + "*"))
            client.close()
            assert not leftovers, f"redis keys left behind: {leftovers[:5]}"
        for store in self.opened:
            store.close()


def _factory(kind: str, tmp_path):
    if kind == "redis":
        require_redis()
    made = StoreFactory(kind, tmp_path)
    yield made
    made.teardown()


@pytest.fixture(params=["disk", "memory", "redis"])
def factory(request, tmp_path):
    yield from _factory(request.param, tmp_path)


@pytest.fixture(params=["disk", "redis"])
def shared_factory(request, tmp_path):
    """The stores that several instances and processes share (a memory store is private by nature)."""
    yield from _factory(request.param, tmp_path)


@pytest.fixture
def store(factory) -> Store:
    return factory.open()



def race(n: int, target) -> list:
    """Run ``target(i)`` in ``n`` threads released at once; return results (re-raising failures)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as exc:  # noqa: B036 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if errors:
        raise errors[0]
    return results


# -- get / set ---------------------------------------------------------------------------------

JSON_VALUES = [
    {"kind": "vision", "score": 0.5, "tags": ["a", "b"], "nested": {"x": None, "ok": True}},
    [1, "two", 3.5, False, None, {"k": []}],
    "a string with ünïcode, \x1f and \"quotes\"",
    "",
    0,
    -17,
    2**62,
    3.25,
    True,
    False,
    {},
    [],
]


def test_json_values_round_trip_with_their_types(store):
    for index, value in enumerate(JSON_VALUES):
        store.set(f"v{index}", value, None)
    for index, value in enumerate(JSON_VALUES):
        got = store.get(f"v{index}")
        assert got == value and type(got) is type(value), (index, value, got)


def test_ints_beyond_64_bits_round_trip(request, factory, store):
    store.set("big", 2**70, None)
    store.set("small", -(2**70), None)
    assert store.get("big") == 2**70
    assert store.get("small") == -(2**70)


def test_absent_and_none_read_as_none(store):
    assert store.get("missing") is None
    store.set("null", None, None)
    assert store.get("null") is None


def test_set_replaces_value_and_lifetime(store):
    store.set("k", "first", SHORT_TTL)
    store.set("k", {"second": 2}, None)
    assert store.get("k") == {"second": 2}
    assert [entry for entry in store.scan("k") if entry[0] == "k"] == [("k", {"second": 2}, None)]
    time.sleep(PAST_SHORT_TTL)
    assert store.get("k") == {"second": 2}  # the replacement has no expiry


def test_non_json_values_are_refused(request, factory, store):
    for bad in (object(), {1, 2}, float("nan"), float("inf"), b"bytes"):
        with pytest.raises(StoreError):
            store.set("bad", bad, None)
    assert store.get("bad") is None


def test_values_are_copies_not_shared_objects(request, factory, store):
    value = {"tags": ["a"]}
    store.set("k", value, None)
    value["tags"].append("mutated after set")
    got = store.get("k")
    assert got == {"tags": ["a"]}
    got["tags"].append("mutated after get")
    assert store.get("k") == {"tags": ["a"]}


def test_ttl_expiry(store):
    store.set("short", "v", SHORT_TTL)
    store.set("long", "v", 60)
    assert store.get("short") == "v"
    time.sleep(PAST_SHORT_TTL)
    assert store.get("short") is None
    assert store.get("long") == "v"
    assert [key for key, _, _ in store.scan()] == ["long"]
    assert isinstance(store.expire(), int)
    assert store.get("short") is None and store.get("long") == "v"


# -- add ---------------------------------------------------------------------------------------


def test_add_stores_only_once(store):
    assert store.add("k", "first", None) is True
    assert store.add("k", "second", None) is False
    assert store.get("k") == "first"
    store.delete("k")
    assert store.add("k", "third", 60) is True
    assert store.get("k") == "third"


def test_add_race_has_exactly_one_winner(factory):
    stores = [factory.open() for _ in range(8)] if factory.shared else [factory.open()] * 8
    results = race(8, lambda i: stores[i].add("contested", f"owner-{i}", 30))
    assert results.count(True) == 1, results
    assert stores[0].get("contested") == f"owner-{results.index(True)}"


def test_add_succeeds_after_expiry(store):
    assert store.add("k", "first", SHORT_TTL) is True
    assert store.add("k", "second", SHORT_TTL) is False
    time.sleep(PAST_SHORT_TTL)
    assert store.add("k", "third", None) is True
    assert store.get("k") == "third"


# -- delete and compare-and-* -------------------------------------------------------------------


def test_delete(store):
    assert store.delete("missing") is False
    store.set("k", [1], None)
    assert store.delete("k") is True
    assert store.get("k") is None
    assert store.delete("k") is False


def test_delete_of_an_expired_entry_reports_absent(request, factory, store):
    store.set("k", "v", SHORT_TTL)
    time.sleep(PAST_SHORT_TTL)
    assert store.delete("k") is False


def test_compare_and_delete_needs_the_right_owner(store):
    assert store.compare_and_delete("k", "owner-a") is False
    store.set("k", "owner-a", 60)
    assert store.compare_and_delete("k", "owner-b") is False
    assert store.get("k") == "owner-a"
    assert store.compare_and_delete("k", "owner-a") is True
    assert store.get("k") is None
    assert store.compare_and_delete("k", "owner-a") is False


def test_compare_and_touch_extends_only_for_the_right_owner(store):
    assert store.compare_and_touch("missing", "owner-a", 5) is False
    assert store.get("missing") is None
    store.set("mine", "owner-a", SHORT_TTL)
    store.set("theirs", "owner-a", SHORT_TTL)
    assert store.compare_and_touch("theirs", "owner-b", 5) is False
    before = time.time()
    assert store.compare_and_touch("mine", "owner-a", 1.0) is True
    expiries = {key: expires_at for key, _, expires_at in store.scan()}
    assert before + 0.8 <= expiries["mine"] <= time.time() + 1.2
    time.sleep(PAST_SHORT_TTL)
    assert store.get("mine") == "owner-a"  # outlived its original ttl
    assert store.get("theirs") is None  # the wrong owner did not extend it
    assert store.compare_and_touch("theirs", "owner-a", 5) is False  # expired: nothing to touch


# -- incr --------------------------------------------------------------------------------------


def test_incr_starts_from_zero(store):
    assert store.incr("n") == 1
    assert store.incr("n", 5) == 6
    assert store.incr("n", -2) == 4
    assert store.get("n") == 4
    assert store.incr("other", 3) == 3
    store.set("preset", 10, None)
    assert store.incr("preset") == 11


def test_incr_keeps_an_existing_lifetime(request, factory, store):
    store.set("n", 1, 60)
    store.incr("n")
    assert [expires_at is not None for key, _, expires_at in store.scan("n")] == [True]


def test_concurrent_incr_is_exact(factory):
    stores = [factory.open() for _ in range(8)] if factory.shared else [factory.open()] * 8

    def work(i: int) -> None:
        for _ in range(50):
            stores[i].incr("counter")

    race(8, work)
    assert stores[0].get("counter") == 400


# -- scan, expire, clear, secret, size, close ------------------------------------------------------


def test_scan_by_prefix_with_expiries(store):
    now = time.time()
    store.set("a\x1f1", {"n": 1}, None)
    store.set("a\x1f2", [2], 60)
    store.set("b\x1f1", "b", None)
    store.set("x*[1]?\\k", "glob", None)  # glob metacharacters are literal in a prefix
    store.set("xyz", "other", None)
    found = {key: (value, expires_at) for key, value, expires_at in store.scan("a\x1f")}
    assert set(found) == {"a\x1f1", "a\x1f2"}
    assert found["a\x1f1"] == ({"n": 1}, None)
    assert found["a\x1f2"][0] == [2]
    assert now + 58 <= found["a\x1f2"][1] <= time.time() + 61
    assert {key for key, _, _ in store.scan()} == {"a\x1f1", "a\x1f2", "b\x1f1", "x*[1]?\\k", "xyz"}
    assert [key for key, _, _ in store.scan("x*[")] == ["x*[1]?\\k"]
    assert [key for key, _, _ in store.scan("x*[1]?\\")] == ["x*[1]?\\k"]
    assert list(store.scan("nothing")) == []


def test_scan_skips_expired_entries(store):
    store.set("p\x1fgone", 1, SHORT_TTL)
    store.set("p\x1fkept", 2, None)
    time.sleep(PAST_SHORT_TTL)
    assert list(store.scan("p\x1f")) == [("p\x1fkept", 2, None)]


def test_get_many_reads_values_in_order(store):
    store.set("a", 1, None)
    store.set("c", {"x": 3}, 60)
    store.set("gone", 2, SHORT_TTL)
    time.sleep(PAST_SHORT_TTL)
    assert store.get_many(["a", "b", "c", "gone"]) == [1, None, {"x": 3}, None]
    assert store.get_many([]) == []


def test_size_bytes_is_an_int_or_none(store):
    store.set("k", "v" * 100, None)
    size = store.size_bytes()
    assert size is None or (isinstance(size, int) and size >= 0)


def test_check_is_clean_on_a_healthy_store(store):
    store.set("k", 1, None)
    assert store.check() == []


def test_close_then_reuse(store):
    store.set("k", "before", None)
    store.close()
    assert store.get("k") == "before"
    store.set("k", "after", None)
    store.close()
    store.close()  # twice is harmless
    assert store.get("k") == "after"
    assert store.incr("n") == 1


def test_a_forked_child_uses_its_own_connection(shared_factory):
    store = shared_factory.open()
    store.set("k", "parent", None)  # the parent holds a live connection now
    pid = os.fork()
    if pid == 0:  # child: must not use the parent's socket / SQLite handle
        code = 1
        try:
            code = 0 if store.get("k") == "parent" and store.incr("forked") == 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get("k") == "parent"  # the parent's connection still works
    assert store.incr("forked") == 2


def test_repr_names_the_location(store):
    assert store.location and store.location in repr(store)


# -- leases on every store ------------------------------------------------------------------------


def test_lease_single_holder_renewal_release_and_takeover(factory):
    store = factory.open()
    other = factory.open()
    key = "lease\x1ftest"
    first, second, third = Lease(store, key, ttl=0.6), Lease(other, key, ttl=0.6), Lease(store, key, ttl=0.6)
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        time.sleep(1.5)  # well past the ttl: the renewer keeps it alive
        assert store.get(key) == first.owner
        assert second.try_acquire() is False
        first.release()
        assert store.get(key) is None
        assert second.try_acquire() is True
        # the holder stops renewing without releasing (a hung or killed process)
        second._stop.set()
        second._renewer.join(2)
        assert third.try_acquire() is False
        started = time.monotonic()
        assert third.acquire(timeout=2.0, poll=0.02) is True
        assert time.monotonic() - started <= 0.6 + 0.3
        assert other.get(key) == third.owner
        second.release()  # the stale holder's release must not delete its successor's lease
        assert store.get(key) == third.owner
        third.release()
        assert store.get(key) is None
    finally:
        for lease in (first, second, third):
            lease.release()


# -- Redis only ------------------------------------------------------------------------------------


@pytest.fixture
def redis_prefixes():
    """Fresh namespace prefixes; every key under them (secret included) is deleted at teardown."""
    require_redis()
    made: list[str] = []

    def new(suffix: str = ":") -> str:
        made.append(f"vc-test-{uuid4().hex}{suffix}")
        return made[-1]

    yield new
    client = raw_redis()
    for prefix in made:
        for key in list(client.scan_iter(match=glob_escape(prefix) + "*")):
            client.delete(key)
    client.close()


def test_redis_prefixes_are_isolated(redis_prefixes):
    from vision_cache.stores.redis import RedisStore

    base = redis_prefixes("")  # teardown deletes everything under it, both secrets included
    a = RedisStore(REDIS_URL, prefix=base + ":a*")  # glob characters in the prefix match only themselves
    b = RedisStore(REDIS_URL, prefix=base + ":ab")
    try:
        a.set("k", "from a", None)
        b.set("k", "from b", None)
        b.set("only-b", 1, None)
        assert a.get("k") == "from a" and b.get("k") == "from b"
        assert a.get("only-b") is None
        assert [key for key, _, _ in a.scan()] == ["k"]
        assert sorted(key for key, _, _ in b.scan()) == ["k", "only-b"]
        assert a.delete("k") is True
        assert b.get("k") == "from b" and b.get("only-b") == 1
    finally:
        for store in (a, b):
            store.close()


class _Boom:
    """Unpickling this creates a marker file: proof that something unpickled store data."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_redis_never_unpickles_planted_values(redis_prefixes, tmp_path):
    from vision_cache.stores.redis import RedisStore

    prefix = redis_prefixes()
    marker = tmp_path / "unpickled"
    store = RedisStore(REDIS_URL, prefix=prefix)
    client = raw_redis()
    try:
        client.set(prefix + "planted", pickle.dumps(_Boom(str(marker))))
        client.set(prefix + "text", b"not json {")
        client.hset(prefix + "hash", "field", "value")
        store.set("good", {"ok": True}, None)
        for key in ("planted", "text", "hash"):
            with pytest.raises(StoreError) as caught:
                store.get(key)
            assert store.location in str(caught.value)
        assert list(store.scan()) == [("good", {"ok": True}, None)]
        assert not marker.exists()
        assert store.get_raw("text") == b"not json {"  # what a migration may read, never decoded
    finally:
        client.close()
        store.close()


def test_redis_values_are_json_text_and_ttls_native(redis_prefixes):
    from vision_cache.stores.redis import RedisStore

    prefix = redis_prefixes()
    store = RedisStore(REDIS_URL, prefix=prefix)
    client = raw_redis()
    try:
        store.set("k", {"a": [1, "b"]}, 2.5)
        assert client.get(prefix + "k") == b'{"a":[1,"b"]}'
        assert 2000 < client.pttl(prefix + "k") <= 2500
        store.add("tiny", 1, 0.0001)  # at least 1 ms, never "no expiry"
        assert client.pttl(prefix + "tiny") in (-2, 0, 1)
        store.incr("n", 7)
        assert client.get(prefix + "n") == b"7"
        store._expiry_command = "PTTL"  # the Redis < 7 path
        [(_, _, expires_at)] = store.scan("k")
        assert time.time() + 1.5 < expires_at <= time.time() + 2.6
        assert store.expire() == 0
    finally:
        client.close()
        store.close()


def test_redis_password_never_leaks():
    from vision_cache.stores.redis import RedisStore

    password = "s3cr3t-pass"
    store = RedisStore(f"redis://user:{password}@127.0.0.1:1/0", socket_timeout=0.5)
    assert password not in store.location and "user" not in store.location
    assert store.location == "redis://***@127.0.0.1:1/0"
    assert password not in repr(store)
    operations = {
        "get": lambda: store.get("k"),
        "set": lambda: store.set("k", 1, None),
        "set ttl": lambda: store.set("k", 1, 5),
        "add": lambda: store.add("k", 1, 5),
        "delete": lambda: store.delete("k"),
        "compare_and_delete": lambda: store.compare_and_delete("k", "o"),
        "compare_and_touch": lambda: store.compare_and_touch("k", "o", 5),
        "incr": lambda: store.incr("k"),
        "scan": lambda: list(store.scan()),
        "get_many": lambda: store.get_many(["k"]),
    }
    for name, operation in operations.items():
        with pytest.raises(StoreError) as caught:
            operation()
        text = "".join(traceback.format_exception(caught.value))
        assert password not in text, name
        assert store.location in str(caught.value), name
    assert store.size_bytes() is None
    assert store.expire() == 0
    problems = store.check()
    assert problems and all(password not in problem for problem in problems)
    store.close()


def test_redis_masks_credentials_in_every_url_form():
    from vision_cache.stores.redis import mask_url

    assert mask_url("rediss://:p%40ss@host:6380/2") == "rediss://***@host:6380/2"
    assert mask_url("redis://host/0?password=qq&socket_timeout=3") == "redis://host/0?password=***&socket_timeout=3"
    assert mask_url("unix://u:pw@/run/redis.sock?db=1") == "unix://***@/run/redis.sock?db=1"
    assert mask_url("redis://localhost:6379") == "redis://localhost:6379"


def test_redis_missing_package_is_a_store_error(monkeypatch):
    pytest.importorskip("redis")
    import vision_cache.stores.redis as redis_store

    monkeypatch.setattr(redis_store, "_redis", None)
    with pytest.raises(StoreError, match=r"pip install 'vision_cache\[redis\]'"):
        redis_store.RedisStore("redis://:pw@127.0.0.1:6379/0")


def test_redis_bad_url_is_a_store_error():
    pytest.importorskip("redis")
    from vision_cache.stores.redis import RedisStore

    with pytest.raises(StoreError) as caught:
        RedisStore("http://user:hunter2@127.0.0.1/0")
    assert "hunter2" not in str(caught.value)


@pytest.fixture
def acl_user():
    require_redis()
    name, password = f"vc_test_{uuid4().hex[:12]}", f"pw-{uuid4().hex}"
    client = raw_redis()
    client.execute_command("ACL", "SETUSER", name, "on", f">{password}", "~*", "+@all")
    yield name, password
    client.execute_command("ACL", "DELUSER", name)
    client.close()


def test_redis_acl_user_in_the_url(acl_user, redis_prefixes):
    from vision_cache.stores.redis import RedisStore

    name, password = acl_user
    prefix = redis_prefixes()
    store = RedisStore(f"redis://{name}:{password}@127.0.0.1:6379/0", prefix=prefix)
    try:
        assert password not in store.location and name not in store.location
        store.set("k", {"via": "acl"}, 30)
        assert store.get("k") == {"via": "acl"}
        assert store.add("k", 1, None) is False
        assert [key for key, _, _ in store.scan()] == ["k"]
        assert store.check() == []
        assert store._client.execute_command("ACL", "WHOAMI") in (name, name.encode())
    finally:
        store.close()
    wrong = RedisStore(f"redis://{name}:wrong-pw-zzz@127.0.0.1:6379/0", prefix=prefix)
    with pytest.raises(StoreError) as caught:
        wrong.get("k")
    assert "wrong-pw-zzz" not in "".join(traceback.format_exception(caught.value))
    assert "AuthenticationError" in str(caught.value)
    wrong.close()
