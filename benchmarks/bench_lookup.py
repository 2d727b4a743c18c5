"""Issue 2's benchmark: what a stored verdict costs, against detecting without the cache.

Measured in one run on this machine, against the loopback Hub stand-in (tests/hubstub.py) serving
the genuine config.json of Qwen2-VL:

1. A fresh process doing ``import vision_cache`` plus one lookup of a stored verdict, against a
   fresh process detecting without the cache (resolve the revision, read config.json, apply the
   rules), with Hub requests counted for each, and which heavy modules each imported.
   Target: import + lookup <= 50 ms, zero Hub requests, neither transformers nor torch imported.
2. In-process latency of a stored-verdict lookup against a raw ``diskcache.Cache.get`` of the
   same key, as a ratio. Target: <= 1.5x.

    python benchmarks/bench_lookup.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
MODEL = "AdaptLLM/food-Qwen2-VL-2B-Instruct"

FRESH_HIT = """
import time, sys
t0 = time.perf_counter()
import vision_cache
verdict = vision_cache.VisionCache(directory=sys.argv[1]).lookup(sys.argv[2])
elapsed = time.perf_counter() - t0
heavy = [m for m in ("transformers", "torch", "huggingface_hub") if m in sys.modules]
print(elapsed, verdict.source.value, verdict.kind.value, ",".join(heavy))
"""

FRESH_NO_CACHE = """
import time, sys
t0 = time.perf_counter()
from vision_cache.detect.detector import DefaultDetector, DetectionRequest
from vision_cache import hub
state = hub.repo_state(sys.argv[2], "main", None, 10)
detection = DefaultDetector()(DetectionRequest(sys.argv[2], state.commit_sha, "main", None, False, state.files))
elapsed = time.perf_counter() - t0
heavy = [m for m in ("transformers", "torch", "huggingface_hub") if m in sys.modules]
print(elapsed, "no-cache", detection.kind.value, ",".join(heavy))
"""


def fresh_process(code: str, store: str, env: dict) -> tuple[float, str, str, str]:
    out = subprocess.run([sys.executable, "-c", code, store, MODEL], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    return float(out[0]), out[1], out[2], out[3] if len(out) > 3 else ""


def python_startup(env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def in_process(store: str, runs: int) -> dict:
    import diskcache

    from vision_cache import VisionCache, keys

    results = {}
    for label, revision, memory_ttl in (("by commit sha, store", "sha", 0), ("by name (alias + verdict), store", None, 0),
                                        ("by name, memory tier", None, 1.0)):
        cache = VisionCache(directory=store, memory_ttl=memory_ttl)
        sha = cache.lookup(MODEL).commit_sha
        rev = sha if revision == "sha" else None
        subject = keys.parse_subject(MODEL)
        key = keys.verdict_key(subject, sha, keys.ANONYMOUS)
        raw = diskcache.Cache(store)
        assert raw.get(key) is not None
        n = 2000

        def time_lookup():
            started = time.perf_counter()
            for _ in range(n):
                cache.lookup(MODEL, revision=rev)
            return (time.perf_counter() - started) / n

        def time_raw():
            started = time.perf_counter()
            for _ in range(n):
                raw.get(key)
            return (time.perf_counter() - started) / n

        ours = min(time_lookup() for _ in range(runs))
        base = min(time_raw() for _ in range(runs))
        results[label] = {"lookup_us": ours * 1e6, "raw_get_us": base * 1e6, "ratio": ours / base}
        raw.close()
        cache.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from hubstub import FakeHub

    hub = FakeHub()
    endpoint = hub.start()
    work = tempfile.mkdtemp(prefix="vision_cache-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "VISION_CACHE_"))}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=os.path.join(work, "hf"), HF_HUB_DISABLE_TELEMETRY="1")
    os.environ.update(env)
    hub.add_repo(MODEL, {"config.json": (ROOT / "tests/data/configs" / (MODEL.replace("/", "__") + ".json")).read_bytes()})
    store = os.path.join(work, "store")

    first = fresh_process(FRESH_HIT, store, env)  # detects and stores
    assert first[1] == "detected", first
    hub.reset_counts()
    hits = [fresh_process(FRESH_HIT, store, env) for _ in range(args.runs)]
    hit_requests = hub.count()
    hub.reset_counts()
    cold = [fresh_process(FRESH_NO_CACHE, os.path.join(work, "unused"), env) for _ in range(args.runs)]
    cold_requests = hub.count()
    startup = python_startup(env, args.runs)
    hit_s = statistics.median(h[0] for h in hits)
    cold_s = statistics.median(c[0] for c in cold)
    report = {
        "fresh_process": {
            "python_startup_ms": startup * 1000,
            "import_plus_stored_lookup_ms": hit_s * 1000,
            "hub_requests_per_hit": hit_requests / args.runs,
            "heavy_modules_on_hit": sorted({m for h in hits for m in h[3].split(",") if m}),
            "detection_without_cache_ms": cold_s * 1000,
            "hub_requests_per_detection": cold_requests / args.runs,
            "heavy_modules_without_cache": sorted({m for c in cold for m in c[3].split(",") if m}),
            "speedup": cold_s / hit_s,
        },
        "in_process": in_process(store, max(3, args.runs // 3)),
    }
    hub.stop()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    fp = report["fresh_process"]
    print(f"fresh process, median of {args.runs} (Python start-up alone: {fp['python_startup_ms']:.1f} ms):")
    print(f"  import vision_cache + stored lookup: {fp['import_plus_stored_lookup_ms']:6.1f} ms, "
          f"{fp['hub_requests_per_hit']:.0f} Hub requests, heavy modules: {fp['heavy_modules_on_hit'] or 'none'}")
    print(f"  detection without the cache:         {fp['detection_without_cache_ms']:6.1f} ms, "
          f"{fp['hub_requests_per_detection']:.0f} Hub requests, heavy modules: {fp['heavy_modules_without_cache']}")
    print(f"  -> the cache answers {fp['speedup']:.0f}x faster (target: <= 50 ms, 0 requests, no transformers/torch)")
    print("in-process lookup of a stored verdict vs a raw diskcache.Cache.get of its key (target <= 1.5x):")
    for label, row in report["in_process"].items():
        print(f"  {label:34s} {row['lookup_us']:7.1f} us vs {row['raw_get_us']:6.1f} us  = {row['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
