"""Resolved configuration: constructor arguments first, then ``VISION_CACHE_*`` variables, then defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from .errors import ConfigurationError

DAY = 24 * 3600.0

DEFAULT_NEGATIVE_TTL = 7 * DAY  # a `not_vision` answer is re-checked weekly (a new transformers may know more)
DEFAULT_DENIED_TTL = 600.0  # access can be granted at any time: re-check denials after 10 minutes
DEFAULT_ALIAS_TTL = 600.0  # how long "main" is trusted to point at the same commit
DEFAULT_FAILURE_BACKOFF = 10.0  # after an `unknown`, other workers wait this long before asking the Hub again
MAX_FAILURE_BACKOFF = 30.0
DEFAULT_HUB_TIMEOUT = 10.0  # bound on a cold lookup's time spent talking to the Hub
DEFAULT_SIDECAR_TIMEOUT = 60.0  # a sidecar interpreter importing a newer transformers can take a while


class Settings(NamedTuple):
    directory: str | None  # None: the platformdirs user cache folder
    url: str | None  # redis://... puts the store on Redis
    redis_prefix: str  # namespace of every key in Redis
    negative_ttl: float
    denied_ttl: float
    alias_ttl: float
    failure_backoff: float
    hub_timeout: float
    sidecar_python: str | None  # another venv's python for configs the raw read cannot judge
    sidecar_timeout: float

    @classmethod
    def resolve(
        cls,
        *,
        directory: str | os.PathLike | None = None,
        url: str | None = None,
        redis_prefix: str | None = None,
        negative_ttl: float | None = None,
        denied_ttl: float | None = None,
        alias_ttl: float | None = None,
        failure_backoff: float | None = None,
        hub_timeout: float | None = None,
        sidecar_python: str | None = None,
        sidecar_timeout: float | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> Settings:
        """Merge arguments, environment and defaults; raise ConfigurationError on a bad value."""
        backoff = _seconds("failure_backoff", failure_backoff, environ.get("VISION_CACHE_FAILURE_BACKOFF"),
                           DEFAULT_FAILURE_BACKOFF)
        if backoff > MAX_FAILURE_BACKOFF:
            raise ConfigurationError(f"failure_backoff must be at most {MAX_FAILURE_BACKOFF:g} seconds")
        return cls(
            directory=os.fspath(directory) if directory is not None else environ.get("VISION_CACHE_DIR") or None,
            url=url if url is not None else environ.get("VISION_CACHE_URL") or None,
            redis_prefix=redis_prefix or environ.get("VISION_CACHE_REDIS_PREFIX") or "vision_cache:",
            negative_ttl=_seconds("negative_ttl", negative_ttl, environ.get("VISION_CACHE_NEGATIVE_TTL"),
                                  DEFAULT_NEGATIVE_TTL),
            denied_ttl=_seconds("denied_ttl", denied_ttl, environ.get("VISION_CACHE_DENIED_TTL"),
                                DEFAULT_DENIED_TTL),
            alias_ttl=_seconds("alias_ttl", alias_ttl, environ.get("VISION_CACHE_ALIAS_TTL"), DEFAULT_ALIAS_TTL),
            failure_backoff=backoff,
            hub_timeout=_seconds("hub_timeout", hub_timeout, environ.get("VISION_CACHE_HUB_TIMEOUT"),
                                 DEFAULT_HUB_TIMEOUT),
            sidecar_python=_sidecar(sidecar_python if sidecar_python is not None
                                    else environ.get("VISION_CACHE_SIDECAR_PYTHON") or None),
            sidecar_timeout=_seconds("sidecar_timeout", sidecar_timeout,
                                     environ.get("VISION_CACHE_SIDECAR_TIMEOUT"), DEFAULT_SIDECAR_TIMEOUT),
        )


def _sidecar(path: str | os.PathLike | None) -> str | None:
    if path is None:
        return None
    path = os.fspath(path)
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise ConfigurationError(f"sidecar_python {path!r} is not an executable file")
    return os.path.abspath(path)


def _seconds(name: str, argument: float | None, env_value: str | None, default: float) -> float:
    if argument is not None:
        value, origin = argument, name
    elif env_value not in (None, ""):
        value, origin = env_value, f"VISION_CACHE_{name.upper()}"
    else:
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{origin} must be a number of seconds, got {value!r}") from None
    if not (0 <= seconds < float("inf")):
        raise ConfigurationError(f"{origin} must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set, read as huggingface_hub reads it."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.upper() in ("1", "ON", "YES", "TRUE")
