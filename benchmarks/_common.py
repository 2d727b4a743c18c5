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
