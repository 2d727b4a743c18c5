"""A hostile ``cache.db``: rows that name value files outside the store folder.

diskcache keeps a ``filename`` column for values it stores as files, and removes that file (then
its empty parent folders) whenever the row is deleted, replaced, expired or culled. vision_cache
never writes value files, so a row with a filename was planted: nothing it names may be read or
removed. Every case plants a real row with sqlite3 in a real store.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from diskcache.core import MODE_BINARY, MODE_PICKLE, MODE_TEXT

from vision_cache.stores.base import StoreError
from vision_cache.stores.disk import DiskStore

PRECIOUS = b'{"planted": "read from outside the store"}'


@pytest.fixture
def layout(tmp_path):
    """tmp/stores/a/ holds the store; tmp/elsewhere/precious.txt is a file the store must never touch."""
    store_dir = tmp_path / "stores" / "a"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "precious.txt").write_bytes(PRECIOUS)
    store = DiskStore(str(store_dir))
    store.set("victim", {"ok": True}, None)
    store.set("bystander", 1, None)
    yield store, store_dir, outside
    store.close()


def _plant(store_dir: Path, key: str, filename: str, mode: int = MODE_TEXT, expired: bool = False) -> None:
    db = sqlite3.connect(store_dir / "cache.db", timeout=10)
    with db:
        db.execute("UPDATE Cache SET filename = ?, mode = ?, value = NULL, expire_time = ? WHERE key = ?",
                   (filename, mode, time.time() - 60 if expired else None, key))
    db.close()


def _names(outside: Path) -> list[str]:
    """Spellings of the outside file as a relative path (from the store folder) and as an absolute one."""
    return ["../../elsewhere/precious.txt", str(outside / "precious.txt")]


OPERATIONS = {
    "delete": lambda store: store.delete("victim"),
    "overwrite": lambda store: store.set("victim", "new", None),
    "add-over-expired": lambda store: store.add("victim", "new", None),
    "compare-and-delete": lambda store: store.compare_and_delete("victim", {"ok": True}),
    "purge-all": lambda store: [store.delete(key) for key, _, _ in list(store.scan())],
    "expire": lambda store: store.expire(),
    "cull-on-another-write": lambda store: [store.set(f"other-{i}", i, None) for i in range(3)],
    "get": lambda store: store.get("victim"),
    "scan": lambda store: list(store.scan()),
}


@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_planted_filename_never_removes_or_reads_outside_files(layout, operation, absolute):
    store, store_dir, outside = layout
    name = _names(outside)[absolute]
    _plant(store_dir, "victim", name, expired=operation in ("expire", "cull-on-another-write", "add-over-expired"))
    try:
        result = OPERATIONS[operation](store)
    except StoreError:
        result = None  # refusing the planted row is fine; touching the file it names is not
    assert (outside / "precious.txt").read_bytes() == PRECIOUS
    assert outside.is_dir()
    assert "planted" not in repr(result)  # the outside file's content was never returned as a value
    store.set("after", 2, None)  # the store still works
    assert store.get("after") == 2


@pytest.mark.parametrize("mode", [MODE_TEXT, MODE_BINARY, MODE_PICKLE])
def test_a_planted_value_file_is_a_bad_entry_not_a_read(layout, mode):
    store, store_dir, outside = layout
    _plant(store_dir, "victim", _names(outside)[0], mode=mode)
    with pytest.raises(StoreError):
        store.get("victim")
    assert [key for key, _, _ in store.scan()] == ["bystander"]


def test_a_planted_fifo_value_file_does_not_hang_a_read(layout):
    """A read of the named file would block forever on a FIFO: the entry must be refused unread."""
    import os
    import threading

    store, store_dir, outside = layout
    os.mkfifo(outside / "pipe")
    _plant(store_dir, "victim", str(outside / "pipe"))
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(store.get("victim"))
        except StoreError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # unblock the stuck reader so the test process can end
        with open(outside / "pipe", "wb"):
            pass
        reader.join(5)
        pytest.fail("reading a planted row blocked on the file it names")
    assert isinstance(outcome[0], StoreError)


def test_doctor_check_reports_planted_rows_without_touching_their_files(layout):
    store, store_dir, outside = layout
    _plant(store_dir, "victim", _names(outside)[1])
    problems = store.check()
    assert any("value file" in p for p in problems), problems
    assert (outside / "precious.txt").read_bytes() == PRECIOUS
