"""N worker processes x M models, all starting cold together, against the loopback Hub stand-in.

Compares, in one run and on the same machine:

- ``vision_cache``: every process opens the same store folder (single-flight across processes);
- ``per_process``: what Studio does today, a cache private to each process (here a VisionCache on a
  private folder): every process detects every model once;
- ``no_cache``: every ask re-detects (a fresh private store for each ask).

Each process asks about each of the M models ``--asks`` times (Studio asks 4-5 times per run), in
its own shuffled order. Processes wait at a barrier (a "go" file) once imported, so they really start
together. Each strategy gets a cold HF cache of its own (shared by its processes, as on one machine)
and a cold store. The Hub is ``tests/hubstub.py`` serving the genuine ``config.json`` files in
``tests/data/configs``; ``--hub-delay`` adds latency to every request (the real Hub is not loopback).

Baseline, measured in the same run: one process doing one cold lookup (median of 3), from launch to
exit ("single detection + process start-up"), and its lookup alone, for each of the M models; the
slowest of them is the reference (the M detections run in parallel, so none can beat it).

Warm start: a store holding ``--warm-entries`` (10,000) verdicts with their ``main`` aliases, written
through the public API (``warm_start`` over a synthetic local HF cache, with a quick custom detector),
then timed:

  (a) ``warm_start(scan_hf_cache=False)``: migrate check + drop expired, on the full store;
  (b) ``warm_start(models=[all 10,000 names], scan_hf_cache=False)``: re-check every stored verdict
      by name at the default revision (alias + verdict, zero requests);
  (c) ``warm_start(hf_cache_dir=...)``: the boot path, rescanning the 10,000 local snapshots, all
      already stored.

Targets: vision_cache config fetches == M; vision_cache wall <= 1.2 x baseline; warm start of the
10,000 stored verdicts <= 0.5 s.

    python benchmarks/bench_workers.py                 # N=16, M=4
    python benchmarks/bench_workers.py -n 8 -m 6 --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "tests" / "data" / "configs"
sys.path.insert(0, str(ROOT / "tests"))

PREFERRED = ["AdaptLLM/food-Qwen2-VL-2B-Instruct", "Qwen/Qwen3-8B", "llava-hf/llava-v1.6-mistral-7b-hf",
             "Qwen/Qwen2-Audio-7B-Instruct"]
STRATEGIES = ("vision_cache", "per_process", "no_cache")
TARGET_WALL_RATIO = 1.2
TARGET_WARM_SECONDS = 0.5

WORKER = r"""
import json, os, random, sys, time
started = time.time()
strategy, index, folder, store, models, asks = (sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4],
                                                 json.loads(sys.argv[5]), int(sys.argv[6]))
from vision_cache import VisionCache
if strategy == "vision_cache":
    cache = VisionCache(directory=store)
elif strategy == "per_process":
    cache = VisionCache(directory=os.path.join(folder, f"private-{index}"))
else:
    cache = None
open(os.path.join(folder, f"ready-{index}"), "w").close()
go = os.path.join(folder, "go")
deadline = time.monotonic() + 120
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit("no go signal")
    time.sleep(0.002)
go_seen = time.time()
order = list(models)
random.Random(index).shuffle(order)
answers, sources = {}, []
for ask in range(asks):
    for n, model in enumerate(order):
        if cache is None:
            fresh = VisionCache(directory=os.path.join(folder, f"fresh-{index}-{ask}-{n}"))
            v = fresh.lookup(model)
            fresh.close()
        else:
            v = cache.lookup(model)
        answers.setdefault(model, set()).add(v.kind.value)
        sources.append(v.source.value)
ended = time.time()
if cache is not None:
    cache.close()
print(json.dumps({"started": started, "go_seen": go_seen, "ended": ended, "lookup_seconds": ended - go_seen,
                  "answers": {m: sorted(k) for m, k in answers.items()}, "sources": sources}))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- environment ------------------------------------------------------------------------------------------


def start_hub(work: Path, hub_delay: float):
    """Start the loopback stand-in and point every process of this run at it (before huggingface_hub loads)."""
    if "huggingface_hub" in sys.modules:
        raise RuntimeError("huggingface_hub was imported before HF_ENDPOINT was set")
    from hubstub import FakeHub

    hub = FakeHub()
    endpoint = hub.start()
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE",
                 "VISION_CACHE_URL", "VISION_CACHE_NEGATIVE_TTL", "VISION_CACHE_DENIED_TTL", "VISION_CACHE_ALIAS_TTL"):
        os.environ.pop(name, None)
    os.environ.update({
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(work / "hf-home"),
        "HF_TOKEN_PATH": str(work / "no-token"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "VISION_CACHE_DIR": str(work / "default-store"),
        "TRANSFORMERS_VERBOSITY": "error",
    })
    if hub_delay:
        hub.set_fault(None, None, delay=hub_delay)
    return hub


def pick_models(count: int) -> dict[str, str]:
    """``count`` corpus models (repo id -> expected kind), a mix of VLMs and text/audio models first."""
    manifest = {m["repo_id"]: m["expected"] for m in json.loads((CONFIGS / "manifest.json").read_text())}
    order = [m for m in PREFERRED if m in manifest] + sorted(m for m in manifest if m not in PREFERRED)
    if count > len(order):
        raise SystemExit(f"--models: the corpus has {len(order)} models")
    return {m: manifest[m] for m in order[:count]}


def publish(hub, repo_id: str) -> str:
    config = (CONFIGS / (repo_id.replace("/", "__") + ".json")).read_bytes()
    return hub.add_repo(repo_id, {"config.json": config, "README.md": b"# model card\n"})


# -- the N x M run -------------------------------------------------------------------------------------------


def run_workers(hub, work: Path, strategy: str, models: list[str], workers: int, asks: int) -> dict:
    """Start ``workers`` processes together; return timings, Hub request counts and answers."""
    folder = work / f"run-{strategy}-{workers}x{len(models)}-{time.monotonic_ns()}"
    folder.mkdir()
    store = folder / "shared-store"
    env = dict(os.environ, HF_HUB_CACHE=str(folder / "hf-cache"))  # a cold HF cache, shared by this run
    hub.reset_counts()
    launched = time.monotonic()
    launched_wall = time.time()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, strategy, str(i), str(folder), str(store),
                               json.dumps(models), str(asks)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(workers)]
    try:
        deadline = time.monotonic() + 120
        while len(list(folder.glob("ready-*"))) < workers:
            if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p in procs):
                raise RuntimeError(f"{strategy}: workers did not all start")
            time.sleep(0.005)
        go = time.time()
        (folder / "go").touch()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                raise RuntimeError(f"{strategy}: a worker failed ({proc.returncode}):\n{err[-2000:]}")
            results.append(json.loads(out))
        done = time.monotonic()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    per_model = {m: {"config_get": hub.count(m, path_contains="config.json", method="GET"),
                     "config_head": hub.count(m, path_contains="config.json", method="HEAD"),
                     "model_info": hub.count(m, path_contains="/api/models/")} for m in models}
    answers: dict[str, set] = {}
    for r in results:
        for model, kinds in r["answers"].items():
            answers.setdefault(model, set()).update(kinds)
    sources = [s for r in results for s in r["sources"]]
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "strategy": strategy,
        "workers": workers,
        "models": len(models),
        "asks_per_model": asks,
        "lookups": workers * len(models) * asks,
        "detections": sources.count("detected"),
        "config_fetches": sum(v["config_get"] for v in per_model.values()),
        "config_heads": sum(v["config_head"] for v in per_model.values()),
        "model_info_requests": sum(v["model_info"] for v in per_model.values()),
        "hub_requests": hub.count(),
        "per_model": per_model,
        "wall_seconds": done - launched,  # launch of the first process -> exit of the last
        "startup_seconds": go - launched_wall,  # launch -> every process imported and ready
        "go_to_last_answer_seconds": max(r["ended"] for r in results) - go,
        "answers": {m: sorted(k) for m, k in answers.items()},
    }


def baseline(hub, work: Path, model: str, repeats: int = 3) -> dict:
    """One process, one cold lookup: launch -> exit, and the lookup alone (medians)."""
    runs = [run_workers(hub, work, "vision_cache", [model], 1, 1) for _ in range(repeats)]
    return {
        "model": model,
        "repeats": repeats,
        "wall_seconds": statistics.median(r["wall_seconds"] for r in runs),
        "lookup_seconds": statistics.median(r["go_to_last_answer_seconds"] for r in runs),
        "config_fetches": runs[0]["config_fetches"],
    }


# -- warm start over 10,000 stored verdicts ----------------------------------------------------------------


class QuickDetector:
    """A custom detector that answers at once (alternating kinds), so that 10,000 verdicts are cheap to write."""

    fingerprint = "bench-quick"

    def __call__(self, request):
        from vision_cache.detect.detector import Detection
        from vision_cache.verdict import Kind

        number = int(request.subject.rsplit("-", 1)[1])
        return Detection(Kind.VISION if number % 2 else Kind.NOT_VISION, "bench quick detector")


def synthetic_hf_cache(folder: Path, count: int) -> list[str]:
    """An HF hub cache with ``count`` model snapshots (refs/main -> sha, a small config.json each)."""
    names = []
    for i in range(count):
        name = f"bench-org/model-{i:05d}"
        sha = hashlib.sha1(name.encode()).hexdigest()
        repo = folder / ("models--" + name.replace("/", "--"))
        (repo / "snapshots" / sha).mkdir(parents=True)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(sha)
        (repo / "snapshots" / sha / "config.json").write_text('{"model_type": "llama"}')
        names.append(name)
    return names


def warm_benchmark(hub, work: Path, count: int) -> dict:
    from vision_cache import VisionCache

    hf_cache, store = work / "warm-hf-cache", work / "warm-store"
    names = synthetic_hf_cache(hf_cache, count)
    detector = QuickDetector()
    hub.reset_counts()
    writer = VisionCache(directory=store, detector=detector)
    started = time.perf_counter()
    populate = writer.warm_start(hf_cache_dir=str(hf_cache))
    populate_seconds = time.perf_counter() - started
    writer.close()
    stored = len(VisionCache(directory=store).entries())

    def timed(**kwargs) -> tuple[float, object]:
        cache = VisionCache(directory=store, detector=detector)  # opened (and migrated) outside the timing
        begin = time.perf_counter()
        report = cache.warm_start(**kwargs)
        seconds = time.perf_counter() - begin
        cache.close()
        return seconds, report

    maintenance_seconds, maintenance = timed(scan_hf_cache=False)
    recheck_seconds, recheck = timed(models=names, scan_hf_cache=False)
    rescan_seconds, rescan = timed(hf_cache_dir=str(hf_cache))
    return {
        "stored_verdicts": stored,
        "populate": {"seconds": populate_seconds, "detected": populate.detected, "aliases": populate.aliases,
                     "failed": populate.failed},
        "maintenance": {"seconds": maintenance_seconds, "expired_dropped": maintenance.expired_dropped},
        "recheck_by_name": {"seconds": recheck_seconds, "models": recheck.models, "failed": recheck.failed},
        "rescan_hf_cache": {"seconds": rescan_seconds, "snapshots": rescan.snapshots,
                            "already_stored": rescan.already_stored, "detected": rescan.detected},
        "hub_requests": hub.count(),
    }


# -- report -------------------------------------------------------------------------------------------------


def evaluate(results: dict) -> dict:
    m = results["params"]["models"]
    shared = results["strategies"]["vision_cache"]
    base = results["baseline"]
    warm = results.get("warm_start")
    verdicts_ok = all(
        r["answers"] == {model: [kind] for model, kind in results["expected"].items()}
        for r in results["strategies"].values())
    checks = {
        "fetches_equal_M": {"value": shared["config_fetches"], "target": m, "ok": shared["config_fetches"] == m},
        "wall_vs_single": {"value": shared["wall_seconds"] / base["wall_seconds"], "target": TARGET_WALL_RATIO,
                           "ok": shared["wall_seconds"] <= TARGET_WALL_RATIO * base["wall_seconds"]},
        "verdicts_correct": {"value": verdicts_ok, "target": True, "ok": verdicts_ok},
    }
    if warm:
        for name in ("maintenance", "recheck_by_name"):
            checks[f"warm_{name}"] = {"value": warm[name]["seconds"], "target": TARGET_WARM_SECONDS,
                                      "ok": warm[name]["seconds"] <= TARGET_WARM_SECONDS}
        checks["warm_zero_requests"] = {"value": warm["hub_requests"], "target": 0, "ok": warm["hub_requests"] == 0}
    return checks


def print_report(results: dict) -> None:
    p, base = results["params"], results["baseline"]
    print(f"vision_cache workers benchmark: N={p['workers']} processes x M={p['models']} models, "
          f"{p['asks']} asks per model per process, hub delay {p['hub_delay']:.3f} s/request, {os.cpu_count()} CPUs")
    print(f"baseline (1 process, 1 cold lookup, median of {base['repeats']}): launch->exit "
          f"{base['wall_seconds']:.2f} s, lookup alone {base['lookup_seconds'] * 1000:.0f} ms")
    print()
    header = f"{'strategy':<14}{'lookups':>8}{'detect':>8}{'cfg GET':>9}{'cfg HEAD':>9}{'info':>6}{'hub req':>9}" \
             f"{'wall s':>8}{'x base':>8}{'start s':>9}{'go->done s':>11}"
    print(header)
    print("-" * len(header))
    for name in STRATEGIES:
        r = results["strategies"][name]
        print(f"{name:<14}{r['lookups']:>8}{r['detections']:>8}{r['config_fetches']:>9}{r['config_heads']:>9}"
              f"{r['model_info_requests']:>6}{r['hub_requests']:>9}{r['wall_seconds']:>8.2f}"
              f"{r['wall_seconds'] / base['wall_seconds']:>8.2f}{r['startup_seconds']:>9.2f}"
              f"{r['go_to_last_answer_seconds']:>11.2f}")
    shared = results["strategies"]["vision_cache"]
    print()
    print(f"vision_cache: {shared['config_fetches']} config fetches for M={p['models']} "
          f"({shared['config_fetches'] / p['models']:.2f} x M); per-process cache "
          f"{results['strategies']['per_process']['config_fetches']}, no cache "
          f"{results['strategies']['no_cache']['config_fetches']} "
          "(GETs; the shared HF cache lets later processes skip a GET but not the HEAD / model_info)")
    print(f"vision_cache: go->last answer {shared['go_to_last_answer_seconds']:.2f} s = "
          f"{shared['go_to_last_answer_seconds'] / max(base['lookup_seconds'], 1e-9):.1f} x one cold lookup "
          f"({base['lookup_seconds'] * 1000:.0f} ms); start-up of {p['workers']} interpreters on "
          f"{os.cpu_count()} CPUs took {shared['startup_seconds']:.2f} s")
    warm = results.get("warm_start")
    if warm:
        print()
        print(f"warm start, store of {warm['stored_verdicts']} verdicts (+ their main aliases):")
        print(f"  populate via warm_start over the local HF cache (quick custom detector): "
              f"{warm['populate']['seconds']:.2f} s ({warm['populate']['detected']} detected)")
        print(f"  (a) warm_start(scan_hf_cache=False), migrate check + drop expired: "
              f"{warm['maintenance']['seconds']:.4f} s")
        print(f"  (b) warm_start(models=<{warm['recheck_by_name']['models']} names>): re-check every stored "
              f"verdict: {warm['recheck_by_name']['seconds']:.3f} s "
              f"({warm['recheck_by_name']['seconds'] / max(warm['recheck_by_name']['models'], 1) * 1e6:.0f} us "
              f"each, {warm['recheck_by_name']['failed']} failed)")
        print(f"  (c) warm_start(hf_cache_dir=...) rescanning {warm['rescan_hf_cache']['snapshots']} snapshots, "
              f"all stored: {warm['rescan_hf_cache']['seconds']:.3f} s")
        print(f"  Hub requests during the warm-start section: {warm['hub_requests']}")
    print()
    print("targets:")
    for name, check in results["checks"].items():
        value = check["value"]
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"  [{'ok' if check['ok'] else 'MISS'}] {name}: {shown} (target {check['target']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--workers", type=int, default=16, help="processes (default 16)")
    parser.add_argument("-m", "--models", type=int, default=4, help="models (default 4)")
    parser.add_argument("--asks", type=int, default=4, help="asks per model per process (default 4)")
    parser.add_argument("--hub-delay", type=float, default=0.0, help="seconds added to every Hub request")
    parser.add_argument("--warm-entries", type=int, default=10_000, help="stored verdicts for the warm start (0: skip)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.models < 1 or args.asks < 1:
        parser.error("--workers, --models and --asks must be >= 1")

    work = Path(tempfile.mkdtemp(prefix="vision_cache-bench-"))
    hub = start_hub(work, args.hub_delay)
    try:
        expected = pick_models(args.models)
        for model in expected:
            publish(hub, model)
        models = list(expected)
        results = {"params": {"workers": args.workers, "models": args.models, "asks": args.asks,
                              "hub_delay": args.hub_delay, "cpus": os.cpu_count()},
                   "expected": expected}
        log("baseline: one process, one cold lookup, for each model ...")
        # All M models are detected in parallel, so the wall time is bounded below by the slowest one:
        # the baseline is the slowest single cold lookup among the M models.
        results["baseline"] = max((baseline(hub, work, model) for model in models), key=lambda b: b["wall_seconds"])
        results["strategies"] = {}
        for strategy in STRATEGIES:
            log(f"{strategy}: {args.workers} processes x {args.models} models ...")
            results["strategies"][strategy] = run_workers(hub, work, strategy, models, args.workers, args.asks)
        if args.warm_entries:
            log(f"warm start: writing {args.warm_entries} verdicts ...")
            results["warm_start"] = warm_benchmark(hub, work, args.warm_entries)
        results["checks"] = evaluate(results)
    finally:
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
