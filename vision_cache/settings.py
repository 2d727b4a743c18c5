"""Every setting vision_cache reads, and the one place that reads ``VISION_CACHE_*`` variables.

Precedence: a constructor argument, then the environment variable, then the default. Each setting
is one row of :data:`FIELDS`; an invalid value raises :class:`~vision_cache.errors.ConfigurationError`
naming the argument or variable (never its value when it may hold a credential).
"""

from __future__ import annotations

import math
import os

from ._tuples import NamedTuple
from .errors import ConfigurationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    Parser = Callable[[Any, str], Any]

DAY = 24 * 3600.0
MAX_SECONDS = 100 * 365 * DAY  # a lifetime beyond a century is a typo; it would also overflow time APIs


class Settings(NamedTuple):
    directory: str | None  # the store folder; None: the platformdirs user cache folder
    url: str | None  # redis://... puts the store on Redis (directory is then its outage tier)
    redis_prefix: str  # namespace of every key in Redis
    negative_ttl: float  # how long a not_vision verdict is kept
    audio_negative_ttl: float  # how long "no audio type" is kept
    embedding_negative_ttl: float  # how long "not an embedding model" is kept
    denied_ttl: float  # how long a denied verdict is kept
    alias_ttl: float  # how long a revision name is trusted to point at the same commit
    hub_timeout: float  # bound on one cold lookup's time spent talking to the Hub
    sidecar_python: str | None  # another venv's python for configs the raw read cannot judge
    sidecar_timeout: float  # how long the sidecar may take
    lease_ttl: float  # a crashed detector's lease is taken over within this long
    memory_ttl: float  # how long this process may answer from memory (bounds how late it sees a purge)

    @classmethod
    def resolve(cls, environ: Mapping[str, str] | None = None, **arguments: Any) -> Settings:
        """Merge ``arguments`` (None: not given), the environment and the defaults.

        Raises:
            ConfigurationError: a value is invalid, or an argument is not a setting.
        """
        environ = os.environ if environ is None else environ
        unknown = set(arguments) - set(FIELDS)
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values = {}
        for name, (parse, default) in FIELDS.items():
            variable = environment_variable(name)
            given = arguments.get(name)
            if given is not None:
                values[name] = parse(given, name)
            elif environ.get(variable, "").strip():
                values[name] = parse(environ[variable].strip(), variable)
            else:
                values[name] = default
        return cls(**values)


def environment_variable(name: str) -> str:
    """The variable that sets ``name``: ``VISION_CACHE_<NAME>``, except ``VISION_CACHE_DIR`` for ``directory``."""
    return "VISION_CACHE_DIR" if name == "directory" else "VISION_CACHE_" + name.upper()


def default_directory() -> str:
    """The per-user cache folder: platformdirs' ``user_cache_dir("vision_cache")`` (``~/.cache/vision_cache``
    on Linux). Importing platformdirs costs more than a whole stored-verdict lookup in a fresh process
    (about 8 ms), so on Linux its rule is applied here when its inputs are plain; platformdirs is asked
    otherwise (tests/test_settings.py checks both agree)."""
    plain = _linux_user_cache_dir(os.environ)
    if plain is not None:
        return os.path.join(plain, "vision_cache")
    import platformdirs

    return platformdirs.user_cache_dir("vision_cache", appauthor=False)


def _linux_user_cache_dir(environ: Mapping[str, str]) -> str | None:
    """platformdirs' Unix rule: ``$XDG_CACHE_HOME`` if it is an absolute path, else ``$HOME/.cache``;
    None (ask platformdirs) off Linux, on Android, or when the variables are anything but plain
    (a relative or blank ``XDG_CACHE_HOME``, a missing or relative ``HOME``: versions differ there)."""
    import sys

    if not sys.platform.startswith("linux") or hasattr(sys, "getandroidapilevel") or (
            environ.get("ANDROID_DATA") == "/data" and environ.get("ANDROID_ROOT") == "/system"):
        return None
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg:
        return xdg if xdg.startswith("/") else None
    home = environ.get("HOME", "")
    return os.path.join(home.rstrip("/") or "/", ".cache") if home.startswith("/") else None


def hub_offline(environ: Mapping[str, str] | None = None) -> bool:
    """Whether offline mode is on in this process, as huggingface_hub and Studio read it.

    ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` set to a true value (stripped and case-folded:
    ``" 1 "``, ``"on"``, ``"TRUE"``), or ``huggingface_hub.constants.HF_HUB_OFFLINE`` flipped to
    True in this process (Studio forces offline that way for a while) when huggingface_hub is
    already imported (it is never imported just to ask).
    """
    import sys

    environ = os.environ if environ is None else environ
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if environ.get(variable, "").strip().upper() in ("1", "ON", "YES", "TRUE"):
            return True
    constants = sys.modules.get("huggingface_hub.constants")
    return getattr(constants, "HF_HUB_OFFLINE", False) is True


# -- parsers: one per kind of value ---------------------------------------------------------------


def _seconds(value: Any, origin: str) -> float:
    if hasattr(value, "total_seconds"):  # datetime.timedelta
        value = value.total_seconds()
    if isinstance(value, bool):
        raise ConfigurationError(f"{origin} must be a number of seconds, not a bool")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{origin} must be a number of seconds, got {_show(value)}") from None
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_SECONDS):
        raise ConfigurationError(f"{origin} must be between 0 and {MAX_SECONDS:.0f} seconds, got {_show(value)}")
    return seconds


def _path(value: Any, origin: str) -> str:
    try:
        path = os.fspath(value)
    except TypeError:
        raise ConfigurationError(f"{origin} must be a path, not {type(value).__name__}") from None
    if not isinstance(path, str) or not path or "\0" in path:
        raise ConfigurationError(f"{origin} must be a non-empty path")
    return path


def _executable(value: Any, origin: str) -> str:
    path = _path(value, origin)
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise ConfigurationError(f"{origin}: {_show(path)} is not an executable file")
    return os.path.abspath(path)


def _url(value: Any, origin: str) -> str:
    if not isinstance(value, str) or not value.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(f"{origin} must be a redis://, rediss:// or unix:// URL")  # never echoed
    return value


def _text(value: Any, origin: str) -> str:
    if not isinstance(value, str) or not value or not value.isprintable() or len(value) > 200:
        raise ConfigurationError(f"{origin} must be printable text of 1-200 characters")
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


#: name -> (parser, default). The environment variable is :func:`environment_variable` (name).
FIELDS: dict[str, tuple[Parser, Any]] = {
    "directory": (_path, None),
    "url": (_url, None),
    "redis_prefix": (_text, "vision_cache:"),
    "negative_ttl": (_seconds, 7 * DAY),  # re-checked weekly: a new transformers may know more VLMs
    "audio_negative_ttl": (_seconds, 7 * DAY),
    "embedding_negative_ttl": (_seconds, 7 * DAY),
    "denied_ttl": (_seconds, 600.0),  # access can be granted at any time
    "alias_ttl": (_seconds, 600.0),  # how long "main" is trusted to point at the same commit
    "hub_timeout": (_seconds, 10.0),  # the client alone would retry for ~23 s
    "sidecar_python": (_executable, None),
    "sidecar_timeout": (_seconds, 60.0),  # a sidecar importing a newer transformers can take a while
    "lease_ttl": (_seconds, 10.0),
    "memory_ttl": (_seconds, 1.0),
}
