"""Studio's three per-model questions for a fleet of spawn children: Studio's per-process caches vs one store.

16 worker processes (Studio's spawn children: fresh interpreters) x 4 models, each asking all three
questions (``is_vision_model``, ``detect_audio_type_checked``, ``is_embedding_model``) ``--asks``
times, all starting together, against the loopback Hub stand-in serving genuine ``config.json``,
tokenizer files and model-card tags (tests/data). Counted at the stand-in: requests by kind and
the bytes it served. Then the fleet restarts (new processes, same machine) and asks again.

- ``studio``: Studio's own behaviour, rewritten here: a dict per process for each question; the
  vision question downloads ``config.json`` with ``hf_hub_download`` (the HF cache is shared by the
  machine), the audio question GETs ``tokenizer_config.json`` and ``LLM/tokenizer_config.json`` over
  raw HTTP (Studio bypasses the HF cache; here pointed at the stand-in), the embedding question calls
  ``model_info``.
- ``vision_cache``: the drop-ins on one shared store.

Target (issue 12): cold, at most one ``model_info`` + one ``config.json`` + one tokenizer read per
model for the whole fleet; zero requests after the restart.

    python benchmarks/bench_questions.py              # 16 workers x 4 models x 3 questions
    python benchmarks/bench_questions.py -n 8 --json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT / "tests"))

MODELS = {  # a fixture folder of genuine files, and the model-card fixture for its tags
    "openai/whisper-base": ("openai__whisper-base", "openai__whisper-base"),
    "fixie-ai/ultravox-v0_6-llama-3_1-8b": ("fixie-ai__ultravox-v0_6-llama-3_1-8b",
                                            "fixie-ai__ultravox-v0_6-llama-3_1-8b"),
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B": ("deepseek-ai__DeepSeek-R1-Distill-Qwen-32B",
                                                 "deepseek-ai__DeepSeek-R1-Distill-Qwen-32B"),
    "cognitivecomputations/dolphin-2.5-mixtral-8x7b": ("cognitivecomputations__dolphin-2.5-mixtral-8x7b", None),
}

WORKER = r"""
import json, os, random, sys, time
strategy, index, folder, asks = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
models = json.loads(sys.argv[5])
if strategy == "vision_cache":
    from vision_cache import detect_audio_type_checked, is_embedding_model, is_vision_model
else:
    sys.path.insert(0, sys.argv[6])
    from bench_questions import StudioToday
    studio = StudioToday()
    is_vision_model, detect_audio_type_checked = studio.is_vision_model, studio.detect_audio_type_checked
    is_embedding_model = studio.is_embedding_model
open(os.path.join(folder, f"ready-{index}"), "w").close()
deadline = time.monotonic() + 120
while not os.path.exists(os.path.join(folder, "go")):
    if time.monotonic() > deadline:
        sys.exit("no go signal")
    time.sleep(0.002)
started = time.monotonic()
order = list(models)
random.Random(index).shuffle(order)
answers = {}
for _ in range(asks):
    for model in order:
        answers[model] = [is_vision_model(model), detect_audio_type_checked(model)[0], is_embedding_model(model)]
print(json.dumps({"seconds": time.monotonic() - started, "answers": answers}))
"""


class StudioToday:
    """Studio's three per-process caches, as ``model_config.py`` behaves (our own code, its facts)."""

    def __init__(self) -> None:
        self.vision: dict[str, bool] = {}
        self.audio: dict[str, str | None] = {}
        self.embedding: dict[str, bool] = {}

    def is_vision_model(self, model: str) -> bool:
        if model not in self.vision:
            from huggingface_hub import hf_hub_download

            with open(hf_hub_download(model, "config.json", token=False), "rb") as fh:
                config = json.load(fh)
            self.vision[model] = any(key in config for key in ("vision_config", "img_processor", "image_token_index",
                                                               "projector_config"))
        return self.vision[model]

    def detect_audio_type_checked(self, model: str) -> tuple[str | None, bool]:
        if model not in self.audio:
            import urllib.error
            import urllib.request

            endpoint = os.environ["HF_ENDPOINT"]
            found = None
            for path in ("tokenizer_config.json", "LLM/tokenizer_config.json"):
                try:
                    with urllib.request.urlopen(f"{endpoint}/{model}/resolve/main/{path}", timeout=15) as reply:
                        text = reply.read().decode("utf-8")
                except urllib.error.HTTPError:
                    continue
                if "<|startoftranscript|>" in text:
                    found = "whisper"
                elif "<|audio|>" in text or "<audio_soft_token>" in text:
                    found = "audio_vlm"
            self.audio[model] = found
        return self.audio[model], True

    def is_embedding_model(self, model: str) -> bool:
        if model not in self.embedding:
            from huggingface_hub import HfApi

            info = HfApi().model_info(model, token=False)
            tags = info.tags or []
            self.embedding[model] = ("sentence-transformers" in tags or "feature-extraction" in tags
                                     or info.pipeline_tag in ("sentence-similarity", "feature-extraction"))
        return self.embedding[model]


def publish(hub) -> None:
    for repo, (tokenizer_dir, card) in MODELS.items():
        folder = DATA / "tokenizers" / tokenizer_dir
        files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        info = {}
        if card is not None:
            record = json.loads((DATA / "model_info" / f"{card}.json").read_text())
            info = {"tags": record["tags"], "pipeline_tag": record["pipeline_tag"]}
        hub.add_repo(repo, files, info=info)


def run_fleet(strategy: str, workers: int, asks: int, folder: Path, env: dict) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("ready-*"):
        stale.unlink()
    (folder / "go").unlink(missing_ok=True)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, strategy, str(i), str(folder), str(asks),
                               json.dumps(list(MODELS)), str(Path(__file__).parent)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(workers)]
    deadline = time.monotonic() + 120
    while len(list(folder.glob("ready-*"))) < workers and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    (folder / "go").touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise SystemExit(f"a {strategy} worker failed:\n{err[-2000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return {"wall_seconds": time.monotonic() - started, "answers": results[0]["answers"]}


def classify(requests: list[tuple]) -> dict[str, int]:
    counts = {"model_info": 0, "config.json GET": 0, "tokenizer GET": 0, "HEAD": 0, "other": 0}
    for method, path, *_ in requests:
        if "/api/models/" in path:
            counts["model_info"] += 1
        elif method == "HEAD":
            counts["HEAD"] += 1
        elif path.endswith("/config.json"):
            counts["config.json GET"] += 1
        elif "tokenizer" in path or "added_tokens" in path or "special_tokens" in path:
            counts["tokenizer GET"] += 1
        else:
            counts["other"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--workers", type=int, default=16)
    parser.add_argument("--asks", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from hubstub import FakeHub

    hub = FakeHub()
    endpoint = hub.start()
    publish(hub)
    work = Path(tempfile.mkdtemp(prefix="vision_cache-bench-questions-"))
    report = {"workers": args.workers, "models": len(MODELS), "asks": args.asks, "strategies": {}}
    for strategy in ("studio", "vision_cache"):
        base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "VISION_CACHE_"))}
        env = dict(base, HF_ENDPOINT=endpoint, HF_HOME=str(work / strategy / "hf"), HF_HUB_DISABLE_TELEMETRY="1",
                   HF_HUB_DISABLE_PROGRESS_BARS="1", TRANSFORMERS_VERBOSITY="error",
                   VISION_CACHE_DIR=str(work / strategy / "store"))
        phases = {}
        for phase in ("cold", "after restart"):
            hub.reset_counts()
            fleet = run_fleet(strategy, args.workers, args.asks, work / strategy / "run", env)
            phases[phase] = {"requests": len(hub.requests), "by_kind": classify(hub.requests),
                             "bytes": hub.bytes_sent, "wall_seconds": round(fleet["wall_seconds"], 2),
                             "answers": fleet["answers"]}
        report["strategies"][strategy] = phases
    hub.stop()
    ours = report["strategies"]["vision_cache"]
    cold = ours["cold"]["by_kind"]
    report["target_met"] = {
        "cold: <= 1 model_info, 1 config.json, 1 tokenizer read per model":
            cold["model_info"] <= len(MODELS) and cold["config.json GET"] <= len(MODELS)
            and cold["tokenizer GET"] <= len(MODELS),
        "after restart: zero requests": ours["after restart"]["requests"] == 0,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.workers} spawn workers x {len(MODELS)} models x 3 questions x {args.asks} asks "
          "(Hub requests counted at the stand-in):")
    for strategy, phases in report["strategies"].items():
        for phase, figures in phases.items():
            kinds = ", ".join(f"{k} {v}" for k, v in figures["by_kind"].items() if v)
            print(f"  {strategy:12s} {phase:13s} {figures['requests']:4d} requests ({kinds}), "
                  f"{figures['bytes'] / 1024:8.1f} KiB, {figures['wall_seconds']:5.2f} s")
    for target, met in report["target_met"].items():
        print(f"  target {target}: {'met' if met else 'NOT met'}")
    print("  answers (vision, audio type, embedding):")
    for model, answer in report["strategies"]["vision_cache"]["cold"]["answers"].items():
        studio = report["strategies"]["studio"]["cold"]["answers"][model]
        print(f"    {model}: ours {answer}, Studio's {studio}")


if __name__ == "__main__":
    main()
