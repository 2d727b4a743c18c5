"""Reading a local model's files safely: the one place that lists a model folder or opens a file in it.

Model folders are user input: a file named ``config.json`` or ``mmproj*.gguf`` may be a FIFO, a
device, a socket or a symlink to one, and a hostile one may be endless. Everything here refuses
anything but a regular file, never blocks, and never reads more than it is asked to.
"""

from __future__ import annotations

import os
import stat

MAX_CONFIG_BYTES = 8 << 20  # no real config or tokenizer file comes near this; a hostile one is refused
_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


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
