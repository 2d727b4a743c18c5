"""Shared fixtures: one loopback Hub stand-in per test session, real configs, fresh stores.

The real ``huggingface_hub`` client reads ``HF_ENDPOINT`` and ``HF_HOME`` when it is imported, so
``pytest_configure`` starts the stand-in and sets them before any test imports it. Subprocesses
started by tests inherit the same environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from hubstub import FakeHub  # noqa: E402

DATA = Path(__file__).parent / "data"
CONFIGS = DATA / "configs"
_HUB = FakeHub()
_CLEARED_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN_PATH",
                "HF_HUB_CACHE", "VISION_CACHE_URL", "VISION_CACHE_NEGATIVE_TTL", "VISION_CACHE_DENIED_TTL",
                "VISION_CACHE_ALIAS_TTL", "HF_OIDC_RESOURCE")


def pytest_configure(config):
    endpoint = _HUB.start()
    root = tempfile.mkdtemp(prefix="vision_cache-tests-")
    for name in _CLEARED_ENV:
        os.environ.pop(name, None)
    os.environ.update({
        "HF_ENDPOINT": endpoint,
        "HF_HOME": os.path.join(root, "hf-home"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_ETAG_TIMEOUT": "2",
        "HF_HUB_DOWNLOAD_TIMEOUT": "2",
        "VISION_CACHE_DIR": os.path.join(root, "default-store"),
        "TRANSFORMERS_VERBOSITY": "error",
    })


def pytest_unconfigure(config):
    _HUB.stop()


@pytest.fixture
def hub() -> FakeHub:
    """The session's Hub stand-in, emptied for this test."""
    _HUB.reset()
    return _HUB


def manifest() -> list[dict]:
    return json.loads((CONFIGS / "manifest.json").read_text())


def config_bytes(repo_id: str) -> bytes:
    return (CONFIGS / (repo_id.replace("/", "__") + ".json")).read_bytes()


def publish(hub: FakeHub, repo_id: str, **kwargs) -> str:
    """Serve the genuine config.json of ``repo_id`` (from tests/data/configs) from the stand-in."""
    return hub.add_repo(repo_id, {"config.json": config_bytes(repo_id), "README.md": b"# model card\n"}, **kwargs)


# Real models used across the store tests (their expected verdicts are in the manifest).
VLM = "AdaptLLM/food-Qwen2-VL-2B-Instruct"
VLM_2 = "llava-hf/llava-v1.6-mistral-7b-hf"
TEXT_LLM = "Qwen/Qwen3-8B"
TEXT_LLM_2 = "fuliucansheng/Mistral-7B-Instruct-v0.3"
AUDIO = "Qwen/Qwen2-Audio-7B-Instruct"


@pytest.fixture
def store_dir(tmp_path) -> Path:
    return tmp_path / "store"


# -- stores: every cache-level test runs on the disk store and on Redis ----------------------------

REDIS_URL = "redis://127.0.0.1:6379/0"
_redis_probe: list[str | None] = []


def _redis_problem() -> str | None:
    """Why the Redis tests cannot run (None: they can). Probed once per session."""
    if not _redis_probe:
        try:
            import redis

            client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1, socket_timeout=1)
            try:
                client.ping()
            finally:
                client.close()
            _redis_probe.append(None)
        except Exception as exc:  # ImportError, ConnectionError, ...
            _redis_probe.append(f"{type(exc).__name__}: {exc}")
    return _redis_probe[0]


def require_redis() -> None:
    """Skip on a laptop without Redis; on CI (``CI`` set) a missing Redis is a failure."""
    problem = _redis_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"no Redis server at 127.0.0.1:6379 and CI is set, so this is an error: {problem}")
    pytest.skip(f"no Redis server at 127.0.0.1:6379: {problem}")


def delete_redis_prefix(prefix: str, url: str = REDIS_URL) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(match=prefix.replace("*", "\\*") + "*", count=500):
            client.delete(key)
    finally:
        client.close()


def _cache_factory(store_dir: Path, backend: str):
    from uuid import uuid4

    from vision_cache import VisionCache

    made = []
    prefix = f"vc-test-{uuid4().hex}:"

    def make(**kwargs):
        kwargs.setdefault("directory", store_dir)
        kwargs.setdefault("memory_ttl", 0)  # these tests look at the shared store; the memory tier has its own
        if backend == "redis":
            kwargs.setdefault("url", REDIS_URL)
            kwargs.setdefault("redis_prefix", prefix)
        cache = VisionCache(**kwargs)
        made.append(cache)
        return cache

    make.backend, make.redis_prefix = backend, prefix

    def close():
        for cache in made:
            cache.close()
        if backend == "redis":
            delete_redis_prefix(prefix)

    return make, close


@pytest.fixture(params=["disk", "redis"])
def backend(request) -> str:
    if request.param == "redis":
        require_redis()
    return request.param


@pytest.fixture
def make_cache(store_dir, backend):
    """Build VisionCache instances on this test's store (disk folder, or a fresh Redis namespace)."""
    make, close = _cache_factory(store_dir, backend)
    yield make
    close()


@pytest.fixture
def make_disk_cache(store_dir):
    """For what is specific to the disk store (its folder, files and SQLite)."""
    make, close = _cache_factory(store_dir, "disk")
    yield make
    close()


def run_python(code: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with the test environment (plus ``env``)."""
    full_env = dict(os.environ, **(env or {}))
    result = subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"subprocess failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def store_files_bytes(folder: Path) -> bytes:
    """Every byte under ``folder`` (to prove a secret appears nowhere)."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.fixture
def redis_prefix():
    """A fresh Redis key prefix for one test; every key under it is deleted at teardown."""
    from uuid import uuid4

    require_redis()
    prefix = f"vc-test-{uuid4().hex}:"
    yield prefix
    delete_redis_prefix(prefix)


def interrupt_when(proc: subprocess.Popen, ready, timeout: float = 20) -> tuple[str, str]:
    """Once ``ready()`` (which may wait) returns, send ``proc`` a Ctrl-C (SIGINT) and collect its output;
    a process still alive after ``timeout`` (or after a failure on the way) is killed."""
    import signal

    try:
        ready()
        assert proc.poll() is None, proc.communicate()  # still running: there is something to interrupt
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def integrity(path) -> list[tuple]:
    """SQLite's ``PRAGMA integrity_check`` of the database at ``path``, opened read-only."""
    import sqlite3
    from urllib.parse import quote

    db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()
