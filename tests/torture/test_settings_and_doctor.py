"""Absurd settings are refused; a malformed secret is replaced, and doctor reports the store in use.

- A lifetime beyond a century (``VISION_CACHE_NEGATIVE_TTL=1e17``: it would overflow time APIs
  and keep a ``not_vision`` forever) is a :class:`ConfigurationError` naming the variable, from the
  environment or an argument; Studio's drop-in answers False instead of raising.
- A secret record planted or damaged in the store is replaced, the store stays in use, and
  ``doctor`` (``run_checks``) says so; a store that had to degrade to memory fails doctor's check.
"""

from __future__ import annotations

import pickle
import sqlite3
import time
from datetime import timedelta

import pytest
from conftest import REDIS_URL, VLM, publish

from vision_cache import ConfigurationError, Kind, VisionCache
from vision_cache.doctor import run_checks
from vision_cache.ledger import Keys
from vision_cache.settings import Settings

SECONDS = ["NEGATIVE_TTL", "DENIED_TTL", "ALIAS_TTL", "LEASE_TTL", "MEMORY_TTL", "HUB_TIMEOUT", "SIDECAR_TIMEOUT",
           "AUDIO_NEGATIVE_TTL", "EMBEDDING_NEGATIVE_TTL"]


@pytest.mark.parametrize("value", ["1e17", "1e400", "inf", "-inf", "nan", "3.2e9", "-1", str(10**30)])
@pytest.mark.parametrize("name", SECONDS)
def test_absurd_lifetimes_from_the_environment_are_configuration_errors(store_dir, monkeypatch, name, value):
    monkeypatch.setenv(f"VISION_CACHE_{name}", value)
    with pytest.raises(ConfigurationError, match=f"VISION_CACHE_{name}"):
        VisionCache(directory=store_dir)


@pytest.mark.parametrize("value", [1e17, 10**30, float("inf"), timedelta(days=10**8)])
def test_absurd_lifetime_arguments_are_configuration_errors(store_dir, value):
    with pytest.raises(ConfigurationError, match="negative_ttl"):
        VisionCache(directory=store_dir, negative_ttl=value)


def test_a_century_is_still_accepted(store_dir, monkeypatch):
    monkeypatch.setenv("VISION_CACHE_NEGATIVE_TTL", str(100 * 365 * 24 * 3600))
    assert VisionCache(directory=store_dir).settings.negative_ttl == 100 * 365 * 24 * 3600


def test_studio_drop_in_answers_false_under_an_absurd_setting(monkeypatch, caplog):
    import vision_cache.studio as studio

    monkeypatch.setenv("VISION_CACHE_NEGATIVE_TTL", "1e17")
    monkeypatch.setattr(studio, "_default", None)  # built from this environment on first use
    assert studio.is_vision_model(VLM) is False
    assert "VISION_CACHE_NEGATIVE_TTL" in caplog.text


# -- the secret, and doctor --------------------------------------------------------------------------


def _settings(make_cache, store_dir) -> Settings:
    if make_cache.backend == "redis":
        return Settings.resolve(directory=str(store_dir), url=REDIS_URL, redis_prefix=make_cache.redis_prefix)
    return Settings.resolve(directory=str(store_dir))


def _plant_unreadable_secret(make_cache, store_dir, payload: bytes, mode: int) -> None:
    """A secret that is not JSON at all: a diskcache row of another mode, or raw bytes in Redis."""
    if make_cache.backend == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.set(make_cache.redis_prefix + Keys.SECRET, payload)
        client.close()
        return
    db = sqlite3.connect(store_dir / "cache.db", timeout=10)
    with db:
        value = sqlite3.Binary(payload) if mode == 4 else payload.decode()
        db.execute("UPDATE Cache SET mode = ?, value = ? WHERE key = ?", (mode, value, Keys.SECRET))
    db.close()


UNREADABLE = {"a-pickle": (pickle.dumps("a" * 64), 4), "not-json": (b"a" * 63 + b"!", 1)}
MALFORMED = {
    "not-hex": "z" * 64,
    "too-short": "ab" * 8,
    "upper-case": "AB" * 32,
    "a-number": 12345,
    "an-object": {"secret": "a" * 64},
    "control-characters": "\x1b" * 64,
}


@pytest.mark.parametrize("planted", [*MALFORMED, *UNREADABLE])
def test_a_malformed_secret_is_replaced_and_doctor_reports_the_store_in_use(hub, make_cache, store_dir, planted,
                                                                           caplog):
    publish(hub, VLM)
    first = make_cache()
    first.lookup(VLM, hf_token="hf_" + "s" * 34)  # the secret exists, and a token-scoped verdict with it
    if planted in UNREADABLE:
        _plant_unreadable_secret(make_cache, store_dir, *UNREADABLE[planted])
    else:
        first.store.set(Keys.SECRET, MALFORMED[planted], None)
    first.close()

    checks = {check.name: check for check in run_checks(_settings(make_cache, store_dir))}
    assert checks["store"].ok, checks["store"]
    assert checks["store"].detail.startswith(make_cache.backend), checks["store"]
    if make_cache.backend == "disk":
        assert str(store_dir) in checks["store"].detail
    assert checks["auth secret"].ok, checks["auth secret"]

    cache = make_cache()
    assert cache.store.kind == make_cache.backend  # not degraded
    secret = cache.store.get(Keys.SECRET)
    assert type(secret) is str and len(secret) == 64 and int(secret, 16) >= 0 and secret == secret.lower()
    assert cache.lookup(VLM, hf_token="hf_" + "s" * 34).kind is Kind.VISION  # detected again under the new one
    assert "secret" in caplog.text


def test_doctor_fails_a_store_that_degraded_to_memory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the store folder should be")
    checks = run_checks(Settings.resolve(directory=str(blocker / "store")))
    assert [c.name for c in checks] == ["store"] and not checks[0].ok, checks
    assert "memory" in checks[0].detail


def test_doctor_fails_a_store_from_a_newer_release(tmp_path):
    store = tmp_path / "store"
    cache = VisionCache(directory=store)
    cache.store.set(Keys.SCHEMA, {"version": 999}, None)
    cache.close()
    checks = run_checks(Settings.resolve(directory=str(store)))
    assert not checks[0].ok and "memory" in checks[0].detail, checks


def test_doctor_fails_a_read_only_store_folder_as_root(tmp_path):
    """As root chmod stops nothing: the store is on a tmpfs remounted read-only, and the secret is missing,
    so using the store would need a write (see test_read_only_and_full_disk for the lookups)."""
    import os
    import subprocess

    if os.getuid() != 0:
        pytest.skip("this case needs root to mount a read-only tmpfs")
    where = tmp_path / "ro"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(where)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        VisionCache(directory=where / "store").close()
        assert subprocess.run(["mount", "-o", "remount,ro", str(where)], capture_output=True).returncode == 0
        started = time.monotonic()
        checks = run_checks(Settings.resolve(directory=str(where / "store")))
        assert not all(c.ok for c in checks), checks
        assert time.monotonic() - started < 30
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)
