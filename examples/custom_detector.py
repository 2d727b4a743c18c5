"""A caller with its own rules: plug a detector into VisionCache and keep the store, keys and TTLs.

Run it (it makes no network request: the detector below only looks at the name):

    python examples/custom_detector.py

A detector receives a DetectionRequest (subject, commit_sha, revision, token, offline, files,
local_path, timeout) on a miss only, and returns a Detection or a bool. Give it a `fingerprint`
and change it whenever the rules change: stored `not_vision` verdicts are then re-checked.
"""

from __future__ import annotations

import tempfile

from vision_cache import Kind, VisionCache
from vision_cache.detect.detector import Detection, DetectionRequest


class NameRules:
    """Studio-style house rules: trust a naming convention for our own local checkpoints."""

    fingerprint = "house-rules/2"

    def __call__(self, request: DetectionRequest) -> Detection:
        name = (request.local_path or request.subject).lower()
        if "-vl" in name or "vision" in name:
            return Detection(Kind.VISION, f"name {name!r} follows the house VLM convention")
        return Detection(Kind.NOT_VISION, "house rules: no VLM marker in the name")


def main() -> None:
    with tempfile.TemporaryDirectory() as store, tempfile.TemporaryDirectory(suffix="-vl-checkpoint") as ckpt:
        cache = VisionCache(directory=store, detector=NameRules())
        first = cache.lookup(ckpt)  # a local folder: content version = digest of its deciding files
        again = cache.lookup(ckpt)
        print(first.kind.value, first.source.value, "|", again.kind.value, again.source.value)
        print("evidence:", first.evidence)
        print("detector:", first.detector)


if __name__ == "__main__":
    main()
