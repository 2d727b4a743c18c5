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


def custom_fingerprint(detector: object) -> str:
    """A caller's detector: its ``fingerprint`` attribute if it has one, else its qualified name."""
    explicit = getattr(detector, "fingerprint", None)
    if isinstance(explicit, str) and explicit:
        return f"custom/{explicit}"
    name = getattr(detector, "__qualname__", type(detector).__qualname__)
    return f"custom/{getattr(detector, '__module__', '?')}.{name}"


def installed_version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "none"
