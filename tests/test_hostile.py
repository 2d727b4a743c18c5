"""Hostile store contents, secrets, tokens and folders never crash the caller (found in review)."""

from __future__ import annotations

import logging
import os

import pytest
from conftest import VLM, publish

from vision_cache import InvalidTokenError, Kind, Source, VisionCache
from vision_cache.stores.memory import MemoryStore


def test_absurdly_nested_or_huge_records_are_misses(hub, make_cache):
    publish(hub, VLM)
    cache = make_cache()
    cache.lookup(VLM)
    key = next(k for k, _, _ in cache.store.scan("verdict"))
    record = next(v for _, v, _ in cache.store.scan("verdict"))
    for planted in ({**record, "created_at": 10**400}, {**record, "created_at": "yesterday"}):
        cache.store.set(key, planted, None)
        assert cache.lookup(VLM).source is Source.DETECTED
    nested = "[" * 100_000 + "]" * 100_000
    if make_cache.backend == "disk":
        import diskcache

        raw = diskcache.Cache(str(cache.store.location))
        raw.set(key, nested)  # a str is stored as raw text, exactly as our JSON values are
        raw.close()
    else:
        import redis
        from conftest import REDIS_URL

        client = redis.Redis.from_url(REDIS_URL)
        client.set(make_cache.redis_prefix + key, nested)
        client.close()
    assert cache.lookup(VLM).kind is Kind.VISION  # a miss, re-detected; nothing raised
    assert isinstance(cache.entries(), list)


def test_a_malformed_secret_file_degrades_instead_of_raising(hub, make_disk_cache, store_dir, caplog):
    publish(hub, VLM)
    make_disk_cache().close()
    (store_dir / "secret.key").write_text("z" * 64)
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = make_disk_cache()
        assert cache.lookup(VLM).kind is Kind.VISION
    assert isinstance(cache.store, MemoryStore) and "secret" in caplog.text


def test_a_store_folder_owned_by_another_user_is_refused(hub, tmp_path, caplog):
    if os.getuid() != 0:
        pytest.skip("needs root to give the folder to another user")
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o777)
    os.chown(folder, 4321, 4321)
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = VisionCache(directory=folder)
    assert isinstance(cache.store, MemoryStore) and "another user" in caplog.text


def test_our_own_loose_folder_is_tightened(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    VisionCache(directory=folder).close()
    assert folder.stat().st_mode & 0o777 == 0o700


def test_tokens_that_no_hub_token_looks_like(make_cache, tmp_path, monkeypatch):
    cache = make_cache()
    with pytest.raises(InvalidTokenError):
        cache.lookup(VLM, hf_token="hf_\udc80")
    from vision_cache.keys import refresh_ambient

    home = tmp_path / "hf"
    home.mkdir()
    (home / "token").write_bytes(b"\xff\xfe not utf-8")
    monkeypatch.setenv("HF_HOME", str(home))
    refresh_ambient()
    try:
        assert cache.lookup("someone/anything", local_files_only=True).kind is Kind.UNKNOWN  # no crash
    finally:
        refresh_ambient()


def test_ls_skips_keys_we_did_not_write(hub, make_cache):
    publish(hub, VLM)
    cache = make_cache()
    cache.lookup(VLM)
    key = next(k for k, _, _ in cache.store.scan("verdict"))
    cache.store.set(key + "\x1fextra", next(v for _, v, _ in cache.store.scan("verdict")), None)
    assert [e.verdict.subject for e in cache.entries()] == [VLM]
