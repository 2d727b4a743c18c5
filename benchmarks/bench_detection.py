"""Issue 3's benchmark: what a detection costs on each path, against a store hit of the same model.

Paths, measured in one process against the loopback Hub stand-in (HF file cache emptied before
each detection, so the config is downloaded every time):

- raw read: config.json decides (Qwen2-VL: vision_config present);
- in-process transformers: the raw read is inconclusive (AquilaMoE, a remote-code text LLM), so transformers'
  tables and config classes are asked in this process (the first call pays their import);
- sidecar: the same, in another interpreter (here this venv's python stands in for a newer venv).

    python benchmarks/bench_detection.py [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

from _common import best_per_call, start_hub

VLM = "AdaptLLM/food-Qwen2-VL-2B-Instruct"
TEXT = "BAAI/AquilaMoE"  # remote-code type unknown to transformers: the raw read is inconclusive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    hub, work = start_hub([VLM, TEXT])

    from vision_cache import VisionCache
    from vision_cache.detect.detector import DefaultDetector, DetectionRequest
    from vision_cache.hub import HfHubClient

    repo_state = HfHubClient().repo_state

    def detect(model: str, detector: DefaultDetector):
        shutil.rmtree(os.environ["HF_HOME"], ignore_errors=True)
        state = repo_state(model, "main", None, 10)
        return detector(DetectionRequest(model, state.commit_sha, "main", None, False, state.files))

    plain, sidecar = DefaultDetector(), DefaultDetector(sidecar_python=sys.executable)
    started = time.perf_counter()
    first = detect(TEXT, plain)  # pays the import of transformers' tables
    first_inprocess = time.perf_counter() - started
    paths = {
        "raw config.json read": (VLM, lambda: detect(VLM, plain)),
        "in-process transformers": (TEXT, lambda: detect(TEXT, plain)),
        "sidecar interpreter": (TEXT, lambda: detect(TEXT, sidecar)),
    }
    report = {"first_in_process_call_s": first_inprocess, "paths": {}}
    for label, (model, run) in paths.items():
        evidence = run().evidence
        seconds = best_per_call(run, 1, args.rounds)
        cache = VisionCache(directory=os.path.join(work, "store-" + label.split()[0]), memory_ttl=0)
        cache.lookup(model)
        hit = best_per_call(lambda c=cache, m=model: c.lookup(m), 200, args.rounds)
        report["paths"][label] = {"model": model, "detection_ms": seconds * 1000, "store_hit_us": hit * 1e6,
                                  "ratio": seconds / hit, "evidence": evidence}
        cache.close()
    hub.stop()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"first in-process fallback (imports transformers' tables): {first_inprocess * 1000:.0f} ms "
          f"({first.evidence})")
    print(f"{'path':26s} {'detection':>11s} {'store hit':>11s} {'saved':>9s}")
    for label, row in report["paths"].items():
        print(f"{label:26s} {row['detection_ms']:8.1f} ms {row['store_hit_us']:8.1f} us {row['ratio']:8.0f}x"
              f"   ({row['model']}: {row['evidence']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
