"""A Redis server that hangs (SIGSTOP: connections accepted, nothing answered) must not stall lookups.

Each caller used to wait a socket timeout plus a retry (4-5 s) whenever the fallback store tried
the primary again. Now the first caller to meet the hang waits one short lookup timeout, and the
primary is re-probed in the background until it answers; callers use the local tier meanwhile.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from vision_cache.stores import open_store
from vision_cache.stores.fallback import FallbackStore

GETS = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """A redis-server of our own on a free loopback port, always resumed and stopped at the end."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    import redis

    port = _free_port()
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port, socket_timeout=0.5).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield proc, f"redis://127.0.0.1:{port}/0"
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(10)


def _wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.mark.slow
def test_a_hung_redis_costs_lookups_one_short_timeout_and_recovers_in_the_background(server, tmp_path, caplog):
    proc, url = server
    from vision_cache.ledger import Keys

    store = open_store(str(tmp_path / "local"), url, replay=Keys.replayed, mirror=Keys.mirrored)  # as the ledger
    assert isinstance(store, FallbackStore)
    store.retry_interval = 0.2  # many re-probes during the hang: none may land on a caller
    try:
        store.set("verdict\x1fbefore", "v", None)
        assert store.get("verdict\x1fbefore") == "v"
        os.kill(proc.pid, signal.SIGSTOP)
        durations = []
        with caplog.at_level(logging.WARNING, logger="vision_cache"):
            for i in range(GETS):
                started = time.monotonic()
                store.get("verdict\x1fbefore")
                if i == GETS // 2:
                    store.set("verdict\x1fduring", "written while hung", None)
                durations.append(time.monotonic() - started)
                time.sleep(0.05)
        assert store.degraded
        assert sum(durations) < 2.0, durations
        assert max(durations) < 1.0, durations
        assert sum("unreachable" in r.getMessage() for r in caplog.records) == 1
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    try:
        assert _wait_until(lambda: not store.degraded, 10), "the primary was not re-probed after it resumed"
        assert store.get("verdict\x1fbefore") == "v"  # from Redis again
        assert store.primary.get("verdict\x1fduring") == "written while hung"  # copied back on recovery
    finally:
        store.close()


@pytest.mark.slow
def test_no_caller_waits_while_the_primary_stays_down(server, tmp_path):
    """Once marked down, callers never touch the primary: the background probe does."""
    proc, url = server
    store = open_store(str(tmp_path / "local"), url)
    store.retry_interval = 0.05
    try:
        store.get("verdict\x1fx")
        os.kill(proc.pid, signal.SIGSTOP)
        store.get("verdict\x1fx")  # meets the hang once
        assert store.degraded
        started = time.monotonic()
        for _ in range(50):
            store.get("verdict\x1fx")
            store.set("verdict\x1fy", 1, None)
            time.sleep(0.01)
        assert time.monotonic() - started < 2.0
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        store.close()
