"""The disk store's guarantees: JSON only, never unpickle, degrade instead of raising."""

from __future__ import annotations

import json
import logging
import os
import pickle

import diskcache
import pytest
from conftest import TEXT_LLM, VLM, publish

from vision_cache import Kind, Source
from vision_cache.stores.base import StoreError
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
    assert store.get("k") == 1  # the parent now holds a writer (diskcache) and a read-only connection
    parent_reader = store._reader.con
    pid = os.fork()
    if pid == 0:  # child: must open its own connections and see the data
        ok = store.get("k") == 1 and store._reader.con is not parent_reader
        store.set("child", 2, None)
        ok = ok and store._pid == os.getpid()
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


# -- the read path: SQLite opened read-only, diskcache only for writes ---------------------------------


def _files(folder) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()}


def test_reading_an_existing_store_writes_nothing_and_never_imports_diskcache(hub, store_dir):
    """A process that only reads leaves the database file untouched (size, mtime), its WAL empty,
    and does not import diskcache (whose opening upserts settings: a write and the write lock)."""
    from conftest import run_python

    publish(hub, VLM)
    publish(hub, TEXT_LLM)
    run_python(f"from vision_cache import VisionCache; c = VisionCache(directory={str(store_dir)!r}); "
               f"c.lookup({VLM!r}); c.lookup({TEXT_LLM!r}); c.close()")
    before = _files(store_dir)
    out = run_python(f"""
import sys
from vision_cache import VisionCache
cache = VisionCache(directory={str(store_dir)!r}, memory_ttl=0)
answers = [cache.lookup(name) for name in ({VLM!r}, {TEXT_LLM!r}, {VLM!r})]
readers = [con for _, con in cache.store._readers]
print([a.source.value for a in answers], [a.kind.value for a in answers], "diskcache" in sys.modules,
      sum(con.total_changes for con in readers), len(readers))
""").stdout.split("] ")
    assert out[0] == "['store', 'store', 'store'" and out[1] == "['vision', 'not_vision', 'vision'", out
    assert out[2].split() == ["False", "0", "1"], out
    after = _files(store_dir)
    assert after["cache.db"] == before["cache.db"]
    assert after.get("cache.db-wal", (0, 0))[0] == before.get("cache.db-wal", (0, 0))[0]


def test_direct_reads_agree_with_diskcache(store_dir):
    """The read-only path reads diskcache's table itself: it must answer exactly as diskcache (through
    JSONOnlyDisk) does, for good entries, expired ones and planted ones alike."""
    import sqlite3
    import time

    store = DiskStore(str(store_dir))
    entries = {"dict": {"a": [1, "b", None]}, "text": "plain", "list": [1, 2.5], "int": 7, "big": 1 << 70,
               "nested": {"x": {"y": {"z": True}}}, "unicode": "\u00e9\u4e2d\U0001f600"}
    for key, value in entries.items():
        store.set(key, value, None)
    store.set("expired", 1, 0.01)
    store.incr("counter", 5)
    store.set("pickle", "x", None)
    store.set("file", "x", None)
    pickled_key = pickle.dumps("pickled key")
    raw = diskcache.Cache(str(store_dir))
    raw.set("pickle", _Boom("/nonexistent/marker"))  # a pickle planted by someone with write access
    raw.set(pickled_key, "value under a pickled key")
    raw.close()
    db = sqlite3.connect(store_dir / "cache.db")
    with db:
        db.execute("UPDATE Cache SET filename = '../../x' WHERE key = 'file'")
    db.close()
    time.sleep(0.02)

    def through_diskcache(key):
        try:
            return store._run(lambda cache: cache.get(key))
        except StoreError:
            return "refused"

    def direct(key):
        try:
            return store.get(key)
        except StoreError:
            return "refused"

    keys = [*entries, "expired", "counter", "pickle", "file", "absent"]
    assert [direct(k) for k in keys] == [through_diskcache(k) for k in keys]
    assert [direct(k) for k in keys][-5:] == [None, 5, "refused", "refused", None]
    good = [*entries, "expired", "counter", "absent"]
    assert store.get_many(good) == [through_diskcache(k) for k in good]
    assert [store.get_text(k) for k in good] == [None if through_diskcache(k) is None else
                                                 json.dumps(through_diskcache(k), separators=(",", ":"))
                                                 for k in good]
    assert [k for k, _, _ in store.scan()] == sorted([*entries, "counter"])  # planted and expired skipped
    assert [k for k, _, _ in store.scan("n")] == ["nested"]
    store.close()


def test_a_reader_follows_a_database_moved_aside_and_rebuilt(store_dir):
    import time

    store = DiskStore(str(store_dir))
    store.set("k", 1, None)
    assert store.get("k") == 1  # a read-only connection is open on this file
    for suffix in ("-wal", "-shm", ""):
        path = store_dir / f"cache.db{suffix}"
        if path.exists():
            os.replace(path, store_dir / f"cache.db{suffix}.corrupt-by-hand")  # what a recovering peer does
    peer = DiskStore(str(store_dir))
    peer.set("k2", 2, None)
    time.sleep(0.15)  # a reader re-checks the file's identity at most every 0.1 s
    assert store.get("k2") == 2 and store.get("k") is None
    peer.close()
    store.close()
