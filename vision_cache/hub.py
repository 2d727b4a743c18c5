"""The few Hugging Face Hub calls a miss needs, each bounded in time. Imported on a miss only.

- :func:`repo_state`: one ``model_info`` request resolves a revision to its commit sha, confirms
  that this token may see the repo, and lists its files (for GGUF repos).
- :func:`read_file`: ``hf_hub_download`` by commit sha; a file already in the HF cache is read
  with no request at all.
- :func:`cached_commit`: the HF cache's ``refs/<revision>`` (for stale-if-offline).

The token is always passed explicitly (``False`` for anonymous), so the client never picks a
different token than the one our auth scope was computed from.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class RepoState:
    commit_sha: str
    files: tuple[str, ...]
    gated: bool  # a gated repo's metadata is public: access must be confirmed on a file (see confirm_access)


def repo_state(repo_id: str, revision: str, token: str | None, timeout: float) -> RepoState:
    """Resolve ``revision`` (a name or a sha) with one request. Raises huggingface_hub errors."""
    from huggingface_hub import HfApi

    def call() -> RepoState:
        info = HfApi().model_info(repo_id, revision=revision, token=token or False, timeout=timeout)
        if not info.sha:
            raise ConnectionError("the Hub answered without a commit sha")
        return RepoState(info.sha, tuple(s.rfilename for s in info.siblings or ()), bool(info.gated))

    return bounded(call, timeout)


def confirm_access(repo_id: str, state: RepoState, token: str | None, timeout: float) -> None:
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


def read_file(repo_id: str, filename: str, commit_sha: str, token: str | None, offline: bool,
              timeout: float, cache_dir: str | None = None) -> bytes:
    """The bytes of ``filename`` at ``commit_sha``. Raises huggingface_hub errors (EntryNotFoundError...)."""
    from huggingface_hub import hf_hub_download

    from .detect.local import MAX_CONFIG_BYTES

    def call() -> bytes:
        path = hf_hub_download(repo_id, filename, revision=commit_sha, token=token or False,
                               local_files_only=offline, etag_timeout=timeout, cache_dir=cache_dir)
        with open(path, "rb") as fh:
            return fh.read(MAX_CONFIG_BYTES + 1)

    data = bounded(call, timeout)
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(f"{filename} is larger than {MAX_CONFIG_BYTES} bytes")
    return data


GGUF_HEADER_READ = 1 << 20  # a projector's metadata fits easily; its weights are never downloaded


def read_gguf_header(repo_id: str, filename: str, commit_sha: str, token: str | None, timeout: float) -> bytes:
    """The first MiB of a remote GGUF file, as a file the ``gguf`` reader can parse for metadata.

    Only the metadata is wanted, so the tensor count in the header is set to 0: the reader then
    stops after the key-value section instead of looking for tensor data we did not download.
    """
    from huggingface_hub import HfFileSystem

    def call() -> bytes:
        fs = HfFileSystem(token=token or False)
        with fs.open(f"{repo_id}/{filename}", "rb", revision=commit_sha, block_size=GGUF_HEADER_READ) as fh:
            return fh.read(GGUF_HEADER_READ)

    head = bytearray(bounded(call, timeout))
    if head[:4] == b"GGUF" and len(head) >= 24:
        head[8:16] = bytes(8)  # tensor_count (uint64, little-endian) := 0
    return bytes(head)


def cached_commit(repo_id: str, revision: str) -> str | None:
    """The commit the local HF cache last saw ``revision`` at, without any request."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RevisionResolutionError

    from .keys import is_commit_sha

    try:
        sha = HfApi().resolve_revision(repo_id, revision=revision, local_files_only=True).resolved
    except (RevisionResolutionError, OSError, ValueError):
        return None
    return sha if is_commit_sha(sha) else None  # the refs/ file is plain text: trust only a sha


def bounded(call: Callable[[], T], timeout: float) -> T:
    """Run ``call`` in a daemon thread and give up after ``timeout`` seconds (raising TimeoutError).

    huggingface_hub retries failing requests with backoff for tens of seconds; this caps what a
    caller waits. A call given up on finishes (or fails) in the background and is discarded.
    """
    results: queue.SimpleQueue = queue.SimpleQueue()

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
        return value
    raise value
