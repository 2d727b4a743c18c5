"""The detector contract, and the default detector that applies DESIGN section 4.

A detector is any callable ``detector(request: DetectionRequest) -> Detection | bool``. It is
called on a miss only, once per cold key across every process sharing the store. It receives
the subject, the commit sha the revision resolved to, the effective token (or None) and the
offline flag, and returns a :class:`Detection` (or a bool, taken as vision / not_vision).
Raising is allowed: the exception is classified by :mod:`.failures` (a Hub "not found" becomes
``denied``, a network error ``unknown``, which is never stored).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from ..verdict import Kind
from . import rules
from .registry import transformers_registry


@dataclasses.dataclass(frozen=True)
class DetectionRequest:
    subject: str  # the Hub repo id as the caller spelled it, or an absolute local path
    commit_sha: str  # the commit the revision resolved to (for local paths: a content digest)
    revision: str  # the revision name asked for ("main" by default)
    token: str | None  # the effective token; never log or store it
    offline: bool  # True: do not contact the Hub (local_files_only or HF_HUB_OFFLINE)
    files: tuple[str, ...] = ()  # the repo's files at the commit, when known (empty offline)
    local_path: str | None = None  # set for local files and folders
    timeout: float = 10.0  # seconds the detector may spend on the Hub


@dataclasses.dataclass(frozen=True)
class Detection:
    kind: Kind  # VISION, NOT_VISION or DENIED (raise instead of returning UNKNOWN)
    evidence: str  # the signal that decided it, shown to operators


Detector = Callable[[DetectionRequest], "Detection | bool"]


def default_detector(request: DetectionRequest) -> Detection:
    """Read the model's config.json at the commit and apply :mod:`.rules` (local models: :mod:`.local`)."""
    from .. import hub
    from .local import detect_local

    if request.local_path is not None:
        return Detection(*detect_local(request.local_path))
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    if request.files and "config.json" not in request.files:
        return Detection(Kind.NOT_VISION, "no config.json at this commit")
    try:
        raw = hub.read_file(request.subject, "config.json", request.commit_sha, request.token,
                            request.offline, request.timeout)
    except LocalEntryNotFoundError:
        raise  # offline and not cached: unknown, not an answer
    except EntryNotFoundError:
        return Detection(Kind.NOT_VISION, "no config.json at this commit")
    return judge_config_bytes(raw)


def judge_config_bytes(raw: bytes) -> Detection:
    """Parse config.json bytes and apply the rules; inconclusive means not_vision."""
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return Detection(Kind.NOT_VISION, "config.json is not valid JSON")
    judged = rules.judge_config(config, transformers_registry())
    if judged is not None:
        return Detection(*judged)
    model_type = config.get("model_type") if isinstance(config, dict) else None
    return Detection(Kind.NOT_VISION, f"no vision signal in config.json (model_type {model_type})")
