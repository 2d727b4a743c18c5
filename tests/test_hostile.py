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


def test_a_malformed_secret_is_replaced_and_the_store_stays_in_use(hub, make_cache, caplog):
    """A planted or damaged secret must not put every process on memory only for good (nor be used)."""
    from vision_cache.ledger import Keys

    publish(hub, VLM)
    first = make_cache()
    first.store.set(Keys.SECRET, "z" * 64, None)
    first.close()
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = make_cache()
        assert cache.lookup(VLM, hf_token="hf_" + "a" * 34).kind is Kind.VISION
    assert not isinstance(cache.store, MemoryStore) and "secret" in caplog.text
    assert cache.store.get(Keys.SECRET) != "z" * 64
    assert make_cache().ledger.secret() == cache.ledger.secret()  # every process agrees on the new one


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
    from vision_cache.target import refresh_ambient

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
    assert [e.verdict.subject for e in cache.entries(question="vision")] == [VLM]
