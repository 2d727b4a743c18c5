"""Local models (training outputs, downloaded snapshots, GGUF files): their content digest.

The content version of a local model is a digest of exactly the files that decide its verdict:
``config.json``'s bytes, and for GGUF the names, sizes and header bytes of the weight and
projector files. An unchanged folder is answered from the store; an edited one is re-detected.

Local model files are read only through :func:`read_regular` (regular files only, non-blocking,
bounded in bytes) and folders listed only through :func:`listdir`, here and in :mod:`.gguf_rules`:
a FIFO or device named ``config.json`` or ``mmproj*.gguf`` cannot hang or flood a lookup.
"""

from __future__ import annotations

import hashlib
import os
import stat

GGUF_HEADER_BYTES = 64 * 1024  # GGUF metadata (architecture, projector capabilities) lives at the start
MAX_CONFIG_BYTES = 8 << 20  # no real config.json comes near this; a hostile one is refused
_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


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


def listdir(folder: str) -> list[str]:
    """Sorted names in ``folder``; [] if it cannot be read. The one listing of local model folders."""
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def read_regular(path: str, limit: int) -> tuple[int, bytes] | None:
    """``(size, first limit bytes)`` of ``path`` if it is a regular file (symlinks followed), else None.

    Every read of a local model's files goes through here. It never blocks and never reads more than
    ``limit`` bytes: anything but a regular file (FIFO, device, socket, directory) is refused before
    it is opened (``stat``), and again on the opened descriptor (``fstat``: the path may have been
    swapped meanwhile), and the open itself is non-blocking, so a FIFO swapped in cannot hang it.
    Any OSError (missing, unreadable) also gives None.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        fd = os.open(path, _READ_FLAGS)
    except (OSError, ValueError):  # ValueError: a NUL byte in the name
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        chunks, remaining = [], limit
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return info.st_size, b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)
