"""Pure rules that say whether a Hugging Face model is an embedding (sentence-transformers) model.

A drop-in judging layer for Unsloth Studio's ``is_embedding_model``, with Studio's rule unchanged:

=======================  ==================================================  ================================
input                    signal                                              why
=======================  ==================================================  ================================
Hub ``model_info``       ``"sentence-transformers"`` or                      Studio's three signals; the tag
                         ``"feature-extraction"`` in ``tags``, or            form catches models whose
                         ``pipeline_tag`` is ``sentence-similarity`` or      ``library_name`` is
                         ``feature-extraction``                              ``transformers`` (gte-modernbert)
local folder / HF cache  a ``modules.json`` file                             the sentence-transformers layout
=======================  ==================================================  ================================

``library_name`` is accepted and reported but not used: the Hub puts the library's name among
``model_info.tags``, so ``sentence-transformers`` as a library already shows up as a tag. Note that
Studio's rule also says True for sentence-transformers *cross-encoders* (rerankers), which carry the
same tag; that is Studio's behaviour and is kept.

No I/O, no heavy imports, and nothing here raises on odd input (None, a bare string, numbers...).
Bump :data:`RULES_VERSION` whenever a change could turn a False into a True.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

RULES_VERSION = "embedding-1"

EMBEDDING_TAGS = ("sentence-transformers", "feature-extraction")
EMBEDDING_PIPELINE_TAGS = ("sentence-similarity", "feature-extraction")
MODULES_FILE = "modules.json"
#: modules.json texts longer than this are not parsed (only described); presence still decides.
MAX_MODULES_CHARS = 1024 * 1024


def _tag_set(tags: object) -> set[str]:
    if isinstance(tags, str):  # a bare string is one tag, not a set of characters
        return {tags}
    if isinstance(tags, (bytes, bytearray)) or tags is None:
        return set()
    try:
        items = list(tags) if isinstance(tags, Iterable) else []
    except Exception:
        return set()
    return {tag for tag in items[:100_000] if isinstance(tag, str)}


def judge_embedding_info(tags: object, pipeline_tag: object, library_name: object = None) -> tuple[bool, str]:
    """``(is_embedding, evidence)`` from a Hub ``model_info``'s ``tags`` and ``pipeline_tag``."""
    try:
        tag_set = _tag_set(tags)
        pipeline = pipeline_tag if isinstance(pipeline_tag, str) else ""
        library = library_name if isinstance(library_name, str) else None
        hits = [tag for tag in EMBEDDING_TAGS if tag in tag_set]
        if pipeline in EMBEDDING_PIPELINE_TAGS:
            hits.append(f"pipeline_tag={pipeline}")
        suffix = f" (library_name={library})" if library else ""
        if hits:
            return True, "embedding: " + ", ".join(hits) + suffix
        why = f"no sentence-transformers/feature-extraction tag, pipeline_tag={pipeline or None}"
        return False, "not embedding: " + why + suffix
    except Exception as exc:  # never raise; an unusable answer is "not embedding", as Studio's default
        return False, f"not embedding: unusable model_info ({type(exc).__name__})"


def _describe_modules(text: object) -> str:
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        return "unreadable"
    if len(text) > MAX_MODULES_CHARS:
        return "too large to parse"
    try:
        data = json.loads(text[1:] if text.startswith("\ufeff") else text)
    except Exception:
        return "not JSON"
    if not isinstance(data, list):
        return "not a module list"
    kinds = []
    for entry in data[:50]:
        kind = entry.get("type") if isinstance(entry, dict) else None
        if isinstance(kind, str):
            kinds.append(kind.rsplit(".", 1)[-1][:80])
    return f"{len(data)} modules: {', '.join(kinds)}" if kinds else f"{len(data)} entries"


def judge_embedding_local(folder_names: object = None, modules_json_text: object = None) -> tuple[bool, str]:
    """``(is_embedding, evidence)`` for a local folder (or an HF-cache snapshot).

    ``folder_names``: the names of the files directly in the folder. ``modules_json_text``: the
    text of its ``modules.json`` if the caller read it (passing it means the file exists). As in
    Studio, the file's presence decides; its content only enriches the evidence.
    """
    try:
        present = modules_json_text is not None or MODULES_FILE in _tag_set(folder_names)
        if not present:
            return False, "not embedding: no modules.json"
        if modules_json_text is None:
            return True, "embedding: modules.json present"
        return True, f"embedding: modules.json present ({_describe_modules(modules_json_text)})"
    except Exception as exc:
        return False, f"not embedding: unusable folder listing ({type(exc).__name__})"
