"""Bad input raises one clear, typed error, with nothing looked up or written."""

from __future__ import annotations

import pytest
from conftest import VLM, publish

from vision_cache import (
    ConfigurationError,
    InvalidModelNameError,
    InvalidRevisionError,
    InvalidTokenError,
    LocalModelNotFoundError,
    VisionCache,
)

BAD_NAMES = [
    "../x", "a--b/c", "", "x" * 500, "bad\nname", "tab\there", "org/na\x00me", "a/b/c", "org/name.git",
    "org//name", " org/name", "org/name ", "-org/name", "org/..", "\u202eorg/name",
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_invalid_repo_ids_raise_a_value_error_and_write_nothing(hub, make_cache, name):
    cache = make_cache()
    before = sorted(k for k, _, _ in cache.store.scan())
    with pytest.raises(InvalidModelNameError) as caught:
        cache.lookup(name)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value)  # names the problem
    assert sorted(k for k, _, _ in cache.store.scan()) == before
    assert hub.count() == 0


@pytest.mark.parametrize("name", [None, 42, b"org/name", ["org/name"], object()], ids=repr)
def test_non_string_names_raise_from_lookup_and_answer_false_from_the_drop_in(make_cache, name):
    cache = make_cache()
    with pytest.raises(InvalidModelNameError, match="must be a str"):
        cache.lookup(name)
    assert cache.is_vision_model(name) is False  # Studio's contract: never raises


def test_a_path_that_does_not_exist_is_a_clear_error(make_cache, tmp_path):
    with pytest.raises(LocalModelNotFoundError) as caught:
        make_cache().lookup(str(tmp_path / "no-such-folder"))
    assert isinstance(caught.value, FileNotFoundError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("revision", ["", "a b", "x\n", 12, "../main", "x" * 300, "ends/", "a.lock"], ids=repr)
def test_invalid_revisions_raise(hub, make_cache, revision):
    publish(hub, VLM)
    with pytest.raises(InvalidRevisionError):
        make_cache().lookup(VLM, revision=revision)
    assert hub.count() == 0


def test_a_non_string_token_raises_without_showing_it(make_cache):
    secret = bytearray(b"hf_secret_value")
    with pytest.raises(InvalidTokenError) as caught:
        make_cache().lookup(VLM, hf_token=secret)
    assert "hf_secret_value" not in str(caught.value)


@pytest.mark.parametrize("kwargs", [{"negative_ttl": -1}, {"denied_ttl": "soon"}, {"alias_ttl": float("nan")},
                                    {"lease_ttl": -1}, {"memory_ttl": 1e18}, {"hub_timeout": True}])
def test_bad_settings_raise_configuration_error(store_dir, kwargs):
    with pytest.raises(ConfigurationError):
        VisionCache(directory=store_dir, **kwargs)


def test_bad_environment_settings_raise_configuration_error(store_dir, monkeypatch):
    monkeypatch.setenv("VISION_CACHE_NEGATIVE_TTL", "a week")
    with pytest.raises(ConfigurationError, match="VISION_CACHE_NEGATIVE_TTL"):
        VisionCache(directory=store_dir)


def test_ttls_come_from_environment(store_dir, monkeypatch):
    monkeypatch.setenv("VISION_CACHE_NEGATIVE_TTL", "60")
    monkeypatch.setenv("VISION_CACHE_DENIED_TTL", "5")
    monkeypatch.setenv("VISION_CACHE_ALIAS_TTL", "7.5")
    settings = VisionCache(directory=store_dir).settings
    assert (settings.negative_ttl, settings.denied_ttl, settings.alias_ttl) == (60, 5, 7.5)
    assert VisionCache(directory=store_dir, denied_ttl=1).settings.denied_ttl == 1  # argument wins
