"""Detectors for Studio's other per-model questions: the audio type, and "is it an embedding model?".

They follow the vision detector's contract (``detector(request) -> Detection``, exceptions are
classified by :mod:`.failures`) and read through the same :class:`~vision_cache.hub.HubClient`, at
the resolved commit, or from a local folder. The rules themselves are pure functions in
:mod:`.audio` and :mod:`.embedding`.

- **Audio type**: ``config.json`` and the tokenizer files (:data:`.audio.AUDIO_FILES`) that the
  commit has (the Hub's file list says which: no request for an absent file); ``added_tokens.json``
  and ``special_tokens_map.json`` only for older tokenizers, whose ``tokenizer_config.json`` lacks
  ``added_tokens_decoder``. A tokenizer file in
  which no audio marker occurs is never parsed (they are often megabytes). Definitive when a type
  was found or some input was usable; otherwise (nothing readable) ``unknown``.
- **Embedding**: the Hub's model card (tags, ``pipeline_tag``) from the ``model_info`` the resolver
  already made, so a cold vision lookup answers it with no extra request; a local folder by its
  ``modules.json`` (sentence-transformers); offline, ``modules.json`` in the HF cache's snapshot.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..verdict import Kind
from .detector import Detection, DetectionRequest


def question_fingerprint(question: str) -> str:
    """The fingerprint of the built-in rules for ``question`` (``audio_type`` or ``embedding``):
    recorded in every verdict, so a stored negative is re-checked when the rules change."""
    if question == "audio_type":
        from .audio import RULES_VERSION
    else:
        from .embedding import RULES_VERSION
    name = "audio-rules" if question == "audio_type" else "embedding-rules"
    return f"{name}/{RULES_VERSION.rsplit('-', 1)[-1]}"


class AudioDetector:
    """Which audio model a repo or folder holds (one of Studio's six types), or none."""

    fingerprint = property(lambda self: question_fingerprint("audio_type"))

    def __init__(self, hub: Any) -> None:
        self.hub = hub

    def __call__(self, request: DetectionRequest) -> Detection:
        from .audio import AUDIO_FILES, judge_audio_detail

        texts = self._read_local(request) if request.local_path is not None else self._read_hub(request, AUDIO_FILES)
        config = _parse(texts.pop("config.json", None))
        judged = judge_audio_detail(config, texts)
        if judged.audio_type is not None:
            return Detection(Kind.POSITIVE, judged.evidence, judged.audio_type)
        if judged.definitive:
            return Detection(Kind.NEGATIVE, judged.evidence)
        return Detection(Kind.UNKNOWN, f"no audio type, and nothing usable was read ({judged.evidence})")

    @staticmethod
    def _read_local(request: DetectionRequest) -> dict[str, str]:
        from .audio import AUDIO_FILES
        from .files import MAX_CONFIG_BYTES, read_regular

        folder = request.local_path or ""
        if not os.path.isdir(folder):
            folder = os.path.dirname(folder)
        texts = {}
        for name in AUDIO_FILES:
            read = read_regular(os.path.join(folder, *name.split("/")), MAX_CONFIG_BYTES)
            if read is not None:
                texts[name] = read[1].decode("utf-8", "replace")
        return texts

    def _read_hub(self, request: DetectionRequest, names: tuple[str, ...]) -> dict[str, str]:
        from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

        texts: dict[str, str] = {}
        for name in names:
            if request.files and name not in request.files:
                continue  # the commit has no such file: no request
            if name in _OLDER_LAYOUT and '"added_tokens_decoder"' in texts.get("tokenizer_config.json", ""):
                continue  # a current tokenizer lists its special tokens itself: no need for the older files
            try:
                raw = self.hub.read_file(request.subject, name, request.commit_sha, request.token, request.offline,
                                         request.timeout, request.hf_cache_dir)
            except EntryNotFoundError:
                continue  # absent: a clean answer
            except LocalEntryNotFoundError:
                continue  # offline and not downloaded: leaves the answer undecided (see judge_audio_detail)
            texts[name] = raw.decode("utf-8", "replace")
        return texts


#: Where older tokenizers keep their special tokens; read only when tokenizer_config.json has no
#: ``added_tokens_decoder`` (so a current model costs one tokenizer read).
_OLDER_LAYOUT = ("added_tokens.json", "special_tokens_map.json")


class EmbeddingDetector:
    """Whether a model is an embedding (sentence-transformers) model, as Studio decides it."""

    fingerprint = property(lambda self: question_fingerprint("embedding"))

    def __init__(self, hub: Any) -> None:
        self.hub = hub

    def __call__(self, request: DetectionRequest) -> Detection:
        from .embedding import judge_embedding_info, judge_embedding_local

        if request.local_path is not None:
            from .files import listdir, read_regular

            folder = request.local_path if os.path.isdir(request.local_path) else os.path.dirname(request.local_path)
            read = read_regular(os.path.join(folder, "modules.json"), 1 << 20)
            answer, evidence = judge_embedding_local(listdir(folder), None if read is None else
                                                     read[1].decode("utf-8", "replace"))
            return Detection(Kind.POSITIVE if answer else Kind.NEGATIVE, evidence, answer)
        if request.offline:
            return self._from_hf_cache(request)
        card = request.card
        if card is None:  # resolved from a stored alias: ask the Hub for the card itself
            card = self.hub.repo_state(request.subject, request.commit_sha, request.token, request.timeout)
        answer, evidence = judge_embedding_info(card.tags, card.pipeline_tag, card.library_name)
        return Detection(Kind.POSITIVE if answer else Kind.NEGATIVE, evidence, answer)

    def _from_hf_cache(self, request: DetectionRequest) -> Detection:
        """Offline: ``modules.json`` in the HF cache's snapshot says yes; its absence proves nothing
        (the snapshot may hold only some files), so it is ``unknown`` (Studio answers False, unkept)."""
        from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

        try:
            self.hub.read_file(request.subject, "modules.json", request.commit_sha, request.token, True,
                               request.timeout, request.hf_cache_dir)
        except (EntryNotFoundError, LocalEntryNotFoundError):
            return Detection(Kind.UNKNOWN, "offline, and no modules.json in the local HF cache")
        return Detection(Kind.POSITIVE, "modules.json in the local HF cache (sentence-transformers)", True)


def _parse(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None
