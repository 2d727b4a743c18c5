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
import time
from pathlib import Path

from _common import interleaved_best, start_hub

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
from vision_cache.hub import HfHubClient
state = HfHubClient().repo_state(sys.argv[2], "main", None, 10)
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


def in_process(store: str, rounds: int, calls: int = 2000) -> dict:
    import diskcache

    from vision_cache import VisionCache
    from vision_cache.ledger import Keys
    from vision_cache.target import ANONYMOUS, parse_subject

    results = {}
    cases = (("by commit sha, store", True, 0), ("by name (alias + verdict), store", False, 0),
             ("by name, memory tier (default)", False, 1.0))
    for label, by_sha, memory_ttl in cases:
        cache = VisionCache(directory=store, memory_ttl=memory_ttl)
        sha = cache.lookup(MODEL).commit_sha
        revision = sha if by_sha else None
        key = Keys.verdict(parse_subject(MODEL), sha, ANONYMOUS)
        raw = diskcache.Cache(store)
        assert raw.get(key) is not None
        timed = interleaved_best({"ours": lambda c=cache, r=revision: c.lookup(MODEL, revision=r),
                                  "raw": lambda d=raw, k=key: d.get(k)}, calls, rounds)
        ours, base = timed["ours"], timed["raw"]
        results[label] = {"lookup_us": ours * 1e6, "raw_get_us": base * 1e6, "ratio": ours / base}
        raw.close()
        cache.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    hub, work = start_hub([MODEL])
    # An installed package has its bytecode compiled (pip does it); this environment may set
    # PYTHONDONTWRITEBYTECODE, which would make every fresh process recompile our sources.
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "vision_cache"), quiet=1)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    store = os.path.join(work, "store")

    first = fresh_process(FRESH_HIT, store, env)  # detects and stores
    assert first[1] == "detected", first
    hub.reset_counts()
    hits = [fresh_process(FRESH_HIT, store, env) for _ in range(args.runs)]
    hit_requests = hub.count()
    hub.reset_counts()
    cold = [fresh_process(FRESH_NO_CACHE, "-", dict(env, HF_HOME=os.path.join(work, f"hf-cold-{i}")))
            for i in range(args.runs)]  # each with an empty HF cache, as a new worker would start
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
        "in_process": in_process(store, 9),
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
        print(f"  {label:32s} {row['lookup_us']:7.1f} us vs {row['raw_get_us']:6.1f} us  = {row['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
