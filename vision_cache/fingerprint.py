"""The detector fingerprint: which rules and which transformers produced a verdict.

Computed without importing transformers (package metadata only), because a hit needs it to judge
a stored ``not_vision``: when it differs, the negative is re-checked (a newer transformers may
know a new VLM type). ``vision`` verdicts stand whatever the fingerprint.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=8)
def default_fingerprint(sidecar_transformers: str | None = None) -> str:
    from .detect.rules import RULES_VERSION

    parts = [f"rules/{RULES_VERSION}", f"transformers/{installed_version('transformers')}"]
    if sidecar_transformers:
        parts.append(f"sidecar-transformers/{sidecar_transformers}")
    return " ".join(parts)


def is_older(stored: str, current: str) -> bool:
    """Whether a stored verdict's fingerprint predates ``current`` (so a stored negative is re-checked).

    Fingerprints are ``name/version`` parts. A part of ``current`` that the stored one lacks, or has
    at a lower version, makes it older; a higher version (a worker elsewhere already upgraded) does
    not, so workers on mixed versions do not re-detect each other's answers back and forth.
    """
    stored_parts = _parts(stored)
    return any(name not in stored_parts or _version_key(stored_parts[name]) < _version_key(version)
               for name, version in _parts(current).items())


def _parts(fingerprint: str) -> dict[str, str]:
    return dict(part.partition("/")[::2] for part in fingerprint.split())


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A sortable key for version strings like 5.24.0, 4.57.1.dev0 (numbers compare as numbers)."""
    import re

    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-+]", version))


def installed_version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "none"
