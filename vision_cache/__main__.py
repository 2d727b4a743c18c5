"""``python -m vision_cache``: the ``vision-cache`` command (see :mod:`vision_cache.cli`)."""

from __future__ import annotations

import sys

try:
    from .cli import run
except KeyboardInterrupt:  # Ctrl-C while the command is still loading: one line, no traceback
    print("interrupted", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":
    run()
