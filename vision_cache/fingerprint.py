"""The detector fingerprint: which rules and which transformers produced a verdict.

A hit needs it to judge a stored ``not_vision`` (when it is older, the negative is re-checked: a
newer transformers may know a new VLM type; ``vision`` verdicts stand whatever the fingerprint),
so it is computed without importing transformers, the rules, or ``importlib.metadata`` (50-65 ms
to import): the rules' version lives in a module of its own, and the installed transformers'
version is read from its ``.dist-info`` folder when that is unambiguous (see :func:`installed_version`).
"""

from __future__ import annotations

import os
import sys

_fingerprints: dict[str | None, str] = {}


def default_fingerprint(sidecar_transformers: str | None = None) -> str:
    """``rules/<version> transformers/<version>`` (+ the sidecar's transformers), computed once per process."""
    fingerprint = _fingerprints.get(sidecar_transformers)
    if fingerprint is None:
        from .detect.rules_version import RULES_VERSION

        parts = [f"rules/{RULES_VERSION}", f"transformers/{installed_version('transformers')}"]
        if sidecar_transformers:
            parts.append(f"sidecar-transformers/{sidecar_transformers}")
        fingerprint = _fingerprints[sidecar_transformers] = " ".join(parts)
    return fingerprint


default_fingerprint.cache_clear = _fingerprints.clear  # type: ignore[attr-defined]  # as when it was an lru_cache


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
    """The version ``importlib.metadata.version`` reports for ``distribution`` ("none" if absent).

    Read directly when ``importlib.metadata`` would find exactly one ``<name>-<version>.dist-info``
    folder first; otherwise (an egg, a zip on ``sys.path``, two candidates in one folder, another
    finder that knows distributions) asked of ``importlib.metadata`` itself.
    """
    found = _dist_info_version(distribution)
    if found is not None:
        return found
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "none"


def _normalize(name: str) -> str:
    """importlib.metadata's ``Prepared.normalize``."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _dist_info_version(distribution: str) -> str | None:
    """What ``importlib.metadata.version(distribution)`` returns, following its search (the meta path's
    distribution finders in order, then ``sys.path`` in order, the first folder holding a match
    wins), or None when that search is not a plain one this function can follow exactly."""
    for finder in sys.meta_path:
        if hasattr(finder, "find_distributions"):
            if getattr(finder, "__name__", None) != "PathFinder" or finder.__module__ != "_frozen_importlib_external":
                return None  # a finder of another kind comes first: ask importlib.metadata
            break
    else:
        return None
    wanted = _normalize(distribution)
    for entry in sys.path:
        root = entry or "."
        try:
            children = os.listdir(root)
        except NotADirectoryError:
            return None  # a zip on sys.path: importlib.metadata reads inside it
        except OSError:
            continue
        matches = [child for child in children if child.lower().endswith((".dist-info", ".egg-info"))
                   and _normalize(child.lower().rpartition(".")[0].partition("-")[0]) == wanted]
        if not matches:
            continue
        if len(matches) != 1 or not matches[0].lower().endswith(".dist-info"):
            return None  # which one importlib.metadata takes depends on the listing order, or an egg
        return _metadata_version(os.path.join(root, matches[0], "METADATA"))
    return None


def _metadata_version(path: str) -> str | None:
    """The ``Version`` header of a METADATA file (None if it is missing or unreadable)."""
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    return None  # end of the headers
                name, colon, value = line.partition(":")
                if colon and name.lower() == "version":
                    return value.strip() or None
    except (OSError, UnicodeDecodeError):
        return None
    return None
