"""How Unsloth Studio plugs vision_cache in: a FastAPI-shaped lifespan and spawn children.

Studio runs one server process and does heavy work (training, export, inference) in
``multiprocessing`` *spawn* children: fresh interpreters with empty dicts. With vision_cache they
share one store, so each model is detected once for the whole fleet and survives restarts.

    python examples/studio_lifespan.py --demo            # offline: local checkpoints made here
    python examples/studio_lifespan.py Qwen/Qwen2-VL-2B-Instruct meta-llama/Llama-3.2-1B

The lifespan below has FastAPI's shape (``@asynccontextmanager async def lifespan(app)``), so it
drops into ``FastAPI(lifespan=lifespan)`` unchanged; this script drives it by hand so that it runs
without FastAPI installed. See docs/studio.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

STUDIO_HOME = Path(os.environ.get("STUDIO_HOME", Path.home() / ".unsloth" / "studio"))


def configure(store: Path) -> None:
    """Point every process (the server and its spawn children inherit the environment) at one store."""
    os.environ.setdefault("VISION_CACHE_DIR", str(store))


@asynccontextmanager
async def lifespan(app: object):
    """Studio's boot hook: warm the store in the background once the server is up; close it at exit."""
    from vision_cache import default_cache

    cache = default_cache()  # settings from the environment (VISION_CACHE_DIR set by configure)
    warm = cache.warm_start(background=True)  # migrate, drop expired, judge the local HF cache: no request
    try:
        yield
    finally:
        if warm.done() and warm.exception() is None:
            print("warm start:", warm.result())
        cache.close()


def child(task: tuple[str, str]) -> tuple[str, str, bool]:
    """What a training/export/inference child asks: a fresh interpreter, the same store."""
    from vision_cache import is_vision_model  # Studio's own import becomes this one line

    role, model = task
    return role, model, is_vision_model(model)


def demo_models(folder: Path) -> list[str]:
    """Two local checkpoints (a VLM and a text model), so the demo needs no network."""
    vlm, text = folder / "outputs" / "vlm-checkpoint", folder / "outputs" / "text-checkpoint"
    for path, config in ((vlm, {"model_type": "llava", "architectures": ["LlavaForConditionalGeneration"],
                                "vision_config": {"model_type": "clip_vision_model"}, "text_config": {}}),
                         (text, {"model_type": "llama", "architectures": ["LlamaForCausalLM"]})):
        path.mkdir(parents=True)
        (path / "config.json").write_text(json.dumps(config))
    return [str(vlm), str(text)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*")
    parser.add_argument("--demo", action="store_true", help="use two local checkpoints made in a temp folder")
    parser.add_argument("--store", help=f"store folder (Studio: {STUDIO_HOME / 'vision_cache'})")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="studio-demo-"))
    configure(Path(args.store) if args.store else work / "vision_cache")
    models = demo_models(work) if args.demo or not args.models else args.models
    async with lifespan(app=None):
        context = multiprocessing.get_context("spawn")  # as Studio starts its workers
        tasks = [(role, model) for role in ("training", "export", "inference") for model in models]
        with context.Pool(3) as pool:
            for role, model, answer in pool.map(child, tasks):
                print(f"{role:9s} {model}: {'vision' if answer else 'not vision'}")
    from vision_cache import VisionCache

    store = VisionCache()
    stored = [e for e in store.entries(question="vision") if e.verdict.subject in models or e.verdict.subject in
              [m.lower() for m in models]]
    print(f"{len(stored)} verdicts in the shared store, each detected once for all {len(tasks)} asks")
    store.close()


if __name__ == "__main__":
    asyncio.run(main())
