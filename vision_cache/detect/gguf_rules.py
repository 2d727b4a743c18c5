"""GGUF models (llama.cpp): vision when a companion projector accepts images.

A GGUF weight file is text-only by itself; llama.cpp gives it eyes through a multimodal
projector file (``mmproj*.gguf``) beside it. Studio's rule, which we keep: a projector **accepts
images** unless its metadata declares an audio encoder and no vision encoder. So a projector that
declares ``clip.has_vision_encoder``, or declares neither (older converts), or cannot be read,
counts; one that declares only ``clip.has_audio_encoder`` does not. ``require_image=False`` asks
only whether a projector exists (audio input rides the same projector). The metadata is read with
the ``gguf`` package, imported on a miss only.

**Local layouts** (:func:`select_local`), as Studio loads them:

- a ``.gguf`` file: that file; its projectors are beside it (and above it, see below);
- a folder, no variant: the GGUF weights at its top level (the first shard of a split set, else
  the largest file);
- a folder and a ``gguf_variant`` (``Q4_K_M``): the weight file of that quant anywhere below the
  folder, including per-quant subfolders (``Q4_K_M/model-Q4_K_M-00001-of-00003.gguf``); for a
  split set, the first shard (the one a load opens);
- projectors are searched in the weight's folder and, when that folder is named like a quant
  (``Q4_K_M/``, ``BF16/``, ``IQ4_XS-3.53bpw/``), in the folder above it.
"""

from __future__ import annotations

import os
import re
import tempfile
from typing import Any, NamedTuple

from ..verdict import Kind

VISION_KEY = "clip.has_vision_encoder"  # gguf.Keys.Clip.HAS_VISION_ENCODER
AUDIO_KEY = "clip.has_audio_encoder"  # gguf.Keys.Clip.HAS_AUDIO_ENCODER
PROJECTOR_HEADER_BYTES = 1 << 20  # the metadata fits easily; same as read from the Hub (hub.GGUF_HEADER_READ)


def is_projector_name(name: str) -> bool:
    lower = os.path.basename(name).lower()
    return lower.endswith(".gguf") and "mmproj" in lower


def projector_capabilities(path: str) -> dict[str, bool]:
    """``{"vision": bool, "audio": bool}`` from a projector's metadata.

    Only the first :data:`PROJECTOR_HEADER_BYTES` of a regular file are read (as much as is
    downloaded from a Hub projector, so local and Hub files are judged alike); a FIFO, a device
    or a socket is refused unread.

    Raises:
        ValueError: the file is not a regular, readable GGUF.
        ImportError: the optional ``gguf`` package is missing (the verdict is then ``unknown``).
    """
    from gguf import GGUFReader  # ImportError -> unknown, never stored (pip install 'vision_cache[gguf]')

    from .files import read_regular

    read = read_regular(path, PROJECTOR_HEADER_BYTES)
    if read is None:
        raise ValueError("not a readable regular file")
    head = bytearray(read[1])
    if head[:4] == b"GGUF" and len(head) >= 24:
        head[8:16] = bytes(8)  # tensor_count := 0: the reader stops after the metadata, which is all we read
    with tempfile.TemporaryDirectory(prefix="vision_cache-gguf-") as tmp:
        copy = os.path.join(tmp, "header.gguf")
        with open(copy, "wb") as fh:
            fh.write(head)
        try:
            reader = GGUFReader(copy, "r")
        except Exception as exc:  # the reader raises many types on a malformed file
            raise ValueError(f"not a readable GGUF file: {type(exc).__name__}") from None
        capabilities = {"vision": _bool_field(reader, VISION_KEY), "audio": _bool_field(reader, AUDIO_KEY)}
        del reader  # unmap the copy before its folder is removed
    return capabilities


def judge_projectors(projectors: list[tuple[str, str]], require_image: bool = True) -> tuple[Kind, str]:
    """Judge ``(display name, local path)`` projectors: vision if any accepts images (module docstring).

    ``require_image=False`` (Studio's option) counts any projector, whatever it accepts.
    """
    if not projectors:
        return Kind.NOT_VISION, "GGUF weights without a projector (mmproj*.gguf)"
    if not require_image:
        return Kind.VISION, f"projector {projectors[0][0]} present (any projector counts)"
    seen = []
    for name, path in projectors:
        try:
            caps = projector_capabilities(path)
        except ValueError as exc:
            return Kind.VISION, f"projector {name} present, unreadable ({exc}): counted as image-capable"
        if caps["vision"]:
            return Kind.VISION, f"projector {name} accepts images"
        if not caps["audio"]:
            return Kind.VISION, f"projector {name} declares no encoder (an older convert): counted as image-capable"
        seen.append(f"{name} is audio-only")
    return Kind.NOT_VISION, "; ".join(seen)


# -- local layouts --------------------------------------------------------------------------------

_QUANT = r"(?:UD-)?(?:I?Q[1-8](?:_[0-9A-Z]+)*|BF16|F16|F32|FP16|FP32|MXFP4(?:_MOE)?|TQ[12]_0)"
_QUANT_FOLDER = re.compile(_QUANT + r"(?:-\d+(?:\.\d+)?bpw)?", re.IGNORECASE)
_QUANT_IN_NAME = re.compile(r"(?<![0-9A-Za-z])" + _QUANT + r"(?![0-9A-Za-z])", re.IGNORECASE)
_SHARD = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)
_MAX_WALK = 2000  # files looked at below a folder, at most (a model folder holds tens)


class LocalGGUF(NamedTuple):
    weight: str | None  # the file a load would open (None: no GGUF weights for this request)
    projectors: tuple[str, ...]  # candidate projector files, nearest first
    ignored: tuple[str, ...] = ()  # projector names that are no regular, non-empty file (never read)


def is_gguf_weight(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(".gguf") and not is_projector_name(name) and "imatrix" not in lower


def select_local(path: str, variant: str | None = None) -> LocalGGUF | None:
    """The GGUF weight file and projectors a load of ``path`` (and ``variant``) would use, or None if
    ``path`` holds no GGUF weights at all (then it is judged by its ``config.json``)."""
    from .files import listdir

    if os.path.isdir(path):
        if variant:
            weight = _find_variant(path, variant)
            if weight is None:
                return None
        else:
            names = [n for n in listdir(path) if is_gguf_weight(n)]
            if not names:
                return None
            weight = os.path.join(path, _main_file(path, names))
    elif is_gguf_weight(os.path.basename(path)):
        weight = path
    else:
        return None
    folder = os.path.dirname(weight)
    folders = [folder]
    if _QUANT_FOLDER.fullmatch(os.path.basename(folder)):
        folders.append(os.path.dirname(folder))  # weights in a per-quant subfolder: the projector sits above
    named = [os.path.join(f, n) for f in folders for n in listdir(f) if is_projector_name(n)]
    projectors = tuple(p for p in named if _is_nonempty_file(p))  # as Studio: a projector has content
    ignored = tuple(os.path.basename(p) for p in named if p not in projectors)
    return LocalGGUF(weight, projectors, ignored)


def _is_nonempty_file(path: str) -> bool:
    import stat

    try:
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size > 0


def _main_file(folder: str, names: list[str]) -> str:
    """The first shard of a split set if there is one, else the largest file."""
    first_shards = sorted(n for n in names if (m := _SHARD.match(n)) and m["index"] == "00001")
    if first_shards:
        return first_shards[0]

    def size(name: str) -> int:
        try:
            return os.path.getsize(os.path.join(folder, name))
        except OSError:
            return -1

    return max(sorted(names), key=size)


def _find_variant(root: str, variant: str) -> str | None:
    """The weight file of quant ``variant`` below ``root`` (bounded walk), the first shard of a split set."""
    wanted = variant.casefold()
    matches: list[str] = []
    seen = 0
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            seen += 1
            if seen > _MAX_WALK:
                break
            if is_gguf_weight(name) and wanted in _labels(folder, name):
                matches.append(os.path.join(folder, name))
    def rank(path: str) -> int:  # a whole file or a split set's first shard (what a load opens) first
        shard = _SHARD.match(os.path.basename(path))
        return 0 if shard is None or shard["index"] == "00001" else 1

    return min(matches, key=rank) if matches else None


def _labels(folder: str, name: str) -> set[str]:
    """The names a file answers to as a quant: its quant tokens, its stem, its quant-named folder."""
    stem = name[:-5]
    shard = _SHARD.match(name)
    if shard:
        stem = shard["stem"]
    labels = {stem.casefold(), *(m.group(0).casefold() for m in _QUANT_IN_NAME.finditer(stem))}
    parent = os.path.basename(folder)
    if _QUANT_FOLDER.fullmatch(parent):
        labels.add(parent.casefold())
        labels.add(re.sub(r"-\d+(?:\.\d+)?bpw$", "", parent, flags=re.IGNORECASE).casefold())
    return labels


def judge_gguf_local(selection: LocalGGUF, require_image: bool = True) -> tuple[Kind, str]:
    """Judge a local GGUF selection by its projectors."""
    projectors = [(os.path.basename(p), p) for p in selection.projectors]
    kind, evidence = judge_projectors(projectors, require_image)
    ignored = f"; ignored {', '.join(selection.ignored)}: not a regular, non-empty file" if selection.ignored else ""
    return kind, f"{evidence} (weights {os.path.basename(selection.weight or '')}{ignored})"


def _bool_field(reader: Any, key: str) -> bool:
    field = reader.get_field(key)
    if field is None:
        return False
    try:
        return bool(field.contents())
    except Exception:
        return False
