"""Several processes meet one garbled ``cache.db`` at the same moment.

Exactly one of them moves the database aside (one set of ``*.corrupt-*`` files per corruption,
never overwritten by another process), and every process ends up on the rebuilt database: none
stays on a failing connection ("readonly database", "disk I/O error") for the rest of its life.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from vision_cache.stores.disk import DiskStore

WORKERS = 8

WORKER = """
import json, os, sys, time
from vision_cache.stores.disk import DiskStore
from vision_cache.stores.base import StoreError
directory, start_at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))
errors, ok = [], 0
try:
    store = DiskStore(directory)
except StoreError as exc:
    print(json.dumps({"pid": os.getpid(), "ok": 0, "errors": ["open: " + str(exc)]}))
    sys.exit(0)
for i in range(5):
    key = f"p{os.getpid()}-{i}"
    try:
        store.set(key, {"i": i}, None)
        if store.get(key) == {"i": i} and store.incr("counter") >= 1:
            ok += 1
        else:
            errors.append(f"{key}: read back something else")
    except StoreError as exc:
        errors.append(f"{key}: {exc}")
print(json.dumps({"pid": os.getpid(), "ok": ok, "errors": errors}))
"""


def _garble(directory) -> None:
    (directory / "cache.db").write_bytes(b"\x00garbled by a crash, not SQLite\xff" * 4096)
    for suffix in ("-wal", "-shm"):
        (directory / f"cache.db{suffix}").unlink(missing_ok=True)


def _asides(directory) -> set[str]:
    """The move-aside tokens present: ``cache.db.corrupt-<token>`` (and its -wal / -shm)."""
    return {p.name.split(".corrupt-", 1)[1] for p in directory.iterdir() if ".corrupt-" in p.name}


def _run_workers(directory) -> list[dict]:
    start_at = time.time() + 1.5  # every interpreter is up and waiting by then
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(directory), str(start_at)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(WORKERS)]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    return results


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(3))
def test_processes_meeting_a_garbled_database_all_end_up_on_the_rebuilt_one(tmp_path, round_):
    directory = tmp_path / "store"
    store = DiskStore(str(directory))
    store.set("before", 1, None)
    store.close()
    _garble(directory)

    results = _run_workers(directory)

    failures = [r for r in results if r["errors"]]
    assert not failures, failures
    assert all(r["ok"] == 5 for r in results), results
    assert len(_asides(directory)) == 1, sorted(p.name for p in directory.iterdir())
    healthy = DiskStore(str(directory))
    try:
        assert healthy.incr("counter", 0) == WORKERS * 5  # every process wrote to the same, rebuilt database
        for r in results:
            assert healthy.get(f"p{r['pid']}-4") == {"i": 4}
        assert healthy.check() == []
    finally:
        healthy.close()


@pytest.mark.slow
def test_each_corruption_keeps_its_own_evidence(tmp_path):
    """Two corruptions in the same second are two aside sets, neither overwriting the other."""
    directory = tmp_path / "store"
    for _ in range(2):
        store = DiskStore(str(directory))
        store.set("k", 1, None)
        store.close()
        _garble(directory)
        reopened = DiskStore(str(directory))  # an existing database is read or repaired on first use
        assert reopened.get("k") is None
        reopened.close()
    assert len(_asides(directory)) == 2


def test_an_open_connection_survives_another_process_moving_the_database_aside(tmp_path):
    """A process whose database was moved aside under it reopens instead of failing forever."""
    import os

    directory = tmp_path / "store"
    store = DiskStore(str(directory))
    store.set("k", 1, None)
    os.replace(directory / "cache.db", directory / "cache.db.corrupt-by-hand")  # what a recovering peer does
    for suffix in ("-wal", "-shm"):
        if (directory / f"cache.db{suffix}").exists():
            os.replace(directory / f"cache.db{suffix}", directory / f"cache.db{suffix}.corrupt-by-hand")
    DiskStore(str(directory)).close()  # the peer rebuilt it
    store.set("k2", 2, None)  # would raise "attempt to write a readonly database" on the moved file
    assert store.get("k2") == 2
    other = DiskStore(str(directory))
    assert other.get("k2") == 2  # written to the rebuilt database, not the moved one
    other.close()
    store.close()
