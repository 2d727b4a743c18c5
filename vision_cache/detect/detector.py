"""The detector contract, and the default detector (docs/design.md, "Detection").

A detector is any callable ``detector(request: DetectionRequest) -> Detection | bool``. It is
called on a miss only, once per cold key across every process sharing the store:

- it receives the subject (a Hub repo id, or an absolute local path in ``local_path``), the
  commit sha the revision resolved to (for local models, a content digest), the revision name,
  the effective token (or None; never log or store it), the offline flag, the repo's file list
  at that commit when known, and the time it may spend on the Hub;
- it returns a :class:`Detection` (``VISION``, ``NOT_VISION`` or ``DENIED``, with evidence), or a
  bool (vision / not_vision);
- it may raise: the exception is classified by :mod:`.failures` (a Hub "not found" becomes
  ``denied``, a network error ``unknown``, which is never stored);
- a ``fingerprint`` attribute (str) names its rules: change it when they change, and stored
  ``not_vision`` verdicts are re-checked.

See ``examples/custom_detector.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..verdict import Kind

if TYPE_CHECKING:
    from ..hub import HubClient
    from .registry import Registry


class DetectionRequest(NamedTuple):
    subject: str  # the Hub repo id as the caller spelled it, or an absolute local path
    commit_sha: str  # the commit the revision resolved to (for local paths: a content digest)
    revision: str  # the revision name asked for ("main" by default)
    token: str | None  # the effective token; never log or store it
    offline: bool  # True: do not contact the Hub (local_files_only or HF_HUB_OFFLINE)
    files: tuple[str, ...] = ()  # the repo's files at the commit, when known (empty offline)
    card: Any = None  # the Hub's model_info of the repo (a hub.RepoState: tags...), when the Hub was asked
    local_path: str | None = None  # set for local files and folders
    timeout: float = 10.0  # seconds the detector may spend on the Hub
    hf_cache_dir: str | None = None  # the HF hub cache to read from (default: HF_HUB_CACHE)
    gguf_variant: str | None = None  # local GGUF folders: the quant a load would open (e.g. "Q4_K_M")
    require_image: bool = True  # GGUF: a projector must accept images (False: any projector counts)


class Detection(NamedTuple):
    kind: Kind  # VISION, NOT_VISION or DENIED (raise instead of returning UNKNOWN); other questions: POSITIVE/NEGATIVE
    evidence: str  # the signal that decided it, shown to operators
    answer: bool | str | None = None  # other questions: the answer (an audio type; True for an embedding model)


Detector = Callable[[DetectionRequest], "Detection | bool"]


class DefaultDetector:
    """Raw config.json first, then transformers (in-process or in a sidecar), GGUF by its projector.

    Args:
        hub: the Hub client to read files with (default: huggingface_hub's).
        registry: where transformers' VLM tables come from (default: imported in this process).
        sidecar_python: another interpreter (e.g. ``/opt/tf-latest/bin/python``) whose transformers
            judges configs the raw read finds inconclusive; None: the installed transformers.
        sidecar_timeout: seconds the sidecar may take before the verdict is ``unknown``.
        gguf_require_image: a GGUF model is vision only if a projector accepts images (True), or
            if it has any projector at all (False, Studio's ``require_image=False``).
    """

    def __init__(self, hub: HubClient | None = None, registry: Callable[[], Registry] | None = None,
                 sidecar_python: str | None = None, sidecar_timeout: float = 60.0,
                 gguf_require_image: bool = True) -> None:
        if hub is None:
            from ..hub import HfHubClient

            hub = HfHubClient()
        if registry is None:
            from .registry import transformers_registry

            registry = transformers_registry
        self.hub = hub
        self.registry: Callable[[], Registry] = registry  # e.g. shared through the ledger (registry_source)
        self.sidecar_python = sidecar_python
        self.sidecar_timeout = sidecar_timeout
        self.gguf_require_image = gguf_require_image

    @property
    def fingerprint(self) -> str:
        from ..fingerprint import default_fingerprint

        sidecar_version = None
        if self.sidecar_python:
            from .fallback import sidecar_transformers_version

            sidecar_version = sidecar_transformers_version(self.sidecar_python) or "unknown"
        fingerprint = default_fingerprint(sidecar_version)
        return fingerprint if self.gguf_require_image else fingerprint + " gguf-any-projector"

    def __call__(self, request: DetectionRequest) -> Detection:
        if request.local_path is not None:
            return self._local(request)
        gguf = [f for f in request.files if f.lower().endswith(".gguf")]
        if request.files and "config.json" not in request.files:
            if gguf:
                return self._hub_gguf(request, gguf)
            return Detection(Kind.NOT_VISION, "no config.json at this commit")
        from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

        try:
            raw = self.hub.read_file(request.subject, "config.json", request.commit_sha, request.token,
                                request.offline, request.timeout, request.hf_cache_dir)
        except LocalEntryNotFoundError:
            raise  # offline and not cached: unknown, not an answer
        except EntryNotFoundError:
            return Detection(Kind.NOT_VISION, "no config.json at this commit")
        return self.judge_config_bytes(raw)

    def judge_config_bytes(self, raw: bytes) -> Detection:
        """Parse config.json bytes; apply the rules; if inconclusive, ask transformers."""
        from . import rules

        registry = self.registry
        try:
            config = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return Detection(Kind.NOT_VISION, "config.json is not valid JSON")
        judged = rules.judge_config(config, registry)
        if judged is not None:
            return Detection(*judged)
        from .fallback import judge_probe, probe_in_process, probe_in_sidecar

        view = rules.ConfigView(config, registry)
        if self.sidecar_python:
            answer = probe_in_sidecar(config, self.sidecar_python, self.sidecar_timeout)
            return Detection(*judge_probe(answer, view.model_type or None, view.generates_text(), " (sidecar)"))
        answer = probe_in_process(config)  # a broken transformers raises: unknown, never stored
        return Detection(*judge_probe(answer, view.model_type or None, view.generates_text(), ""))

    def _local(self, request: DetectionRequest) -> Detection:
        import os

        from .files import MAX_CONFIG_BYTES, read_regular
        from .gguf_rules import judge_gguf_local, select_local

        path = request.local_path or ""
        selection = select_local(path, request.gguf_variant)
        if selection is not None:
            return Detection(*judge_gguf_local(selection, request.require_image and self.gguf_require_image))
        if not os.path.isdir(path):
            return Detection(Kind.NOT_VISION, "not a GGUF weight file, nor a folder with a config.json")
        read = read_regular(os.path.join(path, "config.json"), MAX_CONFIG_BYTES)
        if read is None:
            found = " for that quant" if request.gguf_variant else ""
            return Detection(Kind.NOT_VISION, f"no GGUF weights{found} and no config.json in the folder")
        return self.judge_config_bytes(read[1])

    def _hub_gguf(self, request: DetectionRequest, gguf_files: list[str]) -> Detection:
        """A Hub repo of GGUF files: vision when one of its projectors accepts images."""
        import os
        import tempfile

        from .gguf_rules import is_projector_name, judge_projectors

        projectors = [f for f in gguf_files if is_projector_name(f)]
        if not projectors or not self.gguf_require_image:
            return Detection(*judge_projectors([(p, "") for p in projectors], self.gguf_require_image))
        import time

        deadline = time.monotonic() + request.timeout  # one budget for every projector read
        with tempfile.TemporaryDirectory(prefix="vision_cache-gguf-") as tmp:
            local = []
            for i, name in enumerate(projectors[:8]):
                path = os.path.join(tmp, f"{i}.gguf")
                with open(path, "wb") as fh:
                    fh.write(self.hub.read_gguf_header(request.subject, name, request.commit_sha, request.token,
                                                  max(deadline - time.monotonic(), 0.05)))
                local.append((name, path))
            return Detection(*judge_projectors(local, self.gguf_require_image))


def detector_fingerprint(detector: object) -> str:
    """The fingerprint of ``detector``: the default detector's own, or a custom one's (below)."""
    return detector.fingerprint if isinstance(detector, DefaultDetector) else custom_fingerprint(detector)


def custom_fingerprint(detector: object) -> str:
    """A caller's detector: its ``fingerprint`` attribute if it has one, else its qualified name."""
    explicit = getattr(detector, "fingerprint", None)
    if isinstance(explicit, str) and explicit:
        return f"custom/{explicit}"
    name = getattr(detector, "__qualname__", type(detector).__qualname__)
    return f"custom/{getattr(detector, '__module__', '?')}.{name}"


def run_detector(detector: Callable[[DetectionRequest], Any], request: DetectionRequest) -> Detection:
    """Call any detector and turn what it returns or raises into a :class:`Detection`.

    A bool is vision / not_vision; a :class:`Detection` of an answer kind is taken as is; an
    exception is classified by :mod:`.failures` (a Hub "not found" is ``denied``, a network error
    ``unknown``); anything else is ``unknown`` (a bug is not an answer).
    """
    from .failures import classify_exception

    try:
        result = detector(request)
    except Exception as exc:
        return Detection(*classify_exception(exc))
    if isinstance(result, bool):
        return Detection(Kind.VISION if result else Kind.NOT_VISION, "custom detector")
    if isinstance(result, Detection) and (result.kind.is_answer or result.kind is Kind.DENIED):
        return result
    if isinstance(result, Detection):
        return Detection(Kind.UNKNOWN, result.evidence)
    return Detection(Kind.UNKNOWN, f"detector returned {type(result).__name__}, not a Detection or bool")


def judge_config_bytes(raw: bytes) -> Detection:
    """Judge config.json bytes with the default rules (no sidecar; transformers' tables imported here)."""
    return DefaultDetector().judge_config_bytes(raw)
