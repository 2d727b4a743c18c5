"""The Hub seam: the few calls a miss makes, behind one small protocol.

:class:`HubClient` is everything the resolver and the detector ask of the Hub:

- :meth:`~HubClient.repo_state`: resolve a revision to its commit sha, confirm this token may
  see the repo, and list its files (one ``model_info`` request);
- :meth:`~HubClient.confirm_access`: for a gated repo, one HEAD proving this token may read files;
- :meth:`~HubClient.read_file` and :meth:`~HubClient.read_gguf_header`: bytes at a commit;
- :meth:`~HubClient.cached_commit`: what the local HF cache's ``refs/`` says (no request).

Failures are ``huggingface_hub``'s own exceptions (``RepositoryNotFoundError``, ``GatedRepoError``,
``EntryNotFoundError``, ``LocalEntryNotFoundError``...), or ``TimeoutError`` / ``OSError``;
:mod:`vision_cache.detect.failures` maps them to verdict kinds.

:class:`HfHubClient` implements it once over ``huggingface_hub`` (imported on a miss only), every
call bounded in time. :class:`MemoryHub` implements it in memory, for tests of cache logic that
need no HTTP (like ``httpx.MockTransport``). The token is always passed explicitly (``False``
for anonymous), so the client never picks a different token than our auth scope was computed from.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class RepoState:
    commit_sha: str
    files: tuple[str, ...]
    gated: bool  # a gated repo's metadata is public: access must be confirmed on a file (see confirm_access)
    repo_id: str | None = None  # the repo id as the Hub spells it (its casing)
    tags: tuple[str, ...] = ()  # the model card's tags (they decide the embedding question)
    pipeline_tag: str | None = None
    library_name: str | None = None


GGUF_HEADER_READ = 1 << 20  # a projector's metadata fits easily; its weights are never downloaded


class HubClient(Protocol):
    """What vision_cache asks of the Hub. Every method may raise huggingface_hub's errors or TimeoutError."""

    def repo_state(self, repo_id: str, revision: str, token: str | None, timeout: float) -> RepoState:
        """Resolve ``revision`` (a name or a sha) with one request."""

    def confirm_access(self, repo_id: str, state: RepoState, token: str | None, timeout: float) -> None:
        """For a gated repo: raise unless ``token`` may read its files."""

    def read_file(self, repo_id: str, filename: str, commit_sha: str, token: str | None, offline: bool,
                  timeout: float, cache_dir: str | None = None) -> bytes:
        """The bytes of ``filename`` at ``commit_sha`` (at most MAX_CONFIG_BYTES)."""

    def read_gguf_header(self, repo_id: str, filename: str, commit_sha: str, token: str | None,
                         timeout: float) -> bytes:
        """The first MiB of a GGUF file, with its tensor count zeroed (metadata only)."""

    def cached_commit(self, repo_id: str, revision: str) -> str | None:
        """The commit the local HF cache last saw ``revision`` at (no request)."""

    def cached_repo_id(self, repo_id: str) -> str | None:
        """The repo id as the local HF cache spells it (its folder's casing), if it holds the repo (no request)."""


class HfHubClient:
    """:class:`HubClient` over ``huggingface_hub`` (``HF_ENDPOINT``, ``HF_HOME``... as it reads them)."""

    def repo_state(self, repo_id: str, revision: str, token: str | None, timeout: float) -> RepoState:
        """Resolve ``revision`` (a name or a sha) with one request. Raises huggingface_hub errors."""
        from huggingface_hub import HfApi

        def call() -> RepoState:
            info = HfApi().model_info(repo_id, revision=revision, token=token or False, timeout=timeout)
            if not info.sha:
                raise ConnectionError("the Hub answered without a commit sha")
            return RepoState(info.sha, tuple(s.rfilename for s in info.siblings or ()), bool(info.gated),
                             _text(info.id), tuple(t for t in info.tags or () if isinstance(t, str)),
                             _text(info.pipeline_tag), _text(info.library_name))

        return bounded(call, timeout)

    def confirm_access(self, repo_id: str, state: RepoState, token: str | None, timeout: float) -> None:
        """For a gated repo, check with one HEAD that this token may read its files.

        The Hub serves a gated repo's metadata to anyone, and ``hf_hub_download`` returns a cached file
        even when the caller has no access (it swallows the 401), so neither proves access.

        Raises:
            GatedRepoError (or another huggingface_hub error): no access.
        """
        from huggingface_hub import get_hf_file_metadata, hf_hub_url

        probe = "config.json" if "config.json" in state.files or not state.files else state.files[0]
        url = hf_hub_url(repo_id, probe, revision=state.commit_sha)
        bounded(lambda: get_hf_file_metadata(url, token=token or False, timeout=timeout), timeout)

    def read_file(self, repo_id: str, filename: str, commit_sha: str, token: str | None, offline: bool,
                  timeout: float, cache_dir: str | None = None) -> bytes:
        """The bytes of ``filename`` at ``commit_sha``. Raises huggingface_hub errors (EntryNotFoundError...)."""
        from huggingface_hub import hf_hub_download

        from .detect.files import MAX_CONFIG_BYTES

        def call() -> bytes:
            path = hf_hub_download(repo_id, filename, revision=commit_sha, token=token or False,
                                   local_files_only=offline, etag_timeout=timeout, cache_dir=cache_dir)
            with open(path, "rb") as fh:
                return fh.read(MAX_CONFIG_BYTES + 1)

        data = bounded(call, timeout)
        if len(data) > MAX_CONFIG_BYTES:
            raise ValueError(f"{filename} is larger than {MAX_CONFIG_BYTES} bytes")
        return data

    def read_gguf_header(self, repo_id: str, filename: str, commit_sha: str, token: str | None,
                         timeout: float) -> bytes:
        """The first MiB of a remote GGUF file, as a file the ``gguf`` reader can parse for metadata.

        Only the metadata is wanted, so the tensor count in the header is set to 0: the reader then
        stops after the key-value section instead of looking for tensor data we did not download.
        """
        from huggingface_hub import HfFileSystem

        def call() -> bytes:
            fs = HfFileSystem(token=token or False)
            with fs.open(f"{repo_id}/{filename}", "rb", revision=commit_sha, block_size=GGUF_HEADER_READ) as fh:
                head: bytes = fh.read(GGUF_HEADER_READ)
                return head

        head = bytearray(bounded(call, timeout))
        if head[:4] == b"GGUF" and len(head) >= 24:
            head[8:16] = bytes(8)  # tensor_count (uint64, little-endian) := 0
        return bytes(head)

    def cached_commit(self, repo_id: str, revision: str) -> str | None:
        """The commit the local HF cache last saw ``revision`` at, without any request."""
        from huggingface_hub import HfApi
        from huggingface_hub.errors import RevisionResolutionError

        from .target import is_commit_sha

        try:
            sha = HfApi().resolve_revision(repo_id, revision=revision, local_files_only=True).resolved
        except (RevisionResolutionError, OSError, ValueError):
            return None
        return sha if is_commit_sha(sha) else None  # the refs/ file is plain text: trust only a sha

    def cached_repo_id(self, repo_id: str) -> str | None:
        """The spelling of ``repo_id`` whose ``models--org--name`` folder is in the HF cache (exact first,
        then any casing: folder names keep the casing of the first download), or None."""
        import os

        from huggingface_hub import constants

        wanted = "models--" + repo_id.replace("/", "--")
        try:
            if os.path.isdir(os.path.join(constants.HF_HUB_CACHE, wanted)):
                return repo_id
            folders = sorted(os.listdir(constants.HF_HUB_CACHE))
        except OSError:
            return None
        for folder in folders:
            if folder.lower() == wanted.lower():
                return folder[len("models--"):].replace("--", "/", 1)
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def bounded(call: Callable[[], T], timeout: float) -> T:
    """Run ``call`` in a daemon thread and give up after ``timeout`` seconds (raising TimeoutError).

    huggingface_hub retries failing requests with backoff for tens of seconds; this caps what a
    caller waits. A call given up on finishes (or fails) in the background and is discarded.
    """
    results: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()

    def run() -> None:
        try:
            results.put((True, call()))
        except BaseException as exc:  # handed to the caller below
            results.put((False, exc))

    threading.Thread(target=run, name="vision_cache-hub", daemon=True).start()
    try:
        ok, value = results.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"the Hub did not answer within {timeout:g} s") from None
    if ok:
        result: T = value
        return result
    raise value


class MemoryHub:
    """An in-memory :class:`HubClient`: repos, revisions and files held in dicts, no HTTP at all.

    For tests of cache logic (and for examples): it raises the same ``huggingface_hub`` errors the
    real client does, and counts every call in :attr:`calls`. The loopback HTTP stand-in in the test
    suite proves that :class:`HfHubClient` drives the real client correctly; this one proves the
    cache's logic without it.

        hub = MemoryHub()
        sha = hub.add_repo("acme/vlm", {"config.json": b'{"model_type": "llava"}'})
        VisionCache(directory=tmp, hub=hub).lookup("acme/vlm")
    """

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, str]] = {}  # repo id (lower-case) -> revision name -> sha
        self.files: dict[tuple[str, str], dict[str, bytes]] = {}  # (repo, sha) -> name -> bytes
        self.gated: dict[str, set[str]] = {}  # repo -> tokens allowed
        self.private: dict[str, set[str]] = {}  # repo -> tokens allowed (others: not found)
        self.cached_refs: dict[tuple[str, str], str] = {}  # (repo, revision) -> sha in the "HF cache"
        self.names: dict[str, str] = {}  # repo (lower-case) -> the id as added (the Hub's casing)
        self.cards: dict[str, tuple[tuple[str, ...], str | None]] = {}  # repo -> (tags, pipeline_tag)
        self.failure: BaseException | None = None  # raised by every networked call while set
        self.calls: list[tuple[str, str]] = []  # (method, repo id)
        self._lock = threading.Lock()

    def add_repo(self, repo_id: str, files: dict[str, bytes], revision: str = "main", *,
                 gated_for: set[str] | None = None, private_for: set[str] | None = None,
                 tags: tuple[str, ...] = (), pipeline_tag: str | None = None) -> str:
        import hashlib

        key = repo_id.lower()
        digest = hashlib.sha1(repr((repo_id, sorted(files.items()), len(self.files))).encode()).hexdigest()
        with self._lock:
            self.repos.setdefault(key, {})[revision] = digest
            self.names[key] = repo_id
            self.cards[key] = (tuple(tags), pipeline_tag)
            self.files[(key, digest)] = dict(files)
            if gated_for is not None:
                self.gated[key] = set(gated_for)
            if private_for is not None:
                self.private[key] = set(private_for)
        return digest

    def _error(self, kind: str, message: str) -> BaseException:
        import importlib

        from huggingface_hub import errors

        http = None  # the HTTP library huggingface_hub builds its errors on (httpx2 from huggingface_hub 2)
        for name in ("httpx2", "httpx"):
            try:
                http = importlib.import_module(name)
                break
            except ImportError:
                continue
        assert http is not None, "huggingface_hub depends on httpx2 or httpx"
        status = {"RepositoryNotFoundError": 404, "RevisionNotFoundError": 404, "EntryNotFoundError": 404,
                  "GatedRepoError": 403}[kind]
        response = http.Response(status, request=http.Request("GET", "http://hub.invalid/"))
        error: BaseException = getattr(errors, kind)(message, response=response)
        return error

    def _call(self, method: str, repo_id: str) -> str:
        with self._lock:
            self.calls.append((method, repo_id))
        if self.failure is not None:
            raise self.failure
        key = repo_id.lower()
        if key not in self.repos:
            raise self._error("RepositoryNotFoundError", f"{repo_id} not found")
        return key

    def _visible(self, key: str, token: str | None) -> None:
        if key in self.private and token not in self.private[key]:
            raise self._error("RepositoryNotFoundError", "not found")

    def repo_state(self, repo_id: str, revision: str, token: str | None, timeout: float) -> RepoState:
        key = self._call("repo_state", repo_id)
        self._visible(key, token)
        refs = self.repos[key]
        sha = refs.get(revision) or next((s for s in refs.values() if s == revision), None)
        if sha is None:
            raise self._error("RevisionNotFoundError", f"{revision} not found")
        tags, pipeline_tag = self.cards[key]
        return RepoState(sha, tuple(sorted(self.files[(key, sha)])), key in self.gated, self.names[key], tags,
                         pipeline_tag)

    def confirm_access(self, repo_id: str, state: RepoState, token: str | None, timeout: float) -> None:
        key = self._call("confirm_access", repo_id)
        if key in self.gated and token not in self.gated[key]:
            raise self._error("GatedRepoError", "gated")

    def read_file(self, repo_id: str, filename: str, commit_sha: str, token: str | None, offline: bool,
                  timeout: float, cache_dir: str | None = None) -> bytes:
        if offline:
            from huggingface_hub.errors import LocalEntryNotFoundError

            raise LocalEntryNotFoundError("offline, and MemoryHub keeps no local cache")
        key = self._call("read_file", repo_id)
        self._visible(key, token)
        try:
            return self.files[(key, commit_sha)][filename]
        except KeyError:
            raise self._error("EntryNotFoundError", f"{filename} not found") from None

    def read_gguf_header(self, repo_id: str, filename: str, commit_sha: str, token: str | None,
                         timeout: float) -> bytes:
        return self.read_file(repo_id, filename, commit_sha, token, False, timeout)[:GGUF_HEADER_READ]

    def cached_commit(self, repo_id: str, revision: str) -> str | None:
        return self.cached_refs.get((repo_id.lower(), revision))

    def cached_repo_id(self, repo_id: str) -> str | None:
        key = repo_id.lower()
        return self.names.get(key) if any(repo == key for repo, _ in self.cached_refs) else None

