"""A kill storm: writer processes SIGKILLed at random moments never corrupt the store or lose a verdict.

Eight real interpreters share one disk store and look up thousands of models (each child builds
the same ``MemoryHub``, so there is no HTTP and every child sees the same commit shas). Each child
prints every verdict it gets as a JSON line, flushed, before its next lookup. The parent SIGKILLs
children at random moments (while they open the store and migrate it, or in the middle of their
lookups) and starts new ones, at least ``KILLS`` times. Afterwards, with no process left:

- SQLite's ``PRAGMA integrity_check`` on ``cache.db`` (opened read-only) says ``ok``, and nothing was
  moved aside as corrupt;
- every verdict a child reported as ``detected`` or ``store`` is still in the store: answered from
  the store by commit sha by a cache whose Hub fails every call (and it was never called), and
  listed by ``entries()``;
- no lease outlives ``lease_ttl``: the ones killed holders left expire on their own.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import integrity

from vision_cache import Kind, Source, VisionCache
from vision_cache.lease import DEFAULT_LEASE_TTL
from vision_cache.ledger import Keys
from vision_cache.stores.disk import DiskStore

WRITERS = 8
KILLS = 120  # SIGKILLs in all, across the writers
MODELS = 3000
LEASE_TTL = 2.0
STORM_BUDGET = 100.0  # seconds: the storm ends (and fails) if it has not reached KILLS by then
CHILD_LIFETIME = 60.0  # a child that is never killed stops by itself after this long

# Built identically in every child and in this process: MemoryHub.add_repo derives each sha from the
# repo id, its files and how many repos came before, so the same calls in the same order give the same shas.
BUILD_HUB = r'''
def build_hub(count):
    import json
    from vision_cache.hub import MemoryHub

    hub = MemoryHub()
    shas = []
    for i in range(count):
        if i % 3 == 0:  # a vision sub-config on a text generator: vision
            config = {"model_type": f"storm_vlm_{i}", "architectures": [f"Storm{i}ForConditionalGeneration"],
                      "vision_config": {"hidden_size": 16}, "text_config": {"vocab_size": 32}}
        elif i % 3 == 1:  # a multimodal family's text-only checkpoint: not vision
            config = {"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"], "n": i}
        else:  # audio only: not vision
            config = {"model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"], "n": i}
        shas.append(hub.add_repo(f"storm/model-{i:04d}", {"config.json": json.dumps(config).encode(),
                                                           "README.md": b"# storm\n"}))
    return hub, shas
'''

CHILD = BUILD_HUB + r'''
import hashlib, json, random, sys, time
from vision_cache import VisionCache

store, seed, count, lease_ttl, lifetime = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), \
    float(sys.argv[5])
hub, shas = build_hub(count)
cache = VisionCache(directory=store, hub=hub, memory_ttl=0, lease_ttl=lease_ttl)
print(json.dumps({"ready": hashlib.sha1("".join(shas).encode()).hexdigest(), "store": cache.store.kind}), flush=True)
rng = random.Random(seed)
order = list(range(count))
rng.shuffle(order)
stop = time.monotonic() + lifetime
for n in range(10 * count):
    if time.monotonic() > stop:
        break
    i = order[n % count]
    by_sha = rng.random() < 0.3
    verdict = cache.lookup(f"storm/model-{i:04d}", revision=shas[i] if by_sha else None)
    print(json.dumps({"i": i, "kind": verdict.kind.value, "source": verdict.source.value,
                      "sha": verdict.commit_sha}), flush=True)
'''


def expected_kind(i: int) -> str:
    return "vision" if i % 3 == 0 else "not_vision"


class Child:
    """One writer: its process, the lines it printed (read by a thread), and when it will be killed."""

    def __init__(self, store: Path, seed: int, stderr_path: Path, rng: random.Random) -> None:
        self.stderr_path = stderr_path
        with open(stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(store), str(seed), str(MODELS), str(LEASE_TTL),
                 str(CHILD_LIFETIME)], stdout=subprocess.PIPE, stderr=err)
        self.spawned = time.monotonic()
        self.lines: list[bytes] = []
        self.looking_up_at: float | None = None  # when its first verdict arrived
        # One kill in five lands while the child starts, opens (and maybe migrates) the store; the
        # others at a random moment of its lookups.
        self.early = rng.random() < 0.2
        self.delay = rng.uniform(0.0, 0.4)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if self.looking_up_at is None and len(self.lines) == 2:
                self.looking_up_at = time.monotonic()

    def due(self) -> bool:
        if self.early:
            return time.monotonic() >= self.spawned + self.delay
        return self.looking_up_at is not None and time.monotonic() >= self.looking_up_at + self.delay

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.reader.join(timeout=10)

    def records(self) -> list[dict]:
        """Every complete JSON line (a line cut by the kill is not a report)."""
        out = []
        for line in self.lines:
            if line.endswith(b"\n"):
                out.append(json.loads(line))
        return out


@pytest.fixture
def children():
    made: list[Child] = []
    yield made
    for child in made:  # ours only, by pid
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait(timeout=10)


@pytest.mark.slow
def test_kill_storm_leaves_a_sound_store_with_every_reported_verdict(tmp_path, children):
    store = tmp_path / "store"
    logs = tmp_path / "logs"
    logs.mkdir()
    namespace: dict = {}
    exec(BUILD_HUB, namespace)  # the same hub the children build
    _, shas = namespace["build_hub"](MODELS)
    hub_digest = hashlib.sha1("".join(shas).encode()).hexdigest()
    rng = random.Random(11)

    started = time.monotonic()
    running: list[Child | None] = [None] * WRITERS
    kills = spawned = kills_mid_lookups = 0
    while kills < KILLS:
        assert time.monotonic() - started < STORM_BUDGET, f"only {kills} kills in {STORM_BUDGET:g} s"
        for slot in range(WRITERS):
            child = running[slot]
            if child is None:
                child = running[slot] = Child(store, spawned, logs / f"{spawned}.err", rng)
                children.append(child)
                spawned += 1
            elif child.proc.poll() is not None:
                pytest.fail(f"a writer ended on its own ({child.proc.returncode}):\n"
                            f"{child.stderr_path.read_text(errors='replace')}")
            elif child.due() and kills < KILLS:
                child.kill()
                kills += 1
                kills_mid_lookups += len(child.records()) > 1  # killed after at least one verdict
                running[slot] = None
        time.sleep(0.005)
    for child in running:  # the last ones die by SIGKILL too (the storm is over: their moment is not random)
        if child is not None:
            child.kill()
            kills += 1
    storm_seconds = time.monotonic() - started

    # 1. SQLite's own check of what the kills left, before anything opens the store again.
    assert integrity(store / "cache.db") == [("ok",)]
    assert not [p.name for p in store.iterdir() if ".corrupt-" in p.name]

    # 2. What the children said.
    reported: dict[tuple[int, str], str] = {}
    verdict_lines = 0
    for child in children:
        stderr = child.stderr_path.read_text(errors="replace")
        assert "Traceback" not in stderr and "memory-only" not in stderr, stderr
        records = child.records()
        if records:
            assert records[0] == {"ready": hub_digest, "store": "disk"}, records[0]
        for record in records[1:]:
            i = record["i"]
            assert record["kind"] == expected_kind(i) and record["sha"] == shas[i], record  # never a wrong answer
            if record["source"] in (Source.DETECTED.value, Source.STORE.value):
                verdict_lines += 1
                reported[(i, record["sha"])] = record["kind"]
    assert kills == spawned >= KILLS and kills_mid_lookups >= KILLS // 2, (kills, spawned, kills_mid_lookups)
    assert len(reported) >= 200, len(reported)

    # 3. No lease lives longer than lease_ttl, and those left by killed holders expire.
    raw = DiskStore(str(store))
    try:
        now = time.time()
        for key, _, expires in raw.scan():
            if key.startswith(Keys.family(Keys.LEASE)):  # single-flight: lease_ttl
                assert expires is not None and expires <= now + LEASE_TTL + 0.5, key
            elif key == Keys.MIGRATION_LOCK:  # the migration lease keeps its own, fixed ttl
                assert expires is not None and expires <= now + DEFAULT_LEASE_TTL + 0.5, key
        time.sleep(LEASE_TTL + 0.2)
        assert [key for key, _, _ in raw.scan(Keys.family(Keys.LEASE))] == []
    finally:
        raw.close()

    # 4. Every reported verdict is in the store: answered by sha with a Hub that fails every call.
    from vision_cache.hub import MemoryHub

    offline = MemoryHub()
    offline.failure = ConnectionError("the Hub must not be asked: the store has this verdict")
    checker = VisionCache(directory=store, hub=offline, memory_ttl=0)
    try:
        assert checker.store.kind == "disk"
        for (i, sha), kind in sorted(reported.items()):
            verdict = checker.lookup(f"storm/model-{i:04d}", revision=sha)
            assert (verdict.kind.value, verdict.source) == (kind, Source.STORE), (i, verdict)
        assert offline.calls == []
        listed = {(e.verdict.subject, e.version) for e in checker.entries(question="vision")
                  if e.scope == "anonymous" and e.verdict.kind in (Kind.VISION, Kind.NOT_VISION)}
        assert {(f"storm/model-{i:04d}", sha) for i, sha in reported} <= listed
    finally:
        checker.close()
    print(f"\nkill storm: {kills} SIGKILLs ({kills_mid_lookups} mid-lookups) of {spawned} processes, "
          f"{WRITERS} at a time, in {storm_seconds:.1f} s; {verdict_lines} verdict lines, "
          f"{len(reported)} distinct verdicts checked")
