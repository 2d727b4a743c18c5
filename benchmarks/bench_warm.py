"""Issue 10's warm-start benchmark: boot with a local HF cache and a store that already know everything.

(a) **Re-scan**: a local HF cache of ``--snapshots`` (10,000) model snapshots in the documented
    layout (``models--<org>--<name>/snapshots/<sha>/config.json`` and ``refs/main``), every one
    already judged in the store; timed: ``warm_start(hf_cache_dir=...)`` (migrate check, drop
    expired, list the snapshots, find each verdict and alias stored). For reference, in the same run:
    ``huggingface_hub.scan_cache_dir`` alone on the same cache (what the warm start used to call).
    Target: <= 1 s.
(b) **Re-check**: a store of ``--verdicts`` (100,000) verdicts with their ``main`` aliases; timed:
    ``warm_start(models=<every name>, scan_hf_cache=False)``, a lookup by name of each. Target: <= 2 s.

Stored entries are written in bulk through the store's backend (diskcache transactions), exactly
as lookups store them; the models are answered by a quick custom detector, so nothing is detected
during the timed parts, and the Hub stand-in counts requests (must be 0). Each timed part runs on a
VisionCache opened beforehand, as at boot.

    python benchmarks/bench_warm.py [--snapshots 10000] [--verdicts 100000] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

from _common import bulk_entries, bulk_name, bulk_sha, bulk_write, start_hub

DETECTOR = "bench-quick"


class QuickDetector:
    """Answers at once; the timed parts must never call it (everything is stored)."""

    fingerprint = DETECTOR
    calls = 0

    def __call__(self, request):
        from vision_cache.detect.detector import Detection
        from vision_cache.verdict import Kind

        QuickDetector.calls += 1
        return Detection(Kind.VISION, "bench quick detector")


def synthetic_hf_cache(folder: Path, count: int) -> None:
    for i in range(count):
        name = bulk_name(i)
        sha = bulk_sha(name)
        repo = folder / ("models--" + name.replace("/", "--"))
        (repo / "snapshots" / sha).mkdir(parents=True)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(sha)
        (repo / "snapshots" / sha / "config.json").write_text('{"model_type": "llama"}')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--snapshots", type=int, default=10_000)
    parser.add_argument("--verdicts", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    hub, work = start_hub([])
    work = Path(work)

    from huggingface_hub import scan_cache_dir

    from vision_cache import VisionCache
    from vision_cache.ledger import Keys

    report = {}
    try:
        # (a) re-scan
        hf_cache, store = work / "hf-cache", work / "store-a"
        started = time.perf_counter()
        synthetic_hf_cache(hf_cache, args.snapshots)
        writer = VisionCache(directory=store, detector=QuickDetector())
        bulk_write(writer.store, bulk_entries(0, args.snapshots, "custom/" + DETECTOR, scope=Keys.HF_CACHE_SCOPE))
        writer.close()
        setup = time.perf_counter() - started
        started = time.perf_counter()
        listed = scan_cache_dir(hf_cache)
        scan_seconds = time.perf_counter() - started
        assert sum(len(r.revisions) for r in listed.repos) == args.snapshots
        del listed  # (its 10,000 repos' file records would slow the garbage collector in what follows)
        gc.collect()
        cache = VisionCache(directory=store, detector=QuickDetector())
        hub.reset_counts()
        QuickDetector.calls = 0
        started = time.perf_counter()
        rescan = cache.warm_start(hf_cache_dir=str(hf_cache))
        rescan_seconds = time.perf_counter() - started
        assert (rescan.snapshots, rescan.already_stored, rescan.failed) == (args.snapshots, args.snapshots, 0), rescan
        assert QuickDetector.calls == 0 and hub.count() == 0
        cache.close()
        report["rescan"] = {"snapshots": args.snapshots, "seconds": rescan_seconds,
                            "scan_cache_dir_alone_seconds": scan_seconds, "setup_seconds": setup,
                            "hub_requests": hub.count(), "target_seconds": 1.0}

        # (b) re-check by name
        store = work / "store-b"
        started = time.perf_counter()
        writer = VisionCache(directory=store, detector=QuickDetector())
        bulk_write(writer.store, bulk_entries(0, args.verdicts, "custom/" + DETECTOR))
        writer.close()
        setup = time.perf_counter() - started
        names = [bulk_name(i) for i in range(args.verdicts)]
        gc.collect()
        cache = VisionCache(directory=store, detector=QuickDetector())
        hub.reset_counts()
        started = time.perf_counter()
        recheck = cache.warm_start(models=names, scan_hf_cache=False)
        recheck_seconds = time.perf_counter() - started
        assert (recheck.models, recheck.failed) == (args.verdicts, 0), recheck
        assert QuickDetector.calls == 0 and hub.count() == 0
        cache.close()
        report["recheck"] = {"verdicts": args.verdicts, "seconds": recheck_seconds,
                             "us_per_verdict": recheck_seconds / args.verdicts * 1e6, "setup_seconds": setup,
                             "hub_requests": hub.count(), "target_seconds": 2.0}
    finally:
        hub.stop()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    a, b = report["rescan"], report["recheck"]
    print(f"(a) warm_start(hf_cache_dir=...) re-scanning {a['snapshots']:,} local snapshots, all stored: "
          f"{a['seconds']:.3f} s (target <= 1 s); huggingface_hub.scan_cache_dir alone on the same cache: "
          f"{a['scan_cache_dir_alone_seconds']:.3f} s")
    print(f"(b) warm_start(models=<{b['verdicts']:,} names>) re-checking every stored verdict: {b['seconds']:.3f} s "
          f"({b['us_per_verdict']:.1f} us each; target <= 2 s)")
    print(f"Hub requests during both: {a['hub_requests'] + b['hub_requests']}; detector calls: {QuickDetector.calls}; "
          f"set-up (bulk writes, synthetic HF cache): {a['setup_seconds']:.1f} s + {b['setup_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
