"""Loopback stand-in for the Hugging Face Hub, for tests that use the real ``huggingface_hub`` client.

Pure standard library. Start it, point ``HF_ENDPOINT`` at ``hub.endpoint`` *before* ``huggingface_hub`` is
imported (the client reads the variable at import time), and drive it from the test:

    hub = FakeHub()
    hub.start()                                   # -> "http://127.0.0.1:PORT"
    sha = hub.add_repo("Org/Model", {"config.json": b"{}"})
    hub.set_fault("org/model", 503)               # every request for that repo answers 503
    hub.count("org/model", method="HEAD")         # requests received for that repo

What is emulated (checked against huggingface_hub 2.4.0, see tests/test_hubstub.py):

* ``GET  /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}`` (model_info / repo_info /
  resolve_revision), with ``blobs=1`` (files_metadata) and ``expand=...`` support.
* ``GET  /api/models/{repo}/tree/{rev}[/{path}]?recursive=..`` (list_repo_tree / list_repo_files), no pagination.
* ``POST /api/models/{repo}/paths-info/{rev}`` (get_paths_info), ``GET /api/models/{repo}/refs`` (list_repo_refs),
  ``GET /api/models/{repo}/commits/{rev}`` (list_repo_commits).
* ``HEAD|GET /{repo}/resolve/{rev}/{path}`` (hf_hub_download / get_hf_file_metadata / file_exists).
  Regular files: 200 with ``X-Repo-Commit``, quoted ``ETag`` (git blob oid) and ``Content-Length``; ``Range`` works.
  "LFS" files (weights extensions, see ``LFS_EXTENSIONS``): 302 to a "CDN" url on ``http://localhost:PORT/__cdn/..``
  with ``X-Linked-Etag`` (sha256) / ``X-Linked-Size``, like the real Hub. ``localhost`` is a different origin than
  ``127.0.0.1`` for the client, so it treats it as a CDN (does not forward the token, does not follow the HEAD
  redirect) exactly as it does in production.
* Repo ids are case-insensitive; responses use the canonical spelling given to ``add_repo``.
* Revisions: branch, tag, full 40-hex sha, ``refs/heads/x``, ``refs/tags/x``.
* Errors, with the ``X-Error-Code`` / ``X-Error-Message`` headers the client maps to its exception classes:
  missing (or hidden private) repo -> 401 ``RepoNotFound`` when anonymous, 404 ``RepoNotFound`` with a token (as
  the real Hub); gated repo file without access -> 401 ``GatedRepo`` anonymous / 403 ``GatedRepo`` with another
  token (metadata endpoints of a gated repo stay public, as on the real Hub); unknown revision -> 404
  ``RevisionNotFound``; unknown file/path -> 404 ``EntryNotFound`` (with ``X-Repo-Commit``). Any other url -> 404.
* Faults: ``set_fault(repo_or_None, status, delay)``.

The authorization header is recorded in ``requests`` (tests need it) but never printed or logged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

__all__ = ["FakeHub", "LFS_EXTENSIONS"]

# Files with these extensions are served like LFS files on the real Hub (302 to a CDN). Everything else is a
# regular git file served directly with a 200.
LFS_EXTENSIONS = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx", ".gguf", ".npz")

_SHA_RE = re.compile(r"^[0-9a-fA-F]{40}$")
# Sub-paths that can follow a repo id in /api/models/... urls (used to split one- vs two-segment repo ids).
_API_SUBPATHS = {
    "revision", "tree", "paths-info", "refs", "commits", "commit", "resolve", "discussions", "settings",
    "preupload", "treesize", "blob", "raw", "branch", "tag", "xet-read-token", "scan", "super-squash",
}


def _now_iso() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class _Blob:
    content: bytes
    oid: str  # git blob sha1 (of the pointer file for LFS files)
    sha256: str
    lfs: bool
    pointer_size: int

    @classmethod
    def make(cls, path: str, content: bytes) -> _Blob:
        if isinstance(content, str):
            content = content.encode("utf-8")
        content = bytes(content)
        sha256 = hashlib.sha256(content).hexdigest()
        lfs = path.lower().endswith(LFS_EXTENSIONS)
        stored = (
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(content)}\n".encode()
            if lfs
            else content
        )
        oid = hashlib.sha1(b"blob %d\0" % len(stored) + stored).hexdigest()
        return cls(content=content, oid=oid, sha256=sha256, lfs=lfs, pointer_size=len(stored))


@dataclass
class _Commit:
    sha: str
    files: dict[str, _Blob]
    date: str
    parent: str | None
    title: str


@dataclass
class _Repo:
    canonical: str
    created: str
    commits: dict[str, _Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    gated_tokens: frozenset[str] | None = None
    private_tokens: frozenset[str] | None = None
    info: dict = field(default_factory=dict)

    def resolve(self, rev: str) -> str | None:
        if rev in self.branches:
            return self.branches[rev]
        if rev in self.tags:
            return self.tags[rev]
        if _SHA_RE.match(rev) and rev.lower() in self.commits:
            return rev.lower()
        if rev.startswith("refs/heads/"):
            return self.branches.get(rev[len("refs/heads/"):])
        if rev.startswith("refs/tags/"):
            return self.tags.get(rev[len("refs/tags/"):])
        return None


class _Response:
    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _json(status: int, payload, headers: dict[str, str] | None = None) -> _Response:
    h = {"Content-Type": "application/json; charset=utf-8"}
    h.update(headers or {})
    return _Response(status, json.dumps(payload).encode("utf-8"), h)


def _error(status: int, code: str | None, message: str, headers: dict[str, str] | None = None) -> _Response:
    h = {"X-Error-Message": message}
    if code is not None:
        h["X-Error-Code"] = code
    h.update(headers or {})
    return _json(status, {"error": message}, h)


def _not_found() -> _Response:
    return _json(404, {"error": "Not Found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # noqa: D401 - silence client disconnects (timeouts)
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeHub/1.0"
    sys_version = ""

    def log_message(self, format, *args):  # never log (the request line is harmless, but keep output clean)
        pass

    def setup(self):
        super().setup()
        self.server.hub._register_conn(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.hub._unregister_conn(self.connection)

    def _dispatch(self):
        hub: FakeHub = self.server.hub
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            resp = hub._handle(self.command, self.path, self.headers, body)
        except Exception:  # pragma: no cover - a bug in the stub: make it loud but do not leak headers
            traceback.print_exc()
            resp = _json(500, {"error": "FakeHub internal error"})
        if resp is None:  # stub is shutting down
            self.close_connection = True
            return
        self.send_response(resp.status)
        content_length = resp.headers.pop("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", content_length)
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            self.wfile.write(resp.body)
            with hub._lock:
                hub.bytes_sent += len(resp.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch


class FakeHub:
    """In-process fake of the parts of huggingface.co that huggingface_hub's read paths use. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._repos: dict[str, _Repo] = {}
        self._faults: dict[str | None, tuple[int | None, float]] = {}
        self._records: list[tuple[str, str, str | None, str | None]] = []  # (method, path, auth, repo_key)
        self.requests: list[tuple[str, str, str | None]] = []
        self.bytes_sent = 0  # response body bytes served (what the clients downloaded)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._conns: set[socket.socket] = set()
        self._wake = threading.Event()
        self._req_counter = 0
        self.endpoint: str = ""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Serve in a daemon thread. Restarting after ``stop()`` reuses the same port (so HF_ENDPOINT stays valid)."""
        with self._lock:
            if self._server is not None:
                return self.endpoint
            self._wake = threading.Event()
            server = _Server(("127.0.0.1", self._port), _Handler)
            server.hub = self  # type: ignore[attr-defined]
            self._server = server
            self._port = server.server_address[1]
            self.endpoint = f"http://127.0.0.1:{self._port}"
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeHub", daemon=True
            )
            self._thread.start()
            return self.endpoint

    def stop(self) -> None:
        """Stop serving: close the listening socket and every open (keep-alive) connection, wake delayed requests."""
        with self._lock:
            server, self._server = self._server, None
            thread, self._thread = self._thread, None
            self._wake.set()
            conns = list(self._conns)
        if server is None:
            return
        server.shutdown()
        server.server_close()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if thread is not None:
            thread.join(timeout=5)

    def _register_conn(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)

    def _unregister_conn(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)

    def __enter__(self) -> FakeHub:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ state management
    def reset(self) -> None:
        """Forget all repos, faults and counters (the server keeps running on the same port)."""
        with self._lock:
            self._repos.clear()
            self._faults.clear()
            self._records.clear()
            self.requests.clear()
            self._wake.set()  # release requests sleeping on a delay fault
            self._wake = threading.Event()

    def reset_counts(self) -> None:
        with self._lock:
            self._records.clear()
            self.requests.clear()
            self.bytes_sent = 0

    def _get_repo(self, repo_id: str) -> _Repo:
        repo = self._repos.get(repo_id.lower())
        if repo is None:
            raise KeyError(f"FakeHub: no repo {repo_id!r}")
        return repo

    def _new_sha(self, repo_key: str) -> str:
        while True:
            sha = hashlib.sha1(repo_key.encode() + os.urandom(16) + str(time.time_ns()).encode()).hexdigest()
            if all(sha not in r.commits for r in self._repos.values()):
                return sha

    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes],
        *,
        gated_tokens: set[str] | None = None,
        private_tokens: set[str] | None = None,
        info: dict | None = None,
    ) -> str:
        """Create ``repo_id`` with one commit on ``main`` holding ``files``; returns the commit sha.

        ``info`` (extension): extra/overriding fields merged into the model_info JSON (e.g. ``pipeline_tag``,
        ``tags``, ``library_name``, ``config``, ``transformersInfo``).
        """
        key = repo_id.lower()
        with self._lock:
            if key in self._repos:
                raise ValueError(f"FakeHub: repo {repo_id!r} already exists")
            repo = _Repo(
                canonical=repo_id,
                created=_now_iso(),
                gated_tokens=frozenset(gated_tokens) if gated_tokens is not None else None,
                private_tokens=frozenset(private_tokens) if private_tokens is not None else None,
                info=dict(info or {}),
            )
            self._repos[key] = repo
            sha = self._new_sha(key)
            repo.commits[sha] = _Commit(
                sha=sha,
                files={p: _Blob.make(p, c) for p, c in files.items()},
                date=_now_iso(),
                parent=None,
                title="initial commit",
            )
            repo.branches["main"] = sha
            return sha

    def commit(self, repo_id: str, files: dict[str, bytes], *, branch: str = "main", replace: bool = False) -> str:
        """New commit on ``branch`` (created from main's head if missing); old commits stay readable by sha."""
        with self._lock:
            repo = self._get_repo(repo_id)
            parent = repo.branches.get(branch) or repo.branches.get("main")
            base = {} if (replace or parent is None) else dict(repo.commits[parent].files)
            base.update({p: _Blob.make(p, c) for p, c in files.items()})
            sha = self._new_sha(repo_id.lower())
            repo.commits[sha] = _Commit(sha=sha, files=base, date=_now_iso(), parent=parent,
                                        title=f"commit on {branch}")
            repo.branches[branch] = sha
            return sha

    def tag(self, repo_id: str, name: str, sha: str) -> None:
        """Point tag ``name`` at ``sha`` (a branch/tag name is accepted too and resolved first)."""
        with self._lock:
            repo = self._get_repo(repo_id)
            target = repo.resolve(sha)
            if target is None:
                raise KeyError(f"FakeHub: unknown revision {sha!r} in {repo_id!r}")
            repo.tags[name] = target

    def set_access(
        self, repo_id: str, *, gated_tokens: set[str] | None = None, private_tokens: set[str] | None = None
    ) -> None:
        """(extension) Change gating/privacy of an existing repo, e.g. to revoke access after a download."""
        with self._lock:
            repo = self._get_repo(repo_id)
            repo.gated_tokens = frozenset(gated_tokens) if gated_tokens is not None else None
            repo.private_tokens = frozenset(private_tokens) if private_tokens is not None else None

    def delete_repo(self, repo_id: str) -> None:
        """(extension) Remove a repo: it then answers RepoNotFound."""
        with self._lock:
            self._repos.pop(repo_id.lower(), None)

    def set_fault(self, repo_id: str | None, status: int | None = None, delay: float = 0.0) -> None:
        """Inject a fault for one repo (case-insensitive) or, with ``None``, for every request.

        ``status``: answer every matching request with that status (JSON body, no X-Error-Code).
        ``delay``: sleep that many seconds before answering (woken early by reset()/stop()/set_fault()).
        ``set_fault(repo, None, 0)`` clears. A repo-specific fault takes precedence over the global one.
        """
        key = repo_id.lower() if repo_id is not None else None
        with self._lock:
            if status is None and not delay:
                self._faults.pop(key, None)
            else:
                self._faults[key] = (status, float(delay))
            self._wake.set()
            self._wake = threading.Event()

    def count(self, repo_id: str | None = None, *, path_contains: str | None = None, method: str | None = None) -> int:
        """Number of requests received, optionally for one repo (case-insensitive), path substring and method."""
        key = repo_id.lower() if repo_id is not None else None
        with self._lock:
            return sum(
                1
                for (m, p, _a, r) in self._records
                if (key is None or r == key)
                and (path_contains is None or path_contains in p)
                and (method is None or m.upper() == method.upper())
            )

    # ------------------------------------------------------------------ request handling
    def _parse_repo_key(self, segs: list[str], subpaths: set[str] | None) -> tuple[str | None, list[str]]:
        """Split url segments into (lower-cased repo id, rest). Known repos win over the heuristic."""
        if not segs or not segs[0]:
            return None, []
        if len(segs) >= 2:
            two = f"{unquote(segs[0])}/{unquote(segs[1])}".lower()
            if two in self._repos:
                return two, segs[2:]
        one = unquote(segs[0]).lower()
        if one in self._repos:
            return one, segs[1:]
        if len(segs) >= 2 and (subpaths is None or segs[1] not in subpaths):
            return f"{unquote(segs[0])}/{unquote(segs[1])}".lower(), segs[2:]
        return one, segs[1:]

    def _route(self, path: str) -> tuple[str, str | None, list[str]]:
        """Return (kind, repo_key, rest_segments). kind in {api, resolve, cdn, other, other_repo}."""
        segs = path.split("/")[1:]
        if len(segs) >= 3 and segs[0] == "api" and segs[1] in ("models", "datasets", "spaces"):
            key, rest = self._parse_repo_key(segs[2:], _API_SUBPATHS)
            return ("api" if segs[1] == "models" else "other_repo"), key, rest
        if len(segs) >= 3 and segs[0] == "__cdn":
            key, rest = self._parse_repo_key(segs[1:], set())
            return "cdn", key, rest
        if segs and segs[0] in ("datasets", "spaces"):
            if "resolve" in segs[2:4]:
                i = segs.index("resolve", 2)
                return "other_repo", "/".join(unquote(s) for s in segs[1:i]).lower(), segs[i:]
            return "other", None, []
        if len(segs) >= 3 and segs[1] == "resolve" and not (len(segs) >= 4 and segs[2] == "resolve"):
            return "resolve", unquote(segs[0]).lower(), segs[2:]
        if len(segs) >= 4 and segs[2] == "resolve":
            return "resolve", f"{unquote(segs[0])}/{unquote(segs[1])}".lower(), segs[3:]
        return "other", None, []

    def _handle(self, method: str, raw_path: str, headers, body: bytes) -> _Response | None:
        auth = headers.get("Authorization")
        split = urlsplit(raw_path)
        path, query = split.path, parse_qs(split.query, keep_blank_values=True)
        with self._lock:
            kind, repo_key, rest = self._route(path)
            self._records.append((method, raw_path, auth, repo_key))
            self.requests.append((method, raw_path, auth))
            self._req_counter += 1
            req_id = f"Root=1-fakehub-{self._req_counter:08d}"
            fault = self._faults.get(repo_key) if repo_key in self._faults else self._faults.get(None)
            wake = self._wake
        if fault is not None:
            status, delay = fault
            if delay > 0:
                wake.wait(delay)
                if self._server is None:
                    return None
            if status is not None:
                resp = _json(status, {"error": f"FakeHub injected fault: HTTP {status}"})
                resp.headers["X-Request-Id"] = req_id
                return resp
        token = None
        if auth is not None:
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else auth.strip()
        with self._lock:
            resp = self._answer(method, kind, repo_key, rest, query, token, auth is not None, body, headers)
        resp.headers.setdefault("X-Request-Id", req_id)
        return resp

    # -- access control
    def _repo_not_found(self, authenticated: bool) -> _Response:
        # Real Hub: anonymous -> 401, authenticated -> 404; both with X-Error-Code RepoNotFound.
        return _error(401 if not authenticated else 404, "RepoNotFound", "Repository not found")

    def _visible(self, repo: _Repo | None, token: str | None) -> bool:
        if repo is None:
            return False
        if repo.private_tokens is not None and (token is None or token not in repo.private_tokens):
            return False
        return True

    def _gate(self, repo: _Repo, token: str | None, authenticated: bool) -> _Response | None:
        if repo.gated_tokens is None or (token is not None and token in repo.gated_tokens):
            return None
        if not authenticated:
            return _error(
                401,
                "GatedRepo",
                f"Access to model {repo.canonical} is restricted. You must have access to it and be authenticated"
                " to access it. Please log in.",
            )
        return _error(
            403,
            "GatedRepo",
            f"Access to model {repo.canonical} is restricted and you are not in the authorized list."
            f" Visit https://huggingface.co/{repo.canonical} to ask for access.",
        )

    def _answer(self, method, kind, repo_key, rest, query, token, authenticated, body, headers) -> _Response:
        if kind == "other":
            return _not_found()
        if kind == "other_repo":  # datasets / spaces are never hosted here
            return self._repo_not_found(authenticated)
        repo = self._repos.get(repo_key) if repo_key else None
        if kind == "cdn":
            return self._cdn(method, repo, rest, headers)
        if not self._visible(repo, token):
            return self._repo_not_found(authenticated)
        assert repo is not None
        rest = [unquote(s) for s in rest]
        if kind == "resolve":
            if method not in ("GET", "HEAD"):
                return _not_found()
            gate = self._gate(repo, token, authenticated)
            if gate is not None:
                return gate
            return self._resolve(method, repo, rest, headers)
        # kind == "api"
        if not rest or rest == [""]:
            return self._info(repo, "main", query) if method == "GET" else _not_found()
        head, args = rest[0], rest[1:]
        if head == "revision" and len(args) == 1 and method == "GET":
            return self._info(repo, args[0], query)
        if head == "tree" and args and method == "GET":
            return self._tree(repo, args[0], "/".join(args[1:]).strip("/"), query)
        if head == "paths-info" and len(args) == 1 and method == "POST":
            return self._paths_info(repo, args[0], body, headers)
        if head == "refs" and not args and method == "GET":
            return self._refs(repo, query)
        if head == "commits" and len(args) == 1 and method == "GET":
            return self._commits(repo, args[0])
        return _not_found()

    # -- endpoints
    def _commit_for(self, repo: _Repo, rev: str) -> _Commit | _Response:
        sha = repo.resolve(rev)
        if sha is None:
            return _error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        return repo.commits[sha]

    def _info(self, repo: _Repo, rev: str, query: dict) -> _Response:
        c = self._commit_for(repo, rev)
        if isinstance(c, _Response):
            return c
        blobs = query.get("blobs", ["false"])[0].lower() in ("1", "true")
        siblings = []
        for p in sorted(c.files):
            b = c.files[p]
            s: dict = {"rfilename": p}
            if blobs:
                s.update(size=len(b.content), blobId=b.oid)
                if b.lfs:
                    s["lfs"] = {"size": len(b.content), "sha256": b.sha256, "pointerSize": b.pointer_size}
            siblings.append(s)
        data: dict = {
            "_id": hashlib.sha1(repo.canonical.lower().encode()).hexdigest()[:24],
            "id": repo.canonical,
            "modelId": repo.canonical,
            "author": repo.canonical.split("/")[0] if "/" in repo.canonical else None,
            "sha": c.sha,
            "lastModified": c.date,
            "createdAt": repo.created,
            "private": repo.private_tokens is not None,
            "gated": "manual" if repo.gated_tokens is not None else False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(len(b.content) for b in c.files.values()),
        }
        if data["author"] is None:
            del data["author"]
        cfg = c.files.get("config.json")
        if cfg is not None:  # the real Hub exposes a small subset of config.json
            try:
                parsed = json.loads(cfg.content)
                keep = ("architectures", "model_type")
                sub = {k: parsed[k] for k in keep if isinstance(parsed, dict) and k in parsed}
                if sub:
                    data["config"] = sub
            except (ValueError, UnicodeDecodeError):
                pass
        data.update(repo.info)
        expand = query.get("expand", []) + query.get("expand[]", [])
        if expand:
            data = {k: v for k, v in data.items() if k in ("_id", "id") or k in expand}
        return _json(200, data)

    def _entries(self, commit: _Commit) -> dict[str, dict]:
        """All tree entries (files and directories) keyed by path."""
        out: dict[str, dict] = {}
        for p, b in commit.files.items():
            e: dict = {"type": "file", "oid": b.oid, "size": len(b.content), "path": p}
            if b.lfs:
                e["lfs"] = {"oid": b.sha256, "size": len(b.content), "pointerSize": b.pointer_size}
            out[p] = e
            parts = p.split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in out:
                    out[d] = {"type": "directory", "oid": "", "size": 0, "path": d}
        for d, e in out.items():
            if e["type"] == "directory":
                h = hashlib.sha1(d.encode())
                for p in sorted(commit.files):
                    if p.startswith(d + "/"):
                        h.update(p.encode() + commit.files[p].oid.encode())
                e["oid"] = h.hexdigest()
        return out

    def _tree(self, repo: _Repo, rev: str, sub: str, query: dict) -> _Response:
        c = self._commit_for(repo, rev)
        if isinstance(c, _Response):
            return c
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        entries = self._entries(c)
        if sub and (sub not in entries or entries[sub]["type"] != "directory"):
            return _error(404, "EntryNotFound", f"{sub} does not exist on \"{rev}\"", {"X-Repo-Commit": c.sha})
        prefix = sub + "/" if sub else ""
        result = []
        for p in sorted(entries):
            if not p.startswith(prefix):
                continue
            if not recursive and "/" in p[len(prefix):]:
                continue
            result.append(entries[p])
        return _json(200, result)

    def _paths_info(self, repo: _Repo, rev: str, body: bytes, headers) -> _Response:
        c = self._commit_for(repo, rev)
        if isinstance(c, _Response):
            return c
        ctype = headers.get("Content-Type", "")
        if "json" in ctype:
            try:
                paths = json.loads(body or b"{}").get("paths", [])
            except ValueError:
                paths = []
        else:
            paths = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).get("paths", [])
        if isinstance(paths, str):
            paths = [paths]
        entries = self._entries(c)
        return _json(200, [entries[p.strip("/")] for p in paths if p.strip("/") in entries])

    def _refs(self, repo: _Repo, query: dict) -> _Response:
        data = {
            "branches": [{"name": n, "ref": f"refs/heads/{n}", "targetCommit": s} for n, s in repo.branches.items()],
            "converts": [],
            "tags": [{"name": n, "ref": f"refs/tags/{n}", "targetCommit": s} for n, s in repo.tags.items()],
        }
        if query.get("include_prs"):
            data["pullRequests"] = []
        return _json(200, data)

    def _commits(self, repo: _Repo, rev: str) -> _Response:
        c = self._commit_for(repo, rev)
        if isinstance(c, _Response):
            return c
        out = []
        cur: _Commit | None = c
        while cur is not None:
            out.append(
                {"id": cur.sha, "title": cur.title, "message": "", "authors": [{"user": "fakehub"}], "date": cur.date}
            )
            cur = repo.commits.get(cur.parent) if cur.parent else None
        return _json(200, out)

    def _file_response(self, method: str, blob: _Blob, headers, extra: dict[str, str]) -> _Response:
        data = blob.content
        h = {
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream" if blob.lfs else "text/plain; charset=utf-8",
            **extra,
        }
        rng = headers.get("Range")
        m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", rng or "")
        if m and (m.group(1) or m.group(2)):
            size = len(data)
            if m.group(1):
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else size - 1
            else:
                start, end = max(size - int(m.group(2)), 0), size - 1
            end = min(end, size - 1)
            if start >= size or start > end:
                return _Response(416, b"", {"Content-Range": f"bytes */{size}"})
            h["Content-Range"] = f"bytes {start}-{end}/{size}"
            part = data[start : end + 1]
            h["Content-Length"] = str(len(part))
            return _Response(206, b"" if method == "HEAD" else part, h)
        h["Content-Length"] = str(len(data))
        return _Response(200, b"" if method == "HEAD" else data, h)

    def _resolve(self, method: str, repo: _Repo, rest: list[str], headers) -> _Response:
        if len(rest) < 2 or not "/".join(rest[1:]):
            return _not_found()
        rev, filename = rest[0], "/".join(rest[1:])
        c = self._commit_for(repo, rev)
        if isinstance(c, _Response):
            return c
        blob = c.files.get(filename)
        if blob is None:
            return _error(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": c.sha})
        common = {"X-Repo-Commit": c.sha, "ETag": f'"{blob.oid}"'}
        if blob.lfs:
            cdn = f"http://localhost:{self._port}/__cdn/{quote(repo.canonical)}/{blob.sha256}"
            return _Response(
                302,
                f"Found. Redirecting to {cdn}".encode(),
                {
                    **common,
                    "Location": cdn,
                    "X-Linked-Etag": f'"{blob.sha256}"',
                    "X-Linked-Size": str(len(blob.content)),
                    "Content-Type": "text/plain; charset=utf-8",
                },
            )
        return self._file_response(
            method,
            blob,
            headers,
            {**common, "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename.split('/')[-1])}"},
        )

    def _cdn(self, method: str, repo: _Repo | None, rest: list[str], headers) -> _Response:
        if method not in ("GET", "HEAD") or repo is None or len(rest) != 1:
            return _json(403, {"error": "AccessDenied"})
        for commit in repo.commits.values():
            for b in commit.files.values():
                if b.lfs and b.sha256 == rest[0]:
                    return self._file_response(method, b, headers, {"ETag": f'"{b.sha256}"'})
        return _json(403, {"error": "AccessDenied"})
