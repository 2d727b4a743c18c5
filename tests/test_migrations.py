"""The migration runner: upgrades, is idempotent, and never touches a newer schema."""

from __future__ import annotations

import logging

import pytest
from conftest import VLM, publish

from vision_cache import Kind, Source
from vision_cache.ledger import Keys
from vision_cache.migrate import (
    NewerSchemaError,
    Step,
    discover_steps,
    latest_version,
    migrate,
    schema_version,
)
from vision_cache.stores.disk import DiskStore
from vision_cache.stores.memory import MemoryStore


def test_shipped_steps_are_numbered_from_one_and_match_latest_schema():
    from vision_cache.migrate import LATEST_SCHEMA

    steps = discover_steps()
    assert [s.version for s in steps] == list(range(1, len(steps) + 1))
    assert steps[0].name == "0001_initial"
    assert len(steps) == LATEST_SCHEMA  # bump LATEST_SCHEMA with every new step


def test_new_store_is_brought_to_the_latest_schema_once(store_dir):
    store = DiskStore(str(store_dir))
    assert schema_version(store) == 0
    first = migrate(store)
    assert (first.from_version, first.to_version) == (0, latest_version())
    assert first.applied[0] == "0001_initial"
    again = migrate(store)
    assert again.applied == () and schema_version(store) == latest_version()


def test_pending_steps_run_in_order_and_keep_existing_entries():
    store = MemoryStore()
    ran = []
    steps = [Step(1, "0001_a", lambda s: ran.append(1)), Step(2, "0002_b", lambda s: ran.append(2))]
    migrate(store, steps[:1])
    store.set("verdict\x1fkept", {"x": 1}, None)
    result = migrate(store, steps)
    assert ran == [1, 2] and result.applied == ("0002_b",)
    assert store.get("verdict\x1fkept") == {"x": 1}


def test_a_step_that_crashes_is_retried_next_time_and_earlier_ones_are_not():
    store = MemoryStore()
    calls = {"a": 0, "b": 0}

    def b(_):
        calls["b"] += 1
        if calls["b"] == 1:
            raise RuntimeError("crash mid-migration")

    steps = [Step(1, "0001_a", lambda s: calls.__setitem__("a", calls["a"] + 1)), Step(2, "0002_b", b)]
    with pytest.raises(RuntimeError):
        migrate(store, steps)
    assert schema_version(store) == 1
    migrate(store, steps)
    assert calls == {"a": 1, "b": 2} and schema_version(store) == 2


def test_newer_schema_is_refused_and_left_untouched(store_dir):
    store = DiskStore(str(store_dir))
    store.set(Keys.SCHEMA, {"version": 999}, None)
    store.set("verdict\x1ffuture", {"format": "from the future"}, None)
    before = sorted((k, repr(v)) for k, v, _ in store.scan())
    with pytest.raises(NewerSchemaError, match="newer release"):
        migrate(store)
    assert sorted((k, repr(v)) for k, v, _ in store.scan()) == before


def test_cache_on_a_newer_store_degrades_to_memory_without_raising(hub, make_cache, caplog):
    publish(hub, VLM)
    current = make_cache()
    current.store.set(Keys.SCHEMA, {"version": 999}, None)  # as a newer release would leave it
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = make_cache()
    assert isinstance(cache.store, MemoryStore)
    assert "newer release" in caplog.text
    assert cache.lookup(VLM).kind is Kind.VISION
    assert current.store.get(Keys.SCHEMA) == {"version": 999}
    assert not [k for k, _, _ in current.store.scan("verdict")]


def test_verdicts_survive_reopening(hub, make_cache):
    publish(hub, VLM)
    make_cache().lookup(VLM)
    hub.reset_counts()
    reopened = make_cache().lookup(VLM)
    assert reopened.source is Source.STORE and hub.count() == 0


def test_a_store_written_by_schema_1_opens_with_nothing_lost(hub, tmp_path):
    """tests/data/stores/v1 was written by release 0.1.0 (tests/data/make_store_v1.py); keep it forever."""
    import json
    import shutil
    from pathlib import Path

    from vision_cache import VisionCache

    original = Path(__file__).parent / "data" / "stores" / "v1"
    folder = tmp_path / "v1"
    shutil.copytree(original, folder)
    entries = json.loads((folder / "entries.json").read_text())
    cache = VisionCache(directory=folder, memory_ttl=0)
    assert isinstance(cache.store, DiskStore) and schema_version(cache.store) == latest_version()
    for repo, recorded in entries.items():
        verdict = cache.lookup(repo, revision=recorded["commit_sha"])
        assert (verdict.kind, verdict.source, verdict.evidence) == (Kind.VISION, Source.STORE, recorded["evidence"])
    assert hub.count() == 0
    # Schema 2 moved the secret into the store: every auth scope computed before the upgrade still matches.
    assert cache.ledger.secret() == bytes.fromhex((folder / "secret.key").read_text().strip())
    cache.close()


def test_a_redis_store_of_schema_1_keeps_its_secret(redis_prefix):
    """Release 0.1.0 kept the Redis secret as bare hex text; step 0002 carries it into the JSON entries."""
    import os

    import redis

    from vision_cache import VisionCache
    from vision_cache.ledger import SEP

    legacy = os.urandom(32).hex()
    client = redis.Redis(host="127.0.0.1", port=6379)
    client.set(redis_prefix + Keys.META + SEP + "secret", legacy)
    client.set(redis_prefix + Keys.SCHEMA, '{"version":1}')
    client.close()
    cache = VisionCache(url="redis://127.0.0.1:6379/0", redis_prefix=redis_prefix, memory_ttl=0)
    assert cache.store.kind == "redis" and schema_version(cache.store) == latest_version()
    assert cache.ledger.secret() == bytes.fromhex(legacy)
    cache.close()
