"""Many processes, one store: single-flight, lease takeover, memory tier, warm start, and the CLI.

Every test here uses real interpreters (``subprocess``) against the session's loopback Hub, and
every wait is bounded. "Served once" means the stand-in answered exactly one ``GET`` of the
model's ``config.json`` (``hf_hub_download`` also sends a ``HEAD`` for metadata; that is counted
separately and must be one too).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import AUDIO, TEXT_LLM, TEXT_LLM_2, VLM, VLM_2, interrupt_when, manifest, publish

from vision_cache import Kind, Source, Verdict, VisionCache
from vision_cache.ledger import decode_verdict

EXPECTED = {VLM: "vision", VLM_2: "vision", TEXT_LLM: "not_vision", TEXT_LLM_2: "not_vision", AUDIO: "not_vision"}


# -- helpers -----------------------------------------------------------------------------------------


@pytest.fixture
def procs():
    """Processes started by a test; any still running at teardown are killed (by pid, ours only)."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def disk_cache():
    """VisionCache instances on a disk store folder (the CLI's ``--dir``), closed at the end."""
    made: list[VisionCache] = []

    def make(directory, **kwargs) -> VisionCache:
        kwargs.setdefault("memory_ttl", 0)
        made.append(VisionCache(directory=directory, **kwargs))
        return made[-1]

    yield make
    for cache in made:
        cache.close()


def spawn(procs: list, code: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=dict(os.environ, **(env or {})),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs.append(proc)
    return proc


def finish(proc: subprocess.Popen, timeout: float) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"subprocess failed ({proc.returncode}):\n{out}\n{err}"
    return out


def wait_for(condition, timeout: float, what: str, poll: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def config_gets(hub, repo: str) -> int:
    return hub.count(repo, path_contains="config.json", method="GET")


def cli(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vision_cache.cli", *args], env=dict(os.environ, **(env or {})),
                          capture_output=True, text=True, timeout=timeout)


# A worker for the barrier tests: build the cache, say "ready", wait for "go", look up its models.
BARRIER_WORKER = r"""
import json, os, random, sys, time
index, folder, store, models = int(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
from vision_cache import VisionCache
cache = VisionCache(directory=store, memory_ttl=0)
open(os.path.join(folder, f"ready-{index}"), "w").close()
go = os.path.join(folder, "go")
deadline = time.monotonic() + 60
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit("no go signal")
    time.sleep(0.002)
random.Random(index).shuffle(models)
answers = {}
for model in models:
    v = cache.lookup(model)
    answers[model] = [v.kind.value, v.commit_sha, v.source.value]
cache.close()
print(json.dumps(answers))
"""


def run_barrier(procs, tmp_path: Path, store: Path, models: list[str], workers: int) -> list[dict]:
    folder = tmp_path / "barrier"
    folder.mkdir()
    env = {"HF_HUB_CACHE": str(tmp_path / "hf-cache")}  # a cold HF cache: a cached blob would skip the GET
    started = [spawn(procs, BARRIER_WORKER, str(i), str(folder), str(store), json.dumps(models), env=env)
               for i in range(workers)]
    wait_for(lambda: len(list(folder.glob("ready-*"))) == workers, 60, "every worker to be ready")
    (folder / "go").touch()
    return [json.loads(finish(p, 60)) for p in started]


# -- single-flight across processes -----------------------------------------------------------------


def test_16_processes_cold_on_one_model_fetch_its_config_once(hub, tmp_path, procs):
    sha = publish(hub, VLM)
    answers = run_barrier(procs, tmp_path, tmp_path / "store", [VLM], 16)
    assert config_gets(hub, VLM) == 1
    assert hub.count(VLM, path_contains="config.json", method="HEAD") == 1
    assert hub.count(VLM, path_contains="/api/models/") == 1  # one revision resolution (model_info)
    verdicts = {tuple(a[VLM][:2]) for a in answers}
    assert verdicts == {("vision", sha)}
    sources = [a[VLM][2] for a in answers]
    assert sources.count("detected") == 1, sources  # exactly one process ran the detector


def test_4_models_x_16_processes_each_config_fetched_once(hub, tmp_path, procs):
    models = [VLM, VLM_2, TEXT_LLM, AUDIO]
    shas = {m: publish(hub, m) for m in models}
    answers = run_barrier(procs, tmp_path, tmp_path / "store", list(models), 16)
    assert {m: config_gets(hub, m) for m in models} == dict.fromkeys(models, 1)
    assert {m: hub.count(m, path_contains="/api/models/") for m in models} == dict.fromkeys(models, 1)
    for model in models:
        assert {tuple(a[model][:2]) for a in answers} == {(EXPECTED[model], shas[model])}, model
        assert [a[model][2] for a in answers].count("detected") == 1, model


def test_stats_count_one_detection_when_other_processes_waited_for_it(hub, tmp_path, procs):
    """Counters: 'detections' is documented as detector runs (at most one per cold key across processes)."""
    publish(hub, VLM)
    store = tmp_path / "store"
    run_barrier(procs, tmp_path, store, [VLM], 4)
    result = cli("stats", "--json", "--dir", str(store))
    assert result.returncode == 0, result.stderr
    counters = json.loads(result.stdout)["counters"]
    assert counters["misses"] + counters["hits_store"] + counters["hits_memory"] == 4
    assert counters["detections"] == 1, counters


# -- leases: a dead holder is replaced, a live one is never overtaken ----------------------------------

LEASE_WORKER = r"""
import json, os, sys, time
role, store, log, marker, ttl, holder_seconds = sys.argv[1:7]
ttl, holder_seconds = float(ttl), float(holder_seconds)
import huggingface_hub  # imported up front: the timings below measure the lease, not imports
from vision_cache import VisionCache
from vision_cache.detect.detector import Detection
from vision_cache.verdict import Kind

class SlowDetector:
    fingerprint = "test-concurrency-lease"
    def __call__(self, request):
        with open(log, "a") as fh:
            fh.write(f"A start {os.getpid()}\n")
        time.sleep(holder_seconds)
        return Detection(Kind.VISION, "slow holder")

class FastDetector:
    fingerprint = "test-concurrency-lease"
    def __call__(self, request):
        with open(log, "a") as fh:
            fh.write(f"B detect {os.getpid()}\n")
        return Detection(Kind.VISION, "fast")

detector = SlowDetector() if role == "A" else FastDetector()
cache = VisionCache(directory=store, lease_ttl=ttl, memory_ttl=0, detector=detector)
open(marker, "w").close()
v = cache.lookup(sys.argv[7])
done = time.time()
cache.close()
print(json.dumps({"done": done, "kind": v.kind.value, "evidence": v.evidence, "source": v.source.value}))
"""


def test_killed_leaseholder_is_taken_over_within_lease_ttl(hub, tmp_path, procs):
    publish(hub, VLM)
    store, log, ttl = tmp_path / "store", tmp_path / "detections.log", 2.0
    a = spawn(procs, LEASE_WORKER, "A", str(store), str(log), str(tmp_path / "a-ready"), str(ttl), "60", VLM)
    wait_for(lambda: log.exists() and log.read_text().count("\n") >= 1, 30, "A to start detecting")
    b = spawn(procs, LEASE_WORKER, "B", str(store), str(log), str(tmp_path / "b-ready"), str(ttl), "0", VLM)
    wait_for(lambda: (tmp_path / "b-ready").exists(), 30, "B to start its lookup")
    time.sleep(0.3)  # B is now waiting on A's lease
    assert b.poll() is None, "B did not wait for the leaseholder"
    os.kill(a.pid, signal.SIGKILL)
    killed_at = time.time()
    a.wait(timeout=10)
    result = json.loads(finish(b, 30))
    assert result["done"] - killed_at <= ttl + 1.0 + 0.5, result  # lease_ttl + 1 s, + 0.5 s for a loaded host
    assert (result["kind"], result["evidence"], result["source"]) == ("vision", "fast", "detected")
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith("A start") and lines[1].startswith("B detect"), lines


def test_healthy_holder_outlasting_several_lease_periods_is_never_overtaken(hub, tmp_path, procs):
    publish(hub, VLM)
    store, log, ttl = tmp_path / "store", tmp_path / "detections.log", 0.6
    a = spawn(procs, LEASE_WORKER, "A", str(store), str(log), str(tmp_path / "a-ready"), str(ttl), "3", VLM)
    wait_for(lambda: log.exists() and log.read_text().count("\n") >= 1, 30, "A to start detecting")
    b = spawn(procs, LEASE_WORKER, "B", str(store), str(log), str(tmp_path / "b-ready"), str(ttl), "0", VLM)
    first, second = json.loads(finish(a, 30)), json.loads(finish(b, 30))
    assert (first["kind"], first["evidence"], first["source"]) == ("vision", "slow holder", "detected")
    assert (second["kind"], second["evidence"]) == ("vision", "slow holder")
    assert second["source"] == "store"
    assert len(log.read_text().splitlines()) == 1, log.read_text()  # B never ran its detector


# -- within one process: the lock is per key ------------------------------------------------------------


def test_slow_detection_of_one_model_does_not_delay_another_in_the_same_process(hub, make_cache):
    from vision_cache.detect.detector import Detection

    publish(hub, VLM)
    publish(hub, TEXT_LLM)
    slow_started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    class Detector:
        fingerprint = "test-concurrency-threads"

        def __call__(self, request):
            calls.append(request.subject)
            if request.subject == VLM:
                slow_started.set()
                release.wait(20)
                return Detection(Kind.VISION, "slow")
            return Detection(Kind.NOT_VISION, "fast")

    cache = make_cache(detector=Detector())
    slow_results: list[Verdict] = []
    workers = [threading.Thread(target=lambda: slow_results.append(cache.lookup(VLM))) for _ in range(3)]
    try:
        workers[0].start()
        assert slow_started.wait(20), "the slow detection never started"
        for worker in workers[1:]:
            worker.start()  # same key: these wait for the first thread's verdict
        started = time.monotonic()
        other = cache.lookup(TEXT_LLM)
        elapsed = time.monotonic() - started
        assert (other.kind, other.source) == (Kind.NOT_VISION, Source.DETECTED)
        assert elapsed < 2.0
        assert all(w.is_alive() for w in workers), "the slow lookups should still be running"
    finally:
        release.set()
        for worker in workers:
            worker.join(20)
    assert [v.kind for v in slow_results] == [Kind.VISION] * 3
    assert calls.count(VLM) == 1  # one detection of the slow key for three threads


# -- the memory tier never hides another process's purge for more than memory_ttl -----------------------

PURGE_WATCHER = r"""
import json, os, sys, time
store, model, stop = sys.argv[1:4]
from vision_cache import VisionCache
cache = VisionCache(directory=store)  # memory tier on (memory_ttl=1.0)
deadline = time.monotonic() + 30
while not os.path.exists(stop) and time.monotonic() < deadline:
    started = time.time()
    v = cache.lookup(model)
    print(json.dumps({"start": started, "end": time.time(), "source": v.source.value,
                      "created_at": v.created_at, "kind": v.kind.value}), flush=True)
    time.sleep(0.02)
"""


def test_purge_in_one_process_is_seen_by_another_within_one_second(hub, tmp_path, procs):
    publish(hub, VLM)
    store, stop = tmp_path / "store", tmp_path / "stop"
    lines: list[dict] = []
    watcher = spawn(procs, PURGE_WATCHER, str(store), VLM, str(stop))

    def reader():
        for line in watcher.stdout:
            lines.append(json.loads(line))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        wait_for(lambda: any(r["source"] == "memory" for r in lines) and
                 any(r["source"] == "store" for r in lines), 30, "the watcher to answer from memory and store")
        purger = VisionCache(directory=store, memory_ttl=0)
        purged_at = time.time()
        assert purger.purge(VLM) >= 1
        purger.close()
        wait_for(lambda: any(r["start"] > purged_at + 1.3 for r in lines), 15, "answers after the purge")
    finally:
        stop.touch()
        finish(watcher, 30)
        thread.join(5)
    after = [r for r in lines if r["start"] > purged_at]
    redetected = [r for r in after if r["source"] == "detected"]
    assert redetected, after
    assert redetected[0]["end"] <= purged_at + 1.0 + 0.5, (purged_at, redetected[0])  # 1 s + a loaded host
    # no lookup started more than memory_ttl after the purge was answered with the purged verdict
    late = [r for r in after if r["start"] > purged_at + 1.0 and r["created_at"] < purged_at]
    assert late == [], late
    assert all(r["kind"] == "vision" for r in lines)


# -- warm start from the local HF cache ---------------------------------------------------------------


def _populate_hf_cache(hub, cache_dir: Path, models: list[str]) -> dict[str, str]:
    from huggingface_hub import hf_hub_download

    shas = {m: publish(hub, m) for m in models}
    for model in models:
        hf_hub_download(model, "config.json", revision="main", cache_dir=str(cache_dir), token=False)
    for model in models:
        refs = cache_dir / ("models--" + model.replace("/", "--")) / "refs" / "main"
        assert refs.read_text().strip() == shas[model]
    return shas


WARM_WORKER = r"""
import json, sys
from vision_cache import VisionCache
store, hf_cache = sys.argv[1:3]
report = VisionCache(directory=store).warm_start(hf_cache_dir=hf_cache)
print(json.dumps(report.__dict__))
"""

LOOKUP_WORKER = r"""
import json, sys
from vision_cache import VisionCache
cache = VisionCache(directory=sys.argv[1], memory_ttl=0)
out = {}
for m in json.loads(sys.argv[2]):
    v = cache.lookup(m)
    out[m] = [v.kind.value, v.source.value, v.commit_sha]
print(json.dumps(out))
"""


def test_warm_start_from_local_hf_cache_needs_no_request_and_new_processes_only_confirm_access(
        hub, tmp_path, procs):
    """Warm start reads files only. A new process then confirms access with one model_info per model
    (the HF cache proves content, not access) and reads no config.json: the warm verdict is adopted."""
    models = [VLM, TEXT_LLM, AUDIO]
    hf_cache = tmp_path / "hf-cache"
    shas = _populate_hf_cache(hub, hf_cache, models)
    store = tmp_path / "store"
    hub.reset_counts()
    env = {"HF_HUB_CACHE": str(hf_cache)}
    report = json.loads(finish(spawn(procs, WARM_WORKER, str(store), str(hf_cache), env=env), 60))
    assert hub.count() == 0, hub.requests
    assert (report["snapshots"], report["detected"], report["failed"]) == (3, 3, 0), report
    answers = json.loads(finish(spawn(procs, LOOKUP_WORKER, str(store), json.dumps(models), env=env), 60))
    assert answers == {m: [EXPECTED[m], "store", shas[m]] for m in models}
    assert hub.count(path_contains="config.json") == 0, hub.requests
    assert hub.count() == len(models), hub.requests  # one model_info each: access confirmed
    again = json.loads(finish(spawn(procs, LOOKUP_WORKER, str(store), json.dumps(models), env=env), 60))
    assert again == answers and hub.count() == len(models)  # adopted for this scope: no more requests


def test_warm_start_honours_hf_cache_dir_argument(hub, tmp_path, disk_cache):
    """warm_start(hf_cache_dir=X) judges the snapshots it found in X, even when HF_HUB_CACHE points elsewhere."""
    models = [VLM, TEXT_LLM, AUDIO]
    hf_cache = tmp_path / "hf-cache"
    _populate_hf_cache(hub, hf_cache, models)
    hub.reset_counts()
    # (this process's HF_HUB_CACHE is HF_HOME/hub)
    report = disk_cache(tmp_path / "store").warm_start(hf_cache_dir=str(hf_cache))
    assert hub.count() == 0
    assert (report.snapshots, report.detected, report.failed) == (3, 3, 0), report


# -- Ctrl-C during `vision-cache warm` ---------------------------------------------------------------


def test_interrupted_warm_leaves_a_consistent_store(hub, tmp_path):
    models = [m["repo_id"] for m in manifest()][:24]
    for model in models:
        publish(hub, model)
    hub.set_fault(None, None, delay=0.25)  # every request takes 0.25 s: the warm takes ~20 s uninterrupted
    store = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, "-m", "vision_cache.cli", "warm", "--no-hf-cache", "--json",
                             "--dir", str(store), *models], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        out, err = interrupt_when(proc, lambda: wait_for(
            lambda: hub.count(path_contains="config.json", method="GET") >= 2 or proc.poll() is not None,
            30, "the warm to get going"))
    finally:
        hub.set_fault(None, None, 0)
    assert proc.returncode == 130, (proc.returncode, out, err)
    assert "Traceback" not in err, err

    cache = VisionCache(directory=store, memory_ttl=0)
    try:
        assert cache.store.kind == "disk"
        assert cache.store.check() == []
        everything = list(cache.store.scan(""))
        verdicts = [(k, v) for k, v, _ in everything if k.startswith("verdict\x1f")]
        assert 1 <= len(verdicts) < len(models)
        for key, record in verdicts:
            assert decode_verdict(record).kind is not Kind.UNKNOWN, key
        for key, record, _ in everything:
            assert not key.startswith("lease\x1f"), f"a lease survived the interrupt: {key!r}"
            if key.startswith("alias\x1f"):
                assert len(record["sha"]) == 40 and record["fresh_until"] > time.time()
        assert len(cache.entries(question="vision")) == len(verdicts)
        done = {e.verdict.subject for e in cache.entries()}
        expected = {m["repo_id"]: m["expected"] for m in manifest()}
        for subject in done:
            assert cache.lookup(subject).kind.value == expected[subject]
    finally:
        cache.close()


# -- the command line ----------------------------------------------------------------------------------

COUNTING_WORKER = r"""
import sys
from vision_cache import VisionCache
cache = VisionCache(directory=sys.argv[1], memory_ttl=0)
for model in sys.argv[2:]:
    cache.lookup(model)
cache.close()
"""


def test_cli_ls_stats_purge_migrate(hub, tmp_path, disk_cache, procs):
    for model in (VLM, TEXT_LLM):
        publish(hub, model)
    store = tmp_path / "store"
    d = ("--dir", str(store))
    for p in [spawn(procs, COUNTING_WORKER, str(store), VLM, TEXT_LLM, VLM, TEXT_LLM) for _ in range(2)]:
        finish(p, 60)

    listed = cli("ls", "--json", *d)
    assert listed.returncode == 0, listed.stderr
    rows = [r for r in json.loads(listed.stdout) if r["question"] == "vision"]  # (the card answered embedding too)
    assert sorted((r["subject"], r["kind"]) for r in rows) == sorted([(VLM, "vision"), (TEXT_LLM, "not_vision")])
    assert all(len(r["commit_sha"]) == 40 and r["scope"] == "anonymous" for r in rows)

    stats = cli("stats", "--json", *d)
    assert stats.returncode == 0, stats.stderr
    payload = json.loads(stats.stdout)
    counters = payload["counters"]
    assert counters["hits_memory"] + counters["hits_store"] + counters["misses"] == 8, counters
    assert counters["hits_store"] >= 4 and 2 <= counters["misses"] <= 4, counters
    assert payload["entries"]["vision"] == {"vision": 1, "not_vision": 1}
    assert payload["aliases"] == 2

    cache = disk_cache(store, denied_ttl=0.3)
    assert cache.lookup("nobody/not-there").kind is Kind.DENIED
    time.sleep(0.5)
    expired = cli("purge", "--expired", "-y", "--json", *d)  # -y: no terminal to confirm on
    assert expired.returncode == 0 and json.loads(expired.stdout)["removed"] >= 1, expired
    cache = disk_cache(store, denied_ttl=600)
    assert cache.lookup("nobody/not-there").source is Source.DETECTED  # the expired denial was dropped
    denied = cli("purge", "--denied", "-y", "--json", *d)
    assert denied.returncode == 0 and json.loads(denied.stdout)["removed"] == 1, denied
    assert {e.verdict.kind for e in cache.entries(question="vision")} == {Kind.VISION, Kind.NOT_VISION}

    purged = cli("purge", "--model", VLM.upper(), "--json", *d)  # case-insensitive, like the Hub
    # every question's verdict + the alias
    assert purged.returncode == 0 and json.loads(purged.stdout)["removed"] == 3, purged
    assert {e.verdict.subject for e in cache.entries()} == {TEXT_LLM}

    everything = cli("purge", "--all", "-y", "--json", *d)
    assert everything.returncode == 0 and json.loads(everything.stdout)["removed"] >= 2, everything
    assert json.loads(cli("ls", "--json", *d).stdout) == []
    assert json.loads(cli("stats", "--json", *d).stdout)["entries"] == {"vision": {}, "audio_type": {},
                                                                       "embedding": {}}

    from vision_cache.migrate import latest_version

    check = cli("migrate", "--check", "--json", *d)
    assert check.returncode == 0, check
    assert json.loads(check.stdout) == {"schema_version": latest_version(), "latest": latest_version(), "pending": 0}

    bad = cli("purge", *d)  # one of MODEL/--model/--expired/--denied/--all is required
    assert bad.returncode == 2


SECRET = "hf_concurrencyTestSecretToken0123456789"


def test_cli_doctor_never_prints_the_token(tmp_path, disk_cache):
    store = tmp_path / "store"
    disk_cache(store)  # a healthy store
    result = cli("doctor", "--json", "--dir", str(store), env={"HF_TOKEN": SECRET})
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert all(c["ok"] for c in checks.values()), checks
    assert "HF_TOKEN" in checks["token"]["detail"]
    assert SECRET not in result.stdout + result.stderr
    assert SECRET[3:20] not in result.stdout + result.stderr


def test_cli_detect_reads_the_token_from_a_file_and_never_prints_it(hub, tmp_path):
    sha = publish(hub, VLM)
    token_file = tmp_path / "token"
    token_file.write_text(SECRET + "\n")
    token_file.chmod(0o600)
    result = cli("detect", "--json", "--dir", str(tmp_path / "store"), "--token-file", str(token_file), VLM)
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert (row["model"], row["kind"], row["commit_sha"], row["source"]) == (VLM, "vision", sha, "detected")
    assert SECRET not in result.stdout + result.stderr
    assert any(auth == f"Bearer {SECRET}" for _, _, auth in hub.requests)  # the file's token was used

    helptext = cli("detect", "--help").stdout
    assert "--token-file" in helptext
    assert "--token " not in helptext and "--token\n" not in helptext


@pytest.mark.parametrize("argv", [["--token", SECRET], [f"--token={SECRET}"], ["--tok", SECRET]])
def test_cli_detect_refuses_a_token_on_the_command_line(tmp_path, argv):
    """A token on argv is readable by every user of the machine: refuse it, and never echo it."""
    result = cli("detect", "--dir", str(tmp_path / "store"), *argv, VLM)
    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr


def test_cli_detect_has_no_token_option_even_abbreviated(hub, tmp_path):
    """argparse's prefix matching must not turn ``--token X`` into ``--token-file X``."""
    publish(hub, VLM)
    token_file = tmp_path / "token"
    token_file.write_text(SECRET + "\n")
    for spelling in ("--token", "--tok", "--token-f"):
        result = cli("detect", "--json", "--dir", str(tmp_path / "store"), spelling, str(token_file), VLM)
        assert result.returncode == 2, (spelling, result.returncode, result.stdout)
        assert SECRET not in result.stdout + result.stderr
