"""GGUF models (llama.cpp): vision when a companion projector accepts images.

A GGUF weight file is text-only by itself; llama.cpp gives it eyes through a multimodal
projector file (``mmproj*.gguf``) beside it. A projector accepts images when its metadata says
``clip.has_vision_encoder = true`` (llama.cpp's ``clip.cpp`` reads exactly this flag and treats a
missing one as false); an audio-only projector (``clip.has_audio_encoder`` only) does not count.
The metadata is read with the ``gguf`` package, imported on a miss only.
"""

from __future__ import annotations

import os
import tempfile

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

    from .local import read_regular

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
    """Judge ``(display name, local path)`` projectors: vision if any accepts images.

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
            seen.append(f"{name} unreadable ({exc})")
            continue
        if caps["vision"]:
            return Kind.VISION, f"projector {name} accepts images"
        seen.append(f"{name} is audio-only" if caps["audio"] else f"{name} declares no vision encoder")
    return Kind.NOT_VISION, "; ".join(seen)


def judge_gguf_local(path: str, require_image: bool = True) -> tuple[Kind, str]:
    """A local ``.gguf`` file (its folder's projectors count) or a folder of GGUF files."""
    from .local import listdir

    folder = path if os.path.isdir(path) else os.path.dirname(path)
    names = listdir(folder)
    projectors = [(n, os.path.join(folder, n)) for n in names if is_projector_name(n)]
    return judge_projectors(projectors, require_image)


def _bool_field(reader, key: str) -> bool:
    field = reader.get_field(key)
    if field is None:
        return False
    try:
        return bool(field.contents())
    except Exception:
        return False
