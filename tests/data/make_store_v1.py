"""Writes tests/data/stores/v1/: a store as schema 1 (release 0.1.0) leaves it, for upgrade tests.

Run once per schema version, with the release that writes it, and commit the folder; later
releases must open it and lose nothing (tests/test_migrations.py). It keeps ``vision`` verdicts
under commit shas (they never expire and stand whatever the detector), detected through the
public API against the loopback Hub stand-in.

    python tests/data/make_store_v1.py
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
TARGET = HERE / "stores" / "v1"
MODELS = ["AdaptLLM/food-Qwen2-VL-2B-Instruct", "llava-hf/llava-v1.6-mistral-7b-hf", "allenai/Molmo-7B-D-0924"]


def main() -> None:
    sys.path.insert(0, str(HERE.parent))
    from hubstub import FakeHub

    hub = FakeHub()
    os.environ.update(HF_ENDPOINT=hub.start(), HF_HOME=tempfile.mkdtemp())
    from vision_cache import VisionCache

    shutil.rmtree(TARGET, ignore_errors=True)
    cache = VisionCache(directory=TARGET, memory_ttl=0)
    entries = {}
    for repo in MODELS:
        sha = hub.add_repo(repo, {"config.json": (HERE / "configs" / (repo.replace("/", "__") + ".json")).read_bytes()})
        verdict = cache.lookup(repo, revision=sha)
        assert verdict.is_vision, verdict
        entries[repo] = {"commit_sha": sha, "evidence": verdict.evidence}
    cache.close()
    hub.stop()
    (TARGET / "entries.json").write_text(json.dumps(entries, indent=2) + "\n")


if __name__ == "__main__":
    main()
