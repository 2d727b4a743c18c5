"""What a lookup is about: the model, the revision and the auth scope, parsed from hostile input.

Everything here runs on the hit path, so it imports nothing heavy. :func:`parse_subject` makes
cheap checks only; huggingface_hub's full repo-id rules (:func:`validate_hub_subject`, ~0.2 s to
import) run on a miss, before anything is written. See docs/design.md, "Keys".
"""

from __future__ import annotations

import os
import sys
import time

from ._tuples import NamedTuple
from .errors import (
    InvalidModelNameError,
    InvalidQuestionError,
    InvalidRevisionError,
    InvalidTokenError,
    InvalidVariantError,
    LocalModelNotFoundError,
)
from .verdict import SHA_RE, Question

ANONYMOUS = "anonymous"
LOCAL = "local"
DEFAULT_REVISION = "main"
MAX_NAME_LENGTH = 4096  # a path may be long; a repo id is checked against the Hub's own limit later
_PATH_PREFIXES = ("/", "./", "../", "~", ".\\", "..\\")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Subject(NamedTuple):
    """A model to judge: a Hub repo (compared case-insensitively) or a local file or folder."""

    kind: str  # "hub" or "local"
    name: str  # the repo id as given, or the absolute normalised path
    id: str  # the comparison key: the repo id with ASCII letters lower-cased, or the path

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


class Target(NamedTuple):
    """Everything a lookup needs to key, resolve, detect and report one model."""

    subject: Subject
    revision: str  # as asked ("main" when None was given)
    scope: str  # "anonymous", "local" or "token:<keyed fingerprint>"
    token: str | None  # the effective token; never stored, logged or shown
    offline: bool  # local_files_only, HF_HUB_OFFLINE, or a local subject
    gguf_variant: str | None = None  # local GGUF folders: the quant a load would open
    require_image: bool = True  # GGUF: a projector must accept images (False: any projector)
    question: Question = Question.VISION  # what is asked of the model


def parse_subject(model_name: object) -> Subject:
    """Classify ``model_name`` as a local path or a Hub repo id, with cheap checks only.

    A name that exists on disk, or that is written like a path (``/x``, ``./x``, ``~/x``), is local;
    anything else is a Hub repo id, fully validated by :func:`validate_hub_subject` on a miss.
    A Hub repo id is ASCII (the Hub's own rule), so a non-ASCII name is refused here: Unicode
    case folding could otherwise map it onto another repo's entry (KELVIN SIGN onto ``k``).

    Raises:
        InvalidModelNameError: not a string, empty, too long, or containing control characters.
        LocalModelNotFoundError: written like a path, but nothing exists there.
    """
    if not isinstance(model_name, str):
        raise InvalidModelNameError(f"model name must be a str, not {type(model_name).__name__}")
    if not model_name or model_name.strip() != model_name:
        raise InvalidModelNameError(f"model name {_shorten(model_name)!r} is empty or has surrounding white space")
    if len(model_name) > MAX_NAME_LENGTH or not model_name.isprintable():
        raise InvalidModelNameError(
            f"model name {_shorten(model_name)!r} is too long or contains control characters"
        )
    try:
        expanded = os.path.expanduser(model_name)
        exists = os.path.exists(expanded)
    except (OSError, ValueError):  # e.g. a name longer than the OS allows for a path
        expanded, exists = model_name, False
    if exists:
        path = os.path.realpath(expanded)
        return Subject("local", path, path)
    if model_name.startswith(_PATH_PREFIXES) or os.path.isabs(expanded):
        raise LocalModelNotFoundError(f"no file or folder at {_shorten(model_name)!r}, and it is not a Hub repo id")
    if not model_name.isascii():
        raise InvalidModelNameError(f"{_shorten(model_name)!r} is not a valid Hub repo id: not ASCII")
    return Subject("hub", model_name, model_name.translate(_ASCII_LOWER))


def same_subject(stored_name: str, subject: Subject) -> bool:
    """Whether a name read back from the store denotes ``subject`` (a guard against planted entries)."""
    return (stored_name.translate(_ASCII_LOWER) if subject.kind == "hub" else stored_name) == subject.id


def validate_hub_subject(subject: Subject) -> None:
    """Apply ``huggingface_hub``'s own repo-id rules (imported on a miss only).

    Raises:
        InvalidModelNameError: the Hub would refuse this repo id.
    """
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id  # type: ignore[attr-defined]  # public, re-exported

    try:
        validate_repo_id(subject.name)
    except HFValidationError as exc:
        raise InvalidModelNameError(f"{_shorten(subject.name)!r} is not a valid Hub repo id: {exc}") from None


def parse_revision(revision: object) -> str:
    """Return the revision to resolve ("main" when None).

    Raises:
        InvalidRevisionError: not a string, empty, too long, or containing control characters or spaces.
    """
    if revision is None:
        return DEFAULT_REVISION
    if not isinstance(revision, str):
        raise InvalidRevisionError(f"revision must be a str, not {type(revision).__name__}")
    if not revision or len(revision) > 256 or not revision.isprintable() or " " in revision:
        raise InvalidRevisionError(f"{_shorten(revision)!r} is not a valid git revision")
    if ".." in revision or revision.startswith("/") or revision.endswith((".lock", "/")):
        raise InvalidRevisionError(f"{_shorten(revision)!r} is not a valid git revision")
    return revision


def parse_gguf_variant(variant: object) -> str | None:
    """A GGUF quant name (``Q4_K_M``, ``UD-Q4_K_XL``, ``IQ4_XS-3.53bpw``), or None.

    Raises:
        InvalidVariantError: not a str, or not a plain name (a path, control characters, too long).
    """
    if variant is None:
        return None
    if not isinstance(variant, str):
        raise InvalidVariantError(f"gguf_variant must be a str or None, not {type(variant).__name__}")
    if not variant or len(variant) > 128 or not variant.isprintable() or any(c in variant for c in "/\\\0"):
        raise InvalidVariantError(f"gguf_variant {_shorten(variant)!r} is not a quant name")
    return variant


def parse_question(question: object) -> Question:
    """A :class:`Question` from itself or its name.

    Raises:
        InvalidQuestionError: not one of ``vision``, ``audio_type``, ``embedding``.
    """
    try:
        return Question(question)
    except ValueError:
        names = ", ".join(q.value for q in Question)
        raise InvalidQuestionError(f"question must be one of {names}, not {_shorten(repr(question))}") from None


def is_commit_sha(revision: str) -> bool:
    return SHA_RE.fullmatch(revision) is not None


# --- auth scope ---------------------------------------------------------------------------------


def effective_token(hf_token: object) -> str | None:
    """The token a Hub request for this call would carry: the argument, else the ambient token.

    Raises:
        InvalidTokenError: ``hf_token`` is neither a str nor None (the message never shows it).
    """
    if hf_token is None:
        return ambient_token()
    if not isinstance(hf_token, str):
        raise InvalidTokenError(f"hf_token must be a str or None, not {type(hf_token).__name__}")
    if not hf_token.isascii():
        raise InvalidTokenError("hf_token contains characters no Hugging Face token has")
    return _clean_token(hf_token)


_AMBIENT_REFRESH = 1.0  # seconds: a login or a logout is noticed within this long
_ambient_cache: tuple[float, str | None] | None = None


def ambient_token() -> str | None:
    """The ambient token (see :func:`read_ambient_token`), re-read at most once a second.

    This runs on every lookup, and re-reading the token file each time would cost more than the
    rest of a hit. Offline mode, by contrast, is read live on every lookup (it is cheap, and
    Studio flips it in-process for short windows).
    """
    global _ambient_cache
    now = time.monotonic()
    cached = _ambient_cache
    if cached is None or now - cached[0] >= _AMBIENT_REFRESH:
        cached = _ambient_cache = (now, read_ambient_token())
    return cached[1]


def refresh_ambient() -> None:
    """Forget the remembered ambient token (after a login or logout in this process)."""
    global _ambient_cache
    _ambient_cache = None


def read_ambient_token() -> str | None:
    """The token ``huggingface_hub.get_token()`` would return, without importing it when we can.

    ``get_token`` costs ~200 ms to import, which a cache hit cannot afford. For the plain cases
    (``HF_TOKEN``/``HUGGING_FACE_HUB_TOKEN``, a token file, or nothing) we apply its documented
    precedence here; for everything else (OIDC, Colab, OAuth tokens that refresh, staging) we ask
    ``get_token()`` itself. ``tests/test_auth.py`` checks both agree.
    """
    env = os.environ
    if env.get("HF_OIDC_RESOURCE") or "google.colab" in sys.modules or env.get("HUGGINGFACE_CO_STAGING"):
        return _hub_get_token()
    from_env = _clean_token(env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN"))
    if from_env is not None:
        return from_env
    token_path = _hf_token_path()
    try:
        with open(token_path, encoding="utf-8") as fh:
            from_file = _clean_token(fh.read())
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return _hub_get_token()
    if from_file is not None and os.path.exists(os.path.join(os.path.dirname(token_path), "stored_tokens")):
        return _hub_get_token()  # may be an OAuth token that get_token() refreshes
    return from_file


def _hub_get_token() -> str | None:
    from huggingface_hub import get_token

    return get_token()


def _hf_token_path() -> str:
    default_home = os.path.join(os.path.expanduser("~"), ".cache")
    hf_home = os.path.expandvars(os.path.expanduser(
        os.getenv("HF_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", default_home), "huggingface"))))
    return os.path.expandvars(os.path.expanduser(os.getenv("HF_TOKEN_PATH", os.path.join(hf_home, "token"))))


def _clean_token(token: str | None) -> str | None:
    if token is None:
        return None
    return token.replace("\r", "").replace("\n", "").strip() or None


_scopes: dict[tuple[bytes, str], str] = {}


def auth_scope(token: str | None, secret: bytes) -> str:
    """``anonymous``, or a keyed fingerprint of the token that cannot be reversed without the secret.

    Memoised in this process's memory only (the tokens are in the caller's memory anyway).
    """
    if token is None:
        return ANONYMOUS
    scope = _scopes.get((secret, token))
    if scope is None:
        import hashlib
        import hmac

        if len(_scopes) > 256:
            _scopes.clear()
        scope = _scopes[(secret, token)] = "token:" + hmac.new(secret, token.encode("utf-8", "surrogatepass"),
                                                                 hashlib.sha256).hexdigest()[:32]
    return scope


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
