"""Local models (training outputs, downloaded snapshots, GGUF files): their content digest.

The content version of a local model is a digest of exactly the files that decide its verdict:
``config.json``'s bytes, and for GGUF the names, sizes and header bytes of the weight and
projector files. An unchanged folder is answered from the store; an edited one is re-detected.
"""

from __future__ import annotations

import hashlib
import os

from .gguf_rules import is_projector_name

GGUF_HEADER_BYTES = 64 * 1024  # GGUF metadata (architecture, projector capabilities) lives at the start
MAX_CONFIG_BYTES = 8 << 20  # no real config.json comes near this; a hostile one is refused


def deciding_files(path: str) -> list[str]:
    """The files whose content decides the verdict for the model at ``path``."""
    if os.path.isfile(path):
        folder = os.path.dirname(path)
        projectors = [os.path.join(folder, n) for n in listdir(folder) if is_projector_name(n)]
        return sorted({path, *projectors})
    names = listdir(path)
    chosen = [n for n in names if n == "config.json" or n.lower().endswith(".gguf")]
    return sorted(os.path.join(path, n) for n in chosen)


def content_digest(path: str) -> str:
    """40 hex digits identifying the deciding content of ``path`` (cheap: no weights are read in full)."""
    digest = hashlib.sha256(b"vision_cache local v1\0")
    for file in deciding_files(path):
        name = os.path.relpath(file, path if os.path.isdir(path) else os.path.dirname(path))
        try:
            size = os.path.getsize(file)
            with open(file, "rb") as fh:
                head = fh.read(MAX_CONFIG_BYTES if name == "config.json" else GGUF_HEADER_BYTES)
        except OSError:
            size, head = -1, b""
        digest.update(f"{name}\0{size}\0".encode("utf-8", "surrogateescape"))
        digest.update(hashlib.sha256(head).digest())
    return digest.hexdigest()[:40]


def listdir(folder: str) -> list[str]:
    """Sorted names in ``folder``; [] if it cannot be read."""
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []
