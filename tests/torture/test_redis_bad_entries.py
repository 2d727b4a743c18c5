"""One bad entry in Redis is an error for that key, never an outage of the whole store.

A value that is not JSON (a planted pickle), a key of another type (WRONGTYPE), a counter that is
not an integer, or a lifetime Redis refuses used to make the fallback store declare Redis
unreachable and serve every key from the local tier for a while. Against the real Redis at
127.0.0.1:6379, under a key prefix of its own per test.
"""

from __future__ import annotations

import logging
from uuid import uuid4

import pytest
from conftest import REDIS_URL, VLM, delete_redis_prefix, publish, require_redis

from vision_cache import Kind, Source, VisionCache
from vision_cache.stores.base import StoreError, StoreUnavailable
from vision_cache.stores.fallback import FallbackStore
from vision_cache.stores.memory import MemoryStore
from vision_cache.stores.redis import RedisStore


@pytest.fixture
def prefix():
    require_redis()
    value = f"vc-torture-{uuid4().hex}:"
    yield value
    delete_redis_prefix(value)


@pytest.fixture
def raw():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def store(prefix):
    fallback = FallbackStore(RedisStore(REDIS_URL, prefix=prefix), MemoryStore())
    yield fallback
    fallback.close()


def _outage_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]


def test_bad_values_and_foreign_types_are_errors_for_their_key_only(store, raw, prefix, caplog):
    store.set("verdict\x1fgood", {"kind": "vision"}, None)
    raw.set(prefix + "verdict\x1fpickle", b"\x80\x04\x95planted pickle, not JSON")
    raw.hset(prefix + "verdict\x1fhash", "field", "value")
    raw.rpush(prefix + "verdict\x1flist", "a")
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        for key in ("verdict\x1fpickle", "verdict\x1fhash", "verdict\x1flist"):
            with pytest.raises(StoreError) as caught:
                store.get(key)
            assert not isinstance(caught.value, StoreUnavailable), caught.value
        with pytest.raises(StoreError) as caught:
            store.incr("verdict\x1fpickle")  # not an integer
        assert not isinstance(caught.value, StoreUnavailable)
        with pytest.raises(StoreError) as caught:
            store.compare_and_delete("verdict\x1fhash", "x")  # WRONGTYPE inside the Lua script
        assert not isinstance(caught.value, StoreUnavailable)
        assert not store.degraded
        assert store.get("verdict\x1fgood") == {"kind": "vision"}  # still read from Redis...
        assert store.local.get("verdict\x1fgood") is None  # ...not from the local tier
        store.set("verdict\x1fhash", {"kind": "vision"}, 60)  # SET replaces a key of any type
        assert store.get("verdict\x1fhash") == {"kind": "vision"}
        assert sorted(key for key, _, _ in store.scan("verdict")) == ["verdict\x1fgood", "verdict\x1fhash"]
    assert _outage_warnings(caplog) == []


@pytest.mark.parametrize("ttl", [1e12, 1e300, 10**400, 2**63 / 1000], ids=["1e12", "1e300", "int-10e400", "2e63ms"])
def test_huge_lifetimes_are_clamped_not_refused(store, raw, prefix, caplog, ttl):
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        store.set("verdict\x1fk", 1, ttl)
        assert store.add("verdict\x1fk2", 2, ttl) is True
        assert store.compare_and_touch("verdict\x1fk", 1, ttl) is True
    assert not store.degraded and _outage_warnings(caplog) == []
    assert raw.get(prefix + "verdict\x1fk") == b"1" and raw.pttl(prefix + "verdict\x1fk") > 10 * 365 * 86400 * 1000


@pytest.mark.parametrize("ttl", [0, -5, 1e-9])
def test_tiny_lifetimes_expire_at_once(store, ttl):
    store.set("verdict\x1fk", 1, ttl)
    assert not store.degraded


def test_a_ttl_that_is_not_a_number_is_a_store_error(store):
    with pytest.raises(StoreError):
        store.set("verdict\x1fk", 1, "soon")
    with pytest.raises(StoreError):
        store.set("verdict\x1fk", 1, float("nan"))
    assert not store.degraded


def test_a_garbled_verdict_is_re_detected_without_an_outage(hub, tmp_path, prefix, raw, caplog):
    publish(hub, VLM)
    cache = VisionCache(directory=tmp_path / "local", url=REDIS_URL, redis_prefix=prefix, memory_ttl=0)
    try:
        assert cache.lookup(VLM).source is Source.DETECTED
        verdicts = [k for k in raw.scan_iter(match=prefix + "verdict*")]
        assert verdicts
        for key in verdicts:
            raw.set(key, b"\x80\x04not json at all")
        with caplog.at_level(logging.WARNING, logger="vision_cache"):
            again = cache.lookup(VLM)
        assert again.kind is Kind.VISION
        assert not cache.store.degraded and _outage_warnings(caplog) == []
        assert cache.lookup(VLM).source is Source.STORE  # re-written to Redis over the garbage
    finally:
        cache.close()
