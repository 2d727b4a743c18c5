"""Local models (training outputs, downloaded snapshots, GGUF files): their content digest.

The content version of a local model is a digest of exactly the files that decide its verdict:
``config.json``'s bytes, and for GGUF the names, sizes and header bytes of the weight and
projector files. An unchanged folder is answered from the store; an edited one is re-detected.

Local model files are read only through :mod:`.files` (regular files only, non-blocking, bounded
in bytes): a FIFO or device named ``config.json`` or ``mmproj*.gguf`` cannot hang or flood a lookup.
"""

from __future__ import annotations

import hashlib
import os

from .files import MAX_CONFIG_BYTES, read_regular

GGUF_HEADER_BYTES = 64 * 1024  # GGUF metadata (architecture, projector capabilities) lives at the start


def deciding_files(path: str, gguf_variant: str | None = None, question: str = "vision") -> list[str]:
    """The files whose content (or absence) decides the answer to ``question`` for the model at ``path``.

    Vision: the GGUF weight a load of ``gguf_variant`` would open and its candidate projectors, or
    else ``config.json``. Audio type: ``config.json`` and the tokenizer files. Embedding: ``modules.json``.
    """
    from .gguf_rules import select_local

    folder = path if os.path.isdir(path) else os.path.dirname(path)
    if question == "audio_type":
        from .audio import AUDIO_FILES

        return [os.path.join(folder, *name.split("/")) for name in AUDIO_FILES]
    if question == "embedding":
        return [os.path.join(folder, "modules.json")]
    selection = select_local(path, gguf_variant)
    if selection is not None and selection.weight is not None:
        return sorted({selection.weight, *selection.projectors})
    return [os.path.join(path, "config.json")] if os.path.isdir(path) else [path]


def content_digest(path: str, gguf_variant: str | None = None, require_image: bool = True,
                   question: str = "vision") -> str:
    """40 hex digits identifying the deciding content of ``path`` for ``question`` (cheap: no weights
    are read in full). The variant and ``require_image`` are part of it: they change the answer.

    A deciding file that is not a regular file (a FIFO, a device, a socket, a dangling symlink) counts
    as unreadable: it is never opened for reading, so it cannot block the lookup.
    """
    digest = hashlib.sha256(b"vision_cache local v2\0")
    digest.update(f"{question}\0{gguf_variant or ''}\0{bool(require_image)}\0".encode("utf-8", "surrogateescape"))
    base = path if os.path.isdir(path) else os.path.dirname(path)
    for file in deciding_files(path, gguf_variant, question):
        name = os.path.relpath(file, base)
        whole = not name.endswith(".gguf")  # configs and tokenizer files are read whole (bounded); GGUF by header
        read = read_regular(file, MAX_CONFIG_BYTES if whole else GGUF_HEADER_BYTES)
        size, head = read if read is not None else (-1, b"")
        digest.update(f"{name}\0{size}\0".encode("utf-8", "surrogateescape"))
        digest.update(hashlib.sha256(head).digest())
    return digest.hexdigest()[:40]
