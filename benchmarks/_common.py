"""Shared set-up for the benchmarks: a loopback Hub stand-in serving genuine configs, in a scratch folder."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "tests" / "data" / "configs"
sys.path.insert(0, str(ROOT / "tests"))


def start_hub(models: list[str]):
    """Start the stand-in, point this process's environment at it, serve ``models``; return (hub, workdir)."""
    from hubstub import FakeHub

    hub = FakeHub()
    endpoint = hub.start()
    work = tempfile.mkdtemp(prefix="vision_cache-bench-")
    for name in [k for k in os.environ if k.startswith(("HF_", "VISION_CACHE_"))]:
        del os.environ[name]
    os.environ.update(HF_ENDPOINT=endpoint, HF_HOME=os.path.join(work, "hf"), HF_HUB_DISABLE_TELEMETRY="1",
                      HF_HUB_DISABLE_PROGRESS_BARS="1", TRANSFORMERS_VERBOSITY="error")
    for model in models:
        hub.add_repo(model, {"config.json": (CONFIGS / (model.replace("/", "__") + ".json")).read_bytes()})
    return hub, work


def best_per_call(function, calls: int, rounds: int) -> float:
    """Seconds per call: the best of ``rounds`` rounds of ``calls`` calls (the least disturbed)."""
    import time

    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - started) / calls)
    return best


def interleaved_best(functions: dict, calls: int, rounds: int) -> dict:
    """Seconds per call for each function, the best of ``rounds``, measured in alternation so that a
    disturbance of the machine (or of a server) hits every contender alike."""
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, function in functions.items():
            best[name] = min(best[name], best_per_call(function, calls, 1))
    return best


# -- many stored verdicts, written in bulk ---------------------------------------------------------------

BULK_ORG = "bench-org"


def bulk_name(i: int) -> str:
    return f"{BULK_ORG}/model-{i:07d}"


def bulk_sha(name: str) -> str:
    import hashlib

    return hashlib.sha1(name.encode()).hexdigest()


def bulk_entries(start: int, stop: int, detector: str, alias_ttl: float = 600.0, scope: str | None = None):
    """(key, value, ttl) of a verdict at main's commit and of main's alias, for models start..stop-1:
    exactly what a lookup by name stores (anonymous scope), odd models vision, even ones not_vision.
    With ``scope="hf-cache"``: what a warm start stores from the local HF cache (verdicts, no alias)."""
    import time

    from vision_cache.ledger import STALE_WINDOW, Keys, encode_verdict
    from vision_cache.target import ANONYMOUS, parse_subject
    from vision_cache.verdict import Kind, Source, Verdict

    now = time.time()
    for i in range(start, stop):
        name = bulk_name(i)
        subject, sha = parse_subject(name), bulk_sha(name)
        kind = Kind.VISION if i % 2 else Kind.NOT_VISION
        ttl = None if kind is Kind.VISION else 7 * 24 * 3600.0
        verdict = Verdict(kind=kind, source=Source.DETECTED, subject=name, revision="main", commit_sha=sha,
                          created_at=now, expires_at=None if ttl is None else now + ttl, detector=detector,
                          evidence="bench: written in bulk")
        yield Keys.verdict(subject, sha, scope or ANONYMOUS), encode_verdict(verdict), ttl
        if scope is None:
            yield (Keys.alias(subject, "main", ANONYMOUS),
                   {"sha": sha, "resolved_at": now, "fresh_until": now + alias_ttl}, alias_ttl + STALE_WINDOW)


def bulk_write(store, entries, batch: int = 5000) -> None:
    """Write ``entries`` through the store's own backend in big batches: diskcache inside one
    transaction per batch (so through JSONOnlyDisk, as every write), Redis in pipelines."""
    import itertools
    import json

    entries = iter(entries)
    primary = getattr(store, "primary", store)
    while True:
        chunk = list(itertools.islice(entries, batch))
        if not chunk:
            return
        if primary.kind == "disk":
            def write(cache, chunk=chunk):
                with cache.transact():
                    for key, value, ttl in chunk:
                        cache.set(key, value, expire=ttl)

            primary._run(write)
        else:
            pipe = primary._client.pipeline(transaction=False)
            for key, value, ttl in chunk:
                pipe.set(primary.prefix + key, json.dumps(value, separators=(",", ":")),
                         px=None if ttl is None else int(ttl * 1000))
            pipe.execute()
