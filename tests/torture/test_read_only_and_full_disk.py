"""A store on a read-only or a full file system: lookups still answer, right, and never raise.

The tests run as root on CI, where ``chmod 0500`` stops no write, so the file systems are real:
a small ``tmpfs`` mounted for the test (remounted read-only, or filled to the last byte), and
unmounted at the end. Without the right to mount (not root, no CAP_SYS_ADMIN) a non-root run
uses ``chmod`` for the read-only case, and the full-disk case is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import AUDIO, VLM, config_bytes

from vision_cache import Kind, Source, VisionCache
from vision_cache.hub import MemoryHub

TRUTH = {VLM: Kind.VISION, AUDIO: Kind.NOT_VISION}
MORE = 30  # cold models looked up on the broken file system (warnings must not grow with them)


def _hub() -> MemoryHub:
    hub = MemoryHub()
    for model in TRUTH:
        hub.add_repo(model, {"config.json": config_bytes(model)})
    for i in range(MORE):
        hub.add_repo(f"more/model-{i}", {"config.json": json.dumps({"model_type": "whisper", "n": i}).encode()})
    return hub


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def _tmpfs(where: Path, size: str):
    """A tmpfs of ``size`` at ``where`` for the duration (skips the test when mounting is not permitted)."""
    where.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot make a real read-only or full file system here")
    mounted = _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where))
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        if _run("umount", str(where)).returncode != 0:
            _run("umount", "-l", str(where))  # lazily, if something still holds it


def _remount_read_only(where: Path) -> None:
    remounted = _run("mount", "-o", "remount,ro", str(where))
    assert remounted.returncode == 0, remounted.stderr
    with pytest.raises(OSError) as refused:
        (where / "probe").write_bytes(b"x")
    assert refused.value.errno == errno.EROFS


def _seed(store: Path) -> None:
    """A store holding the two truths, closed: no connection is left open."""
    cache = VisionCache(directory=store, hub=_hub(), memory_ttl=0)
    for model in TRUTH:
        cache.lookup(model)
    assert cache.store.kind == "disk"
    cache.close()


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.name.startswith("vision_cache")]


def _lookups_answer(cache: VisionCache) -> list:
    out = []
    for model, kind in TRUTH.items():
        verdict = cache.lookup(model)
        assert verdict.kind is kind, verdict
        assert cache.is_vision_model(model) is (kind is Kind.VISION)
        out.append(verdict)
    for i in range(MORE):
        assert cache.lookup(f"more/model-{i}").kind is Kind.NOT_VISION
    return out


# -- read-only ---------------------------------------------------------------------------------------


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder holding a seeded store, then made read-only: by a read-only mount as root, by chmod otherwise."""
    if os.getuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        _seed(folder / "store")
        (folder / "store").chmod(0o500)
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)
        (folder / "store").chmod(0o700)
        return
    with _tmpfs(tmp_path / "ro", "8m") as folder:
        _seed(folder / "store")
        _remount_read_only(folder)
        yield folder


def test_a_store_on_a_read_only_file_system_degrades_to_memory_with_one_warning(read_only_folder, caplog):
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = VisionCache(directory=read_only_folder / "store", hub=_hub(), memory_ttl=0)
        _lookups_answer(cache)
        assert all(v.source is Source.STORE for v in _lookups_answer(cache))  # the memory store answers again
        assert cache.stats()["store"]["kind"] == cache.store.kind
        cache.close()
    assert cache.store.kind == "memory"
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "memory-only" in warnings[0], warnings


def test_a_new_store_under_a_read_only_folder_degrades_to_memory_with_one_warning(read_only_folder, caplog):
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = VisionCache(directory=read_only_folder / "never-created", hub=_hub(), memory_ttl=0)
        _lookups_answer(cache)
    assert cache.store.kind == "memory" and not (read_only_folder / "never-created").exists()
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "memory-only" in warnings[0], warnings


# -- full ----------------------------------------------------------------------------------------------


def _fill(folder: Path) -> Path:
    """Write a file until the file system has no byte left."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb") as fh:
        for _ in range(100_000):  # bounded: 6 GB at most, far more than the tmpfs holds
            try:
                fh.write(chunk)
                fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
        else:
            pytest.fail("the file system never filled up")
    while True:  # the last partial chunk
        try:
            with open(filler, "ab") as fh:
                fh.write(b"\0" * 512)
        except OSError:
            break
    return filler


@pytest.fixture
def small_tmpfs(tmp_path):
    if os.getuid() != 0:
        pytest.skip("a full file system needs a small tmpfs, and mounting one needs root (or CAP_SYS_ADMIN)")
    with _tmpfs(tmp_path / "small", "4m") as folder:
        yield folder


def test_a_store_on_a_full_file_system_still_answers_what_it_holds(small_tmpfs, caplog):
    """A new process opens a store on a file system with no byte left. Either SQLite cannot even open
    it (memory only, said once), or what the store holds is read (read-only connections need no
    space) while new verdicts are answered but not kept, said once per kind of failure, not per
    lookup. Every lookup answers right either way."""
    store = small_tmpfs / "store"
    _seed(store)
    _fill(small_tmpfs)
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = VisionCache(directory=store, hub=_hub(), memory_ttl=0)
        verdicts = _lookups_answer(cache)
        _lookups_answer(cache)
        cache.close()
    warnings = _warnings(caplog)
    if cache.store.kind == "memory":
        assert len(warnings) == 1 and "memory-only" in warnings[0], warnings
    else:
        assert [v.source for v in verdicts] == [Source.STORE] * len(verdicts)
        assert 1 <= len(warnings) <= 3 and all("full" in w for w in warnings), warnings


def test_a_file_system_filling_up_under_an_open_store_never_fails_a_lookup(small_tmpfs, caplog):
    """The disk fills while the store is open: hits still come from the store, new verdicts are
    answered but not kept (warned once per kind of failure, not per lookup), and once space is
    back the same cache keeps what it detects again."""
    store = small_tmpfs / "store"
    _seed(store)
    cache = VisionCache(directory=store, hub=_hub(), memory_ttl=0)
    assert cache.lookup(VLM).source is Source.STORE  # the connection, its log and index are open
    filler = _fill(small_tmpfs)
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        verdicts = _lookups_answer(cache)
        assert [v.source for v in verdicts] == [Source.STORE, Source.STORE]  # reads still work
        _lookups_answer(cache)
        cache.stats()
        cache.entries()
    assert cache.store.kind == "disk"
    warnings = _warnings(caplog)
    assert 1 <= len(warnings) <= 3, warnings  # once per kind of failure (read, write...), never per lookup
    assert all("disk is full" in w for w in warnings), warnings

    filler.unlink()  # space is back: the same cache keeps what it detects again
    assert cache.lookup("more/model-0").kind is Kind.NOT_VISION
    other = VisionCache(directory=store, hub=_hub(), memory_ttl=0)
    assert other.lookup("more/model-0").source is Source.STORE
    other.close()
    cache.close()


def test_a_new_store_on_a_full_file_system_degrades_to_memory_with_one_warning(small_tmpfs, caplog):
    _fill(small_tmpfs)
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = VisionCache(directory=small_tmpfs / "store", hub=_hub(), memory_ttl=0)
        _lookups_answer(cache)
        cache.close()
    assert cache.store.kind == "memory"
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "memory-only" in warnings[0], warnings
