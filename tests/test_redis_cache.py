"""The Redis store in service: several hosts, outages and recovery (a real redis-server)."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import time

import pytest
from conftest import REDIS_URL, TEXT_LLM, VLM, VLM_2, delete_redis_prefix, publish, require_redis

from vision_cache import Kind, Source, VisionCache
from vision_cache.stores.fallback import FallbackStore


@pytest.fixture
def prefix():
    from uuid import uuid4

    require_redis()
    value = f"vc-test-{uuid4().hex}:"
    yield value
    delete_redis_prefix(value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A redis-server of our own on a free loopback port, to stop and start mid-test."""

    def __init__(self, tmp_path) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed")
        self.port, self.dir, self.proc = _free_port(), tmp_path, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


def _wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


HOST_CODE = """
import json, sys, time
from vision_cache import VisionCache
start_at = float(sys.argv[3])
cache = VisionCache(directory=sys.argv[1], url={url!r}, redis_prefix=sys.argv[2], memory_ttl=0)
time.sleep(max(0.0, start_at - time.time()))
v = cache.lookup({model!r})
print(json.dumps([v.kind.value, v.source.value]))
"""


def test_two_hosts_detect_a_cold_model_once_and_share_the_verdict(hub, tmp_path, prefix):
    publish(hub, VLM)
    code = HOST_CODE.format(url=REDIS_URL, model=VLM)
    start_at = str(time.time() + 3)
    import os

    hosts = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / f"host{i}"), prefix, start_at],
                              stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, HF_HOME=str(tmp_path / f"hf-home-{i}")))  # hosts share no disk
             for i in range(2)]
    answers = [json.loads(h.communicate(timeout=60)[0]) for h in hosts]
    assert sorted(a[0] for a in answers) == ["vision", "vision"]
    assert sorted(a[1] for a in answers) == ["detected", "store"]
    assert hub.count(VLM, path_contains="config.json", method="GET") == 1
    hub.reset_counts()
    third = subprocess.run([sys.executable, "-c", code, str(tmp_path / "host3"), prefix, "0"], capture_output=True,
                           text=True, check=True)
    assert json.loads(third.stdout) == ["vision", "store"] and hub.count() == 0


def test_outage_mid_run_degrades_to_the_local_tier_and_recovery_loses_nothing(hub, tmp_path, own_redis, caplog):
    for repo in (VLM, VLM_2, TEXT_LLM):
        publish(hub, repo)
    cache = VisionCache(directory=tmp_path / "local", url=own_redis.url, memory_ttl=0)
    assert isinstance(cache.store, FallbackStore)
    cache.store.retry_interval = 0.5
    assert cache.lookup(VLM).source is Source.DETECTED
    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        during = cache.lookup(VLM_2)  # Redis is down: detected, kept in the local tier
        assert during.kind is Kind.VISION
        assert cache.lookup(VLM_2).source is Source.STORE
        assert cache.lookup(TEXT_LLM).kind is Kind.NOT_VISION
    outage_warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage_warnings) == 1 and own_redis.url.split("@")[-1].split("/")[2] in outage_warnings[0].getMessage()
    own_redis.start()  # an empty server: nothing was persisted
    assert _wait_until(lambda: not cache.store.degraded, 5)  # re-probed in the background, every 0.5 s
    hub.reset_counts()
    assert cache.lookup(VLM).kind is Kind.VISION  # Redis is used again (re-detected there: it lost its data)
    assert not cache.store.degraded
    other_host = VisionCache(directory=tmp_path / "other", url=own_redis.url, memory_ttl=0)
    copied = other_host.lookup(VLM_2)  # written during the outage, copied to Redis on recovery
    assert (copied.kind, copied.source) == (Kind.VISION, Source.STORE)
    assert hub.count(VLM_2) == 0  # its alias was copied too: no request at all
    cache.close()
    other_host.close()


def test_redis_unreachable_at_start_then_returning(hub, tmp_path, caplog):
    server = OwnRedis(tmp_path)  # not started yet
    publish(hub, VLM)
    with caplog.at_level(logging.WARNING, logger="vision_cache"):
        cache = VisionCache(directory=tmp_path / "local", url=server.url, memory_ttl=0)
        cache.store.retry_interval = 0.3
        assert cache.lookup(VLM).kind is Kind.VISION
        assert cache.lookup(VLM).source is Source.STORE
    assert sum("unreachable" in r.getMessage() for r in caplog.records) == 1
    server.start()
    try:
        assert _wait_until(lambda: not cache.store.degraded, 5)  # re-probed in the background, every 0.3 s
        cache.lookup(VLM)
        assert not cache.store.degraded
        # the secret was never read from Redis before: the local one was used, so nothing is copied back
        assert cache.lookup(VLM).kind is Kind.VISION
        cache.close()
    finally:
        server.stop()


def test_password_never_appears_in_doctor_or_errors(tmp_path):
    import os

    url = "redis://user:s3cr3t-pass@127.0.0.1:1/0"
    result = subprocess.run([sys.executable, "-m", "vision_cache.cli", "doctor", "--dir", str(tmp_path)],
                            capture_output=True, text=True, env=dict(os.environ, VISION_CACHE_URL=url))
    output = result.stdout + result.stderr
    assert "s3cr3t-pass" not in output and "***" in output
    assert result.returncode == 1  # unreachable backend is a failed check
    result = subprocess.run([sys.executable, "-m", "vision_cache.cli", "doctor", "--dir", str(tmp_path), "--url", url],
                            capture_output=True, text=True)
    assert result.returncode == 2  # a password on the command line is refused ...
    assert "s3cr3t-pass" not in result.stdout + result.stderr  # ... without echoing it
    cache = VisionCache(directory=tmp_path / "x", url=url)
    assert "s3cr3t-pass" not in repr(cache) + cache.store.location


def test_cli_works_on_redis(hub, tmp_path, prefix):
    publish(hub, VLM)
    env_args = ["--dir", str(tmp_path), "--url", REDIS_URL]
    import os

    env = dict(os.environ, VISION_CACHE_REDIS_PREFIX=prefix)
    detect = subprocess.run([sys.executable, "-m", "vision_cache.cli", "detect", VLM, "--json", *env_args],
                            capture_output=True, text=True, env=env, check=True)
    assert json.loads(detect.stdout)[0]["kind"] == "vision"
    listed = subprocess.run([sys.executable, "-m", "vision_cache.cli", "ls", "--json", *env_args], capture_output=True,
                            text=True, env=env, check=True)
    assert [row["subject"] for row in json.loads(listed.stdout) if row["question"] == "vision"] == [VLM]
    migrate = subprocess.run([sys.executable, "-m", "vision_cache.cli", "migrate", "--check", *env_args],
                             capture_output=True, text=True, env=env)
    assert migrate.returncode == 0
