"""Auth scopes: a verdict obtained with one token is never served to another scope."""

from __future__ import annotations

import base64
import hashlib
import json
import os

from conftest import REDIS_URL, VLM, publish, run_python, store_files_bytes

from vision_cache import Kind, Source
from vision_cache.target import ambient_token, auth_scope

TOKEN_A = "hf_AAAAaaaaAAAAaaaaAAAAaaaaAAAAaaaa01"
TOKEN_B = "hf_BBBBbbbbBBBBbbbbBBBBbbbbBBBBbbbb02"
GATED = "google/gemma-3-4b-it-gated-copy"


def _publish_gated(hub):
    from conftest import config_bytes

    return hub.add_repo(GATED, {"config.json": config_bytes("mlx-community/gemma-3-4b-it-bf16")},
                        gated_tokens={TOKEN_A})


def test_gated_verdict_with_token_a_is_not_served_to_anonymous_or_token_b(hub, make_cache, store_dir):
    _publish_gated(hub)
    cache = make_cache()
    with_a = cache.lookup(GATED, hf_token=TOKEN_A)
    assert with_a.kind is Kind.VISION
    anonymous = cache.lookup(GATED)
    assert anonymous.kind is Kind.DENIED and "gated" in anonymous.evidence
    with_b = cache.lookup(GATED, hf_token=TOKEN_B)
    assert with_b.kind is Kind.DENIED
    hub.reset_counts()
    assert cache.lookup(GATED, hf_token=TOKEN_A).source is Source.STORE
    assert cache.lookup(GATED, hf_token=TOKEN_B).source is Source.STORE  # the denial, stored for B only
    assert hub.count() == 0
    assert cache.is_vision_model(GATED) is False


def test_cached_config_file_does_not_grant_access(hub, make_cache):
    """huggingface_hub returns a cached file even to a caller without access; we must not."""
    sha = _publish_gated(hub)
    cache = make_cache()
    assert cache.lookup(GATED, hf_token=TOKEN_A, revision=sha).kind is Kind.VISION  # file now in the HF cache
    assert cache.lookup(GATED, hf_token=TOKEN_B, revision=sha).kind is Kind.DENIED
    assert cache.lookup(GATED, revision=sha).kind is Kind.DENIED


def test_token_bytes_appear_nowhere_in_the_store_folder(hub, make_cache, store_dir):
    _publish_gated(hub)
    publish(hub, VLM)
    cache = make_cache()
    cache.lookup(GATED, hf_token=TOKEN_A)
    cache.lookup(GATED, hf_token=TOKEN_B)
    cache.lookup(VLM, hf_token=TOKEN_A)
    cache.close()
    everything = store_files_bytes(store_dir)
    if make_cache.backend == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=make_cache.redis_prefix + "*"):
            everything += key + (client.dump(key) or b"")
        client.close()
        assert make_cache.redis_prefix.encode() + b"verdict" in everything
    for token in (TOKEN_A, TOKEN_B):
        raw = token.encode()
        for form in (raw, raw[3:], hashlib.sha256(raw).hexdigest().encode(),
                     hashlib.sha256(raw).digest(), base64.b64encode(raw), raw.hex().encode()):
            assert form not in everything


def test_scope_is_keyed_by_a_per_install_secret(store_dir):
    assert auth_scope(None, b"s" * 32) == "anonymous"
    one, other = auth_scope(TOKEN_A, b"1" * 32), auth_scope(TOKEN_A, b"2" * 32)
    assert one != other and one.startswith("token:") and TOKEN_A not in one
    assert hashlib.sha256(TOKEN_A.encode()).hexdigest()[:32] not in one  # not a plain hash


def test_store_folder_is_0700_and_the_database_holding_the_secret_0600(hub, make_disk_cache, store_dir):
    make_disk_cache().ledger.secret()
    assert store_dir.stat().st_mode & 0o777 == 0o700
    assert (store_dir / "cache.db").stat().st_mode & 0o777 == 0o600


def test_ambient_token_from_env_is_the_effective_token(hub, make_cache, monkeypatch):
    _publish_gated(hub)
    cache = make_cache()
    from vision_cache.target import refresh_ambient

    monkeypatch.setenv("HF_TOKEN", TOKEN_A)
    refresh_ambient()  # (otherwise noticed within a second)
    assert cache.lookup(GATED).kind is Kind.VISION  # no argument: the ambient token counts
    monkeypatch.delenv("HF_TOKEN")
    refresh_ambient()
    assert cache.lookup(GATED).kind is Kind.DENIED  # and without it, no access


def _hub_get_token(env: dict) -> tuple[str | None, str | None]:
    code = ("import json; from huggingface_hub import get_token; from vision_cache.target import ambient_token;"
            "print(json.dumps([get_token(), ambient_token()]))")
    clean = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HOME",
                                                              "HF_TOKEN_PATH", "XDG_CACHE_HOME")}
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                         check=True).stdout
    return tuple(json.loads(out))


def test_ambient_token_agrees_with_huggingface_hub_get_token(tmp_path):
    home = tmp_path / "hf"
    home.mkdir()
    cases = [
        {"HF_HOME": str(home)},
        {"HF_HOME": str(home), "HF_TOKEN": " " + TOKEN_A + "\n"},
        {"HF_HOME": str(home), "HUGGING_FACE_HUB_TOKEN": TOKEN_B},
        {"HF_HOME": str(home), "HF_TOKEN": TOKEN_A, "HUGGING_FACE_HUB_TOKEN": TOKEN_B},
        {"HF_HOME": str(home), "HF_TOKEN": ""},
    ]
    for env in cases:
        expected, ours = _hub_get_token(env)
        assert ours == expected, env
    (home / "token").write_text(TOKEN_B + "\n")
    assert _hub_get_token({"HF_HOME": str(home)}) == (TOKEN_B, TOKEN_B)
    custom = tmp_path / "elsewhere" / "tok"
    custom.parent.mkdir()
    custom.write_text(TOKEN_A)
    assert _hub_get_token({"HF_HOME": str(home), "HF_TOKEN_PATH": str(custom)}) == (TOKEN_A, TOKEN_A)
    xdg = tmp_path / "xdg"
    (xdg / "huggingface").mkdir(parents=True)
    (xdg / "huggingface" / "token").write_text(TOKEN_A)
    assert _hub_get_token({"XDG_CACHE_HOME": str(xdg)}) == (TOKEN_A, TOKEN_A)


def test_ambient_token_is_read_without_importing_huggingface_hub():
    out = run_python("import sys, vision_cache.target as k; k.ambient_token();"
                     "print('huggingface_hub' in sys.modules)", env={"HF_TOKEN": TOKEN_A}).stdout
    assert out.strip() == "False"
    assert ambient_token() is None  # the test session clears HF_TOKEN
