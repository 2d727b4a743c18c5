"""The disk store's guarantees: JSON only, never unpickle, degrade instead of raising."""

from __future__ import annotations

import logging
import os
import pickle

import diskcache
import pytest
from conftest import TEXT_LLM, VLM, publish

from vision_cache import Kind, Source
from vision_cache.stores.disk import DiskStore
from vision_cache.stores.memory import MemoryStore


class _Boom:
    """Unpickling this creates a marker file: proof that something unpickled store data."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_values_are_json_text_in_sqlite(store_dir):
    store = DiskStore(str(store_dir))
    store.set("k", {"a": [1, "b"]}, None)
    assert store.get("k") == {"a": [1, "b"]}
    raw = diskcache.Cache(str(store_dir))  # the plain diskcache view: a JSON string, not a pickle
    assert raw.get("k") == '{"a":[1,"b"]}'
    raw.close()


def test_a_planted_pickle_is_never_unpickled(hub, make_disk_cache, store_dir, tmp_path):
    publish(hub, VLM)
    cache = make_disk_cache()
    verdict = cache.lookup(VLM)
    key = next(k for k, _, _ in cache.store.scan("verdict"))
    marker = tmp_path / "unpickled"
    planted = diskcache.Cache(str(store_dir))  # an attacker with write access to a shared folder
    planted.set(key, _Boom(str(marker)))
    planted.set(pickle.dumps("key"), "pickled key")
    planted.close()
    again = cache.lookup(VLM)
    assert not marker.exists()
    assert again.kind is Kind.VISION and again.source is Source.DETECTED  # treated as a miss, re-detected
    assert verdict.commit_sha == again.commit_sha
    list(cache.store.scan())  # iterating skips the pickled key instead of loading it
    assert not marker.exists()


def test_malformed_records_are_misses(hub, make_cache):
    publish(hub, VLM)
    cache = make_cache()
    cache.lookup(VLM)
    key = next(k for k, _, _ in cache.store.scan("verdict"))
    for bad in ({"kind": "vision"}, {"kind": "unknown", "subject": VLM}, [1, 2], "vision", 7):
        cache.store.set(key, bad, None)
        assert cache.lookup(VLM).source is Source.DETECTED


def test_unwritable_folder_degrades_to_memory_with_one_warning(hub, tmp_path, caplog):
    from vision_cache import VisionCache

    publish(hub, VLM)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = VisionCache(directory=blocker / "store", memory_ttl=0)
        assert isinstance(cache.store, MemoryStore)
        assert cache.lookup(VLM).kind is Kind.VISION
        assert cache.lookup(VLM).source is Source.STORE  # the memory store still answers
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "memory-only" in warnings[0].getMessage()


def test_a_store_failing_mid_run_never_raises(hub, make_cache, caplog):
    publish(hub, VLM)
    publish(hub, TEXT_LLM)
    cache = make_cache()
    cache.lookup(VLM)

    class Broken(MemoryStore):
        def _fail(self, *args, **kwargs):
            from vision_cache.stores.base import StoreError

            raise StoreError("disk on fire")

        get = get_many = set = add = delete = compare_and_delete = compare_and_touch = incr = _fail

    cache.ledger.store = Broken()  # a fault the real disk cannot produce on demand
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        assert cache.lookup(TEXT_LLM).kind is Kind.NOT_VISION
        assert cache.lookup(VLM).kind is Kind.VISION
    assert any("store" in r.getMessage() for r in caplog.records)


def test_corrupt_database_is_moved_aside_and_rebuilt(hub, make_disk_cache, store_dir, caplog):
    publish(hub, VLM)
    make_disk_cache().lookup(VLM)
    (store_dir / "cache.db").write_bytes(b"this is not sqlite" * 100)
    for suffix in ("-wal", "-shm"):
        (store_dir / f"cache.db{suffix}").unlink(missing_ok=True)
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = make_disk_cache()
        assert isinstance(cache.store, DiskStore)
        assert cache.lookup(VLM).kind is Kind.VISION
    assert list(store_dir.glob("cache.db.corrupt-*"))


def test_connection_is_not_reused_after_fork(store_dir):
    store = DiskStore(str(store_dir))
    store.set("k", 1, None)
    pid = os.fork()
    if pid == 0:  # child: must open its own connection and see the data
        ok = store.get("k") == 1 and store._pid == os.getpid()
        store.set("child", 2, None)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get("child") == 2


def test_concurrent_first_opens_all_succeed(tmp_path):
    import multiprocessing

    folder = str(tmp_path / "race")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        results = pool.map(_open_and_write, [(folder, i) for i in range(16)])
    assert results == list(range(16))
    store = DiskStore(folder)
    assert sorted(store.get(f"k{i}") for i in range(16)) == list(range(16))


def _open_and_write(args):
    folder, i = args
    store = DiskStore(folder)
    store.set(f"k{i}", i, None)
    return store.get(f"k{i}")


@pytest.mark.parametrize("ttl", [0.2])
def test_expired_entries_are_never_returned(store_dir, ttl):
    import time

    store = DiskStore(str(store_dir))
    store.set("k", {"v": 1}, ttl)
    assert store.get("k") == {"v": 1}
    time.sleep(ttl + 0.05)
    assert store.get("k") is None
    assert store.add("k", {"v": 2}, None) is True
