"""Issue 10's benchmark: a stored answer at the speed of the store itself.

Two verdicts are stored first (a ``vision`` one, AdaptLLM/food-Qwen2-VL-2B-Instruct, and a
``not_vision`` one, Qwen/Qwen3-8B), detected through the loopback Hub stand-in (tests/hubstub.py)
serving their genuine config.json files. Then, in one run, contenders measured in alternation:

1. **Fresh process**: ``import vision_cache`` + ``VisionCache().lookup(name)`` of a stored verdict,
   against a fresh process doing ``import diskcache; diskcache.Cache(folder).get(key)`` of the
   vision verdict's key (its JSON text, about 300 bytes). Both are timed inside the process,
   from before the first import to the answer (Python's own start-up is reported apart), and
   the ratio is of medians. Honest conditions: the store is the *default* folder (``VisionCache()``
   with no argument, so the platformdirs rule is paid; ``XDG_CACHE_HOME`` points into the scratch
   folder), and the package is a regular install with compiled bytecode: a scratch venv whose
   site-packages holds a compiled copy of ``vision_cache`` and a ``.pth`` line to this
   interpreter's site-packages (so not the editable install, whose finder pre-imports pathlib
   and friends at start-up). Also reported: Hub requests during the hits (must be 0), heavy
   modules a hit imported, and whether a hit changed ``cache.db`` (size, mtime) or grew its WAL.
   Target: <= 1.0x for both kinds, 0 requests, nothing heavy, nothing written.
2. **In-process, store only** (``memory_ttl=0``): ``lookup`` by commit sha and by revision name,
   for both kinds, against a raw ``diskcache.Cache.get`` of the same small value; the best of
   ``--rounds`` rounds of ``--calls`` calls each, in alternation. Target: <= 1.3x.

    python benchmarks/bench_lookup.py [--runs 21] [--calls 2000] [--rounds 9] [--json]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from _common import ROOT, interleaved_best, start_hub

VISION = "AdaptLLM/food-Qwen2-VL-2B-Instruct"
NOT_VISION = "Qwen/Qwen3-8B"
HEAVY = ("huggingface_hub", "transformers", "torch", "importlib.metadata", "diskcache", "platformdirs")

OURS = """
import time
t0 = time.perf_counter()
import vision_cache
verdict = vision_cache.VisionCache().lookup({model!r})
elapsed = time.perf_counter() - t0
import sys
print(elapsed, verdict.source.value, verdict.kind.value, ",".join(m for m in {heavy!r} if m in sys.modules))
"""

RAW = """
import time
t0 = time.perf_counter()
import diskcache
value = diskcache.Cache({folder!r}).get({key!r})
elapsed = time.perf_counter() - t0
print(elapsed, "raw", "found" if value else "missing", "")
"""

NO_CACHE = """
import time
t0 = time.perf_counter()
from vision_cache.detect.detector import DefaultDetector, DetectionRequest
from vision_cache.hub import HfHubClient
state = HfHubClient().repo_state({model!r}, "main", None, 10)
detection = DefaultDetector()(DetectionRequest({model!r}, state.commit_sha, "main", None, False, state.files))
elapsed = time.perf_counter() - t0
import sys
print(elapsed, "no-cache", detection.kind.value, ",".join(m for m in {heavy!r} if m in sys.modules))
"""

STORE = """
import vision_cache
for model in {models!r}:
    verdict = vision_cache.VisionCache().lookup(model)
    print(verdict.kind.value, verdict.commit_sha)
"""


def installed_copy(work: Path) -> Path:
    """A scratch venv with vision_cache installed as a regular, compiled copy; returns its python."""
    venv = work / "bench-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    shutil.copytree(ROOT / "vision_cache", site / "vision_cache", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "migrations", site / "vision_cache" / "migrations",
                    ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(str(site / "vision_cache"), quiet=1)  # what pip does at install time
    (site / "zz_bench_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def python_c(python: Path, code: str, env: dict) -> str:
    # run from the scratch folder: from the repository, "" on sys.path would import its sources
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, cwd=python.parents[2])
    if out.returncode:
        raise RuntimeError(f"{python} -c ... failed:\n{out.stderr}")
    return out.stdout


def run(python: Path, code: str, env: dict) -> tuple[float, str, str, str]:
    fields = python_c(python, code, env).split()
    return float(fields[0]), fields[1], fields[2], fields[3] if len(fields) > 3 else ""


def startup(python: Path, env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(python), "-c", "pass"], env=env, check=True, cwd=python.parents[2])
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()}


def fresh_process(hub, work: Path, runs: int) -> dict:
    from vision_cache.ledger import Keys
    from vision_cache.target import ANONYMOUS, parse_subject

    python = installed_copy(work)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["XDG_CACHE_HOME"] = str(work / "xdg")  # the default folder: $XDG_CACHE_HOME/vision_cache
    folder = work / "xdg" / "vision_cache"
    out = python_c(python, STORE.format(models=[VISION, NOT_VISION]), env).split()
    assert out[0::2] == ["vision", "not_vision"], out
    sha = out[1]
    key = Keys.verdict(parse_subject(VISION), sha, ANONYMOUS)
    contenders = {
        "vision": OURS.format(model=VISION, heavy=HEAVY),
        "not_vision": OURS.format(model=NOT_VISION, heavy=HEAVY),
        "raw diskcache": RAW.format(folder=str(folder), key=key),
    }
    for code in contenders.values():  # warm the OS caches once, not measured
        run(python, code, env)
    hub.reset_counts()
    results: dict[str, list] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, code in contenders.items():
            results[name].append(run(python, code, env))
    requests = hub.count()
    raw = statistics.median(r[0] for r in results["raw diskcache"])
    report = {"python_startup_ms": startup(python, env, runs) * 1000, "runs": runs,
              "raw_diskcache_ms": raw * 1000, "hub_requests": requests}
    for name in ("vision", "not_vision"):
        rows = results[name]
        assert all(r[1] == "store" and r[2] == name for r in rows), rows[:3]
        median = statistics.median(r[0] for r in rows)
        report[name] = {"ms": median * 1000, "ratio": median / raw,
                        "heavy_modules": sorted({m for r in rows for m in r[3].split(",") if m})}
    # For scale: detecting without the cache, in a fresh process with an empty HF cache, as issue 2 measured.
    hub.reset_counts()
    cold = [run(python, NO_CACHE.format(model=VISION, heavy=HEAVY), dict(env, HF_HOME=str(work / f"hf-cold-{i}")))
            for i in range(max(3, runs // 4))]
    report["detection_without_cache"] = {"ms": statistics.median(r[0] for r in cold) * 1000,
                                         "hub_requests_each": hub.count() / len(cold),
                                         "heavy_modules": sorted({m for r in cold for m in r[3].split(",") if m})}
    # The raw contender opens diskcache.Cache, which writes; our hits must not: checked on a copy.
    ours_only = work / "xdg-ours-only"
    shutil.copytree(folder, ours_only / "vision_cache")
    env_ours = dict(env, XDG_CACHE_HOME=str(ours_only))
    before = files(ours_only / "vision_cache")
    for _ in range(3):
        for name in ("vision", "not_vision"):
            run(python, contenders[name], env_ours)
    after = files(ours_only / "vision_cache")
    report["cache_db_unchanged_by_our_hits"] = (after["cache.db"] == before["cache.db"] and
                                                after.get("cache.db-wal", (0, 0))[0]
                                                == before.get("cache.db-wal", (0, 0))[0])
    return report


def in_process(work: Path, calls: int, rounds: int) -> dict:
    import diskcache

    from vision_cache import VisionCache
    from vision_cache.ledger import Keys
    from vision_cache.target import ANONYMOUS, parse_subject

    store = str(work / "xdg" / "vision_cache")
    raw = diskcache.Cache(store)
    contenders = {}
    shas = {}
    for model in (VISION, NOT_VISION):
        cache = VisionCache(directory=store, memory_ttl=0)
        verdict = cache.lookup(model)
        assert verdict.source.value == "store", verdict
        shas[model] = verdict.commit_sha
        kind = verdict.kind.value
        contenders[f"{kind}, by commit sha"] = lambda c=cache, m=model, s=verdict.commit_sha: c.lookup(m, revision=s)
        contenders[f"{kind}, by revision name"] = lambda c=cache, m=model: c.lookup(m)
    key = Keys.verdict(parse_subject(VISION), shas[VISION], ANONYMOUS)
    assert raw.get(key) is not None
    contenders["raw diskcache.Cache.get"] = lambda: raw.get(key)
    memory = VisionCache(directory=store)  # the default memory tier, for reference
    contenders["vision, by name, memory tier (memory_ttl=1 s)"] = lambda: memory.lookup(VISION)
    timed = interleaved_best(contenders, calls, rounds)
    base = timed.pop("raw diskcache.Cache.get")
    raw.close()
    return {"raw_get_us": base * 1e6,
            "lookups": {name: {"us": t * 1e6, "ratio": t / base} for name, t in timed.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="fresh processes per contender")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    hub, work = start_hub([VISION, NOT_VISION])
    work = Path(work)
    try:
        report = {"fresh_process": fresh_process(hub, work, args.runs),
                  "in_process": in_process(work, args.calls, args.rounds)}
    finally:
        hub.stop()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    fp = report["fresh_process"]
    print(f"fresh process, median of {fp['runs']}, timed in-process from before the first import "
          f"(Python's own start-up: {fp['python_startup_ms']:.1f} ms, not included):")
    print(f"  raw: import diskcache + Cache(folder).get(key):  {fp['raw_diskcache_ms']:6.2f} ms")
    for name in ("vision", "not_vision"):
        row = fp[name]
        print(f"  import vision_cache + VisionCache().lookup, {name + ' hit:':12s} {row['ms']:6.2f} ms "
              f"= {row['ratio']:.2f}x  heavy imports: {row['heavy_modules'] or 'none'}")
    print(f"  Hub requests during the hits: {fp['hub_requests']}; cache.db and its WAL unchanged by our hits: "
          f"{fp['cache_db_unchanged_by_our_hits']}  (targets: <= 1.0x, 0, none, True)")
    cold = fp["detection_without_cache"]
    print(f"  for scale, detecting without the cache (resolve, read config.json, rules): {cold['ms']:.0f} ms, "
          f"{cold['hub_requests_each']:.0f} Hub requests, heavy imports: {cold['heavy_modules']}")
    ip = report["in_process"]
    print(f"in-process, store only (memory_ttl=0), best of {args.rounds} x {args.calls} calls in alternation, "
          f"against a raw diskcache.Cache.get of the same key ({ip['raw_get_us']:.2f} us):")
    for name, row in ip["lookups"].items():
        print(f"  {name:48s} {row['us']:6.2f} us = {row['ratio']:.2f}x")
    print("  (target: <= 1.3x for the store-only rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
