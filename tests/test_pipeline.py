"""The lookup pipeline's logic over the in-memory Hub client (no HTTP), and what it costs in store calls.

The loopback HTTP stand-in (tests/hubstub.py) proves that the real huggingface_hub client is driven
correctly; these tests prove the cache's own logic with ``vision_cache.hub.MemoryHub``, and count
every store call through a wrapper around the real store.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest

from vision_cache import Kind, Source, VisionCache
from vision_cache.hub import MemoryHub
from vision_cache.ledger import Keys
from vision_cache.stores.base import Store

LLAVA = b'{"model_type": "llava", "architectures": ["LlavaForConditionalGeneration"], "vision_config": {}}'
LLAMA = b'{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}'


class CountingStore(Store):
    """Wraps a real store and records every call the package makes (counters' ``incr`` aside:
    statistics, flushed at most once a second, are not part of a lookup)."""

    def __init__(self, inner: Store) -> None:
        self.inner, self.kind, self.location = inner, inner.kind, inner.location
        self.calls: list[str] = []

    def _call(self, name: str, *args):
        self.calls.append(name)
        return getattr(self.inner, name)(*args)

    def get(self, key):
        return self._call("get", key)

    def get_many(self, keys):
        return self._call("get_many", keys)

    def set(self, key, value, ttl):
        return self._call("set", key, value, ttl)

    def add(self, key, value, ttl):
        return self._call("add", key, value, ttl)

    def delete(self, key):
        return self._call("delete", key)

    def compare_and_delete(self, key, expected):
        return self._call("compare_and_delete", key, expected)

    def compare_and_touch(self, key, expected, ttl):
        return self._call("compare_and_touch", key, expected, ttl)

    def incr(self, key, delta=1):
        return self.inner.incr(key, delta)

    def scan(self, prefix=""):
        return self._call("scan", prefix)

    def expire(self):
        return self._call("expire")

    def reset(self) -> list[str]:
        calls, self.calls = self.calls, []
        return calls


@pytest.fixture
def memory_hub() -> MemoryHub:
    return MemoryHub()


@pytest.fixture
def counted(make_cache, memory_hub):
    """A cache on this test's store (disk or Redis) whose store calls are counted."""

    def make(**kwargs) -> tuple[VisionCache, CountingStore]:
        from vision_cache.detect.registry import transformers_registry

        cache = make_cache(hub=memory_hub, **kwargs)
        cache.ledger.secret()  # read once per process, not per lookup
        transformers_registry()  # likewise: transformers' tables are read (or shared) once per process
        counting = CountingStore(cache.ledger.store)
        cache.ledger.store = counting
        return cache, counting

    return make


def test_a_cold_lookup_makes_at_most_six_store_calls_and_a_hit_one(counted, memory_hub):
    """Six for the question asked, plus one write for each other question the same reads answered
    (the model card the resolver fetched decides the embedding question)."""
    sha = memory_hub.add_repo("acme/vlm", {"config.json": LLAVA})
    cache, store = counted()
    assert cache.lookup("acme/vlm").kind is Kind.VISION
    cold = store.reset()
    assert len(cold) <= 6 + 1 and cold.count("set") <= 3, cold
    assert cache.lookup("acme/vlm").source is Source.STORE
    by_name = store.reset()
    assert by_name == ["get"], by_name  # the alias this process wrote is known until its fresh_until
    assert cache.lookup("acme/vlm", revision=sha).source is Source.STORE
    by_sha = store.reset()
    assert by_sha == ["get"], by_sha
    other, other_store = counted()  # another process: the alias with the denial, then the verdict
    assert other.lookup("acme/vlm").source is Source.STORE
    assert other_store.reset() == ["get_many", "get"]
    assert other.lookup("acme/vlm").source is Source.STORE
    assert other_store.reset() == ["get"]  # and from then on, one read


def test_a_known_alias_still_sees_a_purge_on_the_next_call(counted, memory_hub):
    """The alias remembered in memory only names a key: the verdict is read every time."""
    memory_hub.add_repo("acme/vlm", {"config.json": LLAVA})
    cache, store = counted()
    other, _ = counted()
    cache.lookup("acme/vlm")
    assert cache.lookup("acme/vlm").source is Source.STORE
    other.purge("acme/vlm")  # another process (memory_ttl=0 here)
    store.reset()
    again = cache.lookup("acme/vlm")
    assert again.source is Source.DETECTED


def test_a_cold_lookup_by_sha_and_a_denial_stay_within_the_budget(counted, memory_hub):
    sha = memory_hub.add_repo("acme/text", {"config.json": LLAMA})
    cache, store = counted()
    assert cache.lookup("acme/text", revision=sha).kind is Kind.NOT_VISION
    assert len(store.reset()) <= 6 + 1
    assert cache.lookup("acme/missing").kind is Kind.DENIED
    assert len(store.reset()) <= 6
    assert cache.lookup("acme/missing").source is Source.STORE
    assert store.reset() == ["get_many"]  # a stored denial is read with the alias, in one call


def test_a_memory_hit_touches_no_store(counted, memory_hub):
    memory_hub.add_repo("acme/vlm", {"config.json": LLAVA})
    cache, store = counted(memory_ttl=5)
    cache.lookup("acme/vlm")
    store.reset()
    assert cache.lookup("acme/vlm").source is Source.MEMORY
    assert store.reset() == []


def test_a_known_commit_under_a_new_name_is_not_detected_again(make_cache, memory_hub):
    sha = memory_hub.add_repo("acme/vlm", {"config.json": LLAVA})
    memory_hub.repos["acme/vlm"]["v1.0"] = sha  # a tag on the same commit
    cache = make_cache(hub=memory_hub)
    cache.lookup("acme/vlm")
    memory_hub.calls.clear()
    verdict = cache.lookup("acme/vlm", revision="v1.0")
    assert (verdict.kind, verdict.source, verdict.commit_sha) == (Kind.VISION, Source.STORE, sha)
    assert memory_hub.calls == [("repo_state", "acme/vlm")]  # resolved; config.json not read again


def test_gated_access_is_confirmed_per_scope(make_cache, memory_hub):
    memory_hub.add_repo("acme/gated", {"config.json": LLAVA}, gated_for={"hf_allowed"})
    cache = make_cache(hub=memory_hub)
    assert cache.lookup("acme/gated", hf_token="hf_allowed").kind is Kind.VISION
    assert cache.lookup("acme/gated", hf_token="hf_other").kind is Kind.DENIED
    assert cache.lookup("acme/gated").kind is Kind.DENIED  # anonymous
    assert cache.lookup("acme/gated", hf_token="hf_allowed").source is Source.STORE


def test_hub_down_answers_stale_from_an_expired_alias_and_unknown_without_one(make_cache, memory_hub):
    memory_hub.add_repo("acme/vlm", {"config.json": LLAVA})
    memory_hub.add_repo("acme/new", {"config.json": LLAVA})
    cache = make_cache(hub=memory_hub, alias_ttl=0.01)
    cache.lookup("acme/vlm")
    time.sleep(0.05)
    memory_hub.failure = ConnectionError("the Hub is down")
    stale = cache.lookup("acme/vlm")
    assert (stale.kind, stale.source) == (Kind.VISION, Source.STALE)
    unknown = cache.lookup("acme/new")
    assert unknown.kind is Kind.UNKNOWN and "never resolved" in unknown.evidence
    assert not [k for k, _, _ in cache.store.scan(Keys.family(Keys.VERDICT)) if "acme/new" in k]


def test_the_hf_cache_refs_answer_offline_but_are_not_stored(make_cache, memory_hub):
    sha = memory_hub.add_repo("acme/vlm", {"config.json": LLAVA})
    memory_hub.cached_refs[("acme/vlm", "main")] = sha
    cache = make_cache(hub=memory_hub)
    verdict = cache.lookup("acme/vlm", local_files_only=True)
    # MemoryHub keeps no local files: the detector cannot read config.json offline, so: unknown
    assert verdict.kind is Kind.UNKNOWN and verdict.commit_sha == sha
    assert memory_hub.calls == []  # offline: not one networked call


def test_waiters_that_overlap_a_failed_attempt_share_it_and_a_later_call_tries_again(make_cache, memory_hub):
    memory_hub.add_repo("acme/vlm", {"config.json": LLAVA})
    started, release = threading.Event(), threading.Event()

    class SlowFailingHub(MemoryHub):
        def repo_state(self, *args, **kwargs):
            started.set()
            release.wait(10)
            raise ConnectionError("the Hub is down")

    slow = SlowFailingHub()
    slow.repos, slow.files = memory_hub.repos, memory_hub.files
    holder_cache, waiter_cache = make_cache(hub=slow), make_cache(hub=memory_hub)
    results = {}
    holder = threading.Thread(target=lambda: results.setdefault("holder", holder_cache.lookup("acme/vlm")))
    holder.start()
    assert started.wait(10)
    waiter = threading.Thread(target=lambda: results.setdefault("waiter", waiter_cache.lookup("acme/vlm")))
    waiter.start()
    time.sleep(0.3)  # the waiter is now polling the holder's lease
    release.set()
    holder.join(10)
    waiter.join(10)
    assert results["holder"].kind is Kind.UNKNOWN
    assert results["waiter"].kind is Kind.UNKNOWN and "shared" in results["waiter"].evidence
    assert memory_hub.calls == []  # the waiter did not hammer the failing Hub itself
    assert waiter_cache.lookup("acme/vlm").kind is Kind.VISION  # a later call tries again, and the Hub is fine


def test_invalid_names_write_nothing(counted):
    cache, store = counted()
    for name in ("acme/vlm/", "-acme/vlm", "a b/c", "acme/\u212aelvin"):
        with pytest.raises(ValueError):
            cache.lookup(name)
    assert [call for call in store.reset() if call not in ("get", "get_many")] == []


def test_no_module_but_the_ledger_spells_a_key():
    """The key layout has one owner: no other module of the package writes the separator."""
    package = Path(__file__).parent.parent / "vision_cache"
    offenders = []
    for path in package.rglob("*.py"):
        if path.name == "ledger.py":
            continue
        text = path.read_text()
        if "\\x1f" in text or "\x1f" in text or re.search(r"[\"'](verdict|alias|lease|meta|stats)\\\\?x1f", text):
            offenders.append(os.path.relpath(path, package))
    assert offenders == []
