"""Tests of tests/hubstub.py (FakeHub) driven by the REAL huggingface_hub client (2.4.0).

Runs standalone (``pytest tests/test_hubstub.py``): if HF_ENDPOINT does not already point at a loopback FakeHub
(normally started by tests/conftest.py), a module-level FakeHub is started and the HF_* variables are set here,
before huggingface_hub is imported (it reads them at import time).

Client behaviours pinned down here (huggingface_hub 2.4.0), useful for callers:

* hf_hub_download(repo, f) with a branch/tag: HEAD /{repo}/resolve/{rev}/{f} (timeout = HF_HUB_ETAG_TIMEOUT,
  no retry) then GET of the same url (timeout = HF_HUB_DOWNLOAD_TIMEOUT) -> 2 requests. With revision=<40-hex sha>
  already in the cache: 0 requests. With a branch already cached: 1 HEAD.
* HfApi().resolve_revision(repo): one GET /api/models/{repo} (no /revision/ part when revision is None), no
  timeout (the shared httpx client has timeout=None), no retry; a 40-hex sha is returned without any request.
* model_info/repo_info: one GET, no retry at all, no timeout unless `timeout=` is passed.
* 503 on model_info -> HfHubHTTPError(503) immediately, 1 request.
* 503 on hf_hub_download with nothing cached -> 1 HEAD (no retry) + a second metadata round with retries
  (http_backoff: max_retries=5, sleeps 1,2,4,8,8 s, timeout 60 s per attempt) = 7 HEADs, ~23 s of sleeping
  (measured: 23.1 s, 7 requests), then LocalEntryNotFoundError whose __cause__ is HfHubHTTPError(503).
  With the file cached for that revision: 1 HEAD, returns the cached file, no error.
* list_repo_tree / list_repo_files use http_backoff: a 503 is retried 5 times (6 GETs, ~23 s) before
  HfHubHTTPError(503). Measured: 23.1 s, 6 requests.
* Connection refused on hf_hub_download with nothing cached: same retry round as 503 (6 more attempts,
  ~23 s) then LocalEntryNotFoundError. Measured: 23.3 s. With a cached file: returns it at once.
* None of these backoff parameters are settable by env var; only the per-attempt timeouts are
  (HF_HUB_ETAG_TIMEOUT / HF_HUB_DOWNLOAD_TIMEOUT, integers). The retry round of hf_hub_download uses a hard-coded
  60 s timeout, so an unresponsive Hub with nothing cached blocks hf_hub_download for minutes (measured with a
  hanging Hub: 385 s, 7 HEADs = 2 s + 6 x 60 s + 23 s of sleeps, then LocalEntryNotFoundError from ReadTimeout).
* Cached files keep being served when the Hub later denies access (401/403/RepoNotFound/Gated on the HEAD):
  hf_hub_download silently returns the cached copy. RevisionNotFound/EntryNotFound are raised, not masked.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import types

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from hubstub import FakeHub  # noqa: E402

_MODULE_HUB: FakeHub | None = None
if not os.environ.get("HF_ENDPOINT", "").startswith("http://127.0.0.1"):
    if "huggingface_hub" in sys.modules:
        pytest.skip(
            "huggingface_hub was imported before HF_ENDPOINT pointed at a FakeHub; run this file alone or via "
            "tests/conftest.py",
            allow_module_level=True,
        )
    _MODULE_HUB = FakeHub()
    _MODULE_HUB.start()
    os.environ["HF_ENDPOINT"] = _MODULE_HUB.endpoint
    os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="hubstub-hf-home-")
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HUB_ETAG_TIMEOUT"] = "2"
    os.environ["HF_HUB_DOWNLOAD_TIMEOUT"] = "2"
    os.environ.pop("HF_TOKEN", None)

import httpx2  # noqa: E402
import huggingface_hub  # noqa: E402
from huggingface_hub import HfApi, constants, hf_hub_download, try_to_load_from_cache  # noqa: E402
from huggingface_hub.errors import (  # noqa: E402
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.file_download import _CACHED_NO_EXIST, get_hf_file_metadata, hf_hub_url  # noqa: E402
from huggingface_hub.hf_api import RepoFile, RepoFolder  # noqa: E402
from huggingface_hub.utils import _http as hf_http  # noqa: E402

CONFIG = b'{"architectures": ["LlavaForConditionalGeneration"], "model_type": "llava", "vision_config": {}}'


@pytest.fixture
def stub_hub(request):
    """The conftest `hub` fixture when there is one, else this module's FakeHub; reset before and after."""
    try:
        hub = request.getfixturevalue("hub")
    except pytest.FixtureLookupError:
        if _MODULE_HUB is None:
            pytest.skip("HF_ENDPOINT points at a loopback hub but no `hub` fixture is available")
        hub = _MODULE_HUB
    hub.reset()
    assert constants.ENDPOINT == hub.endpoint, "huggingface_hub must be imported after HF_ENDPOINT is set"
    yield hub
    hub.reset()


@pytest.fixture
def fake_sleep(monkeypatch):
    """Record huggingface_hub's retry sleeps instead of sleeping (keeps 503 / retry tests fast)."""
    sleeps: list[float] = []
    fake_time = types.SimpleNamespace(sleep=sleeps.append, time=time.time, monotonic=time.monotonic)
    monkeypatch.setattr(hf_http, "time", fake_time)
    return sleeps


def _api() -> HfApi:
    return HfApi(token=False)


# ---------------------------------------------------------------------------------------------- downloads
def test_download_then_download_by_sha_makes_zero_requests(stub_hub, tmp_path):
    sha = stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG, "README.md": b"hi"})
    path = hf_hub_download("Org/Vlm", "config.json", cache_dir=tmp_path, token=False)
    assert open(path, "rb").read() == CONFIG
    assert f"snapshots{os.sep}{sha}{os.sep}" in path
    assert [(m, p) for m, p, _ in stub_hub.requests] == [
        ("HEAD", "/Org/Vlm/resolve/main/config.json"),
        ("GET", "/Org/Vlm/resolve/main/config.json"),
    ]
    assert stub_hub.requests[0][2] is None  # anonymous
    assert (tmp_path / "models--Org--Vlm" / "refs" / "main").read_text() == sha

    before = stub_hub.count()
    assert hf_hub_download("Org/Vlm", "config.json", revision=sha, cache_dir=tmp_path, token=False) == path
    assert stub_hub.count() == before  # zero requests: served from the cache by sha

    # By branch again: one HEAD to learn where main points, no GET.
    assert hf_hub_download("Org/Vlm", "config.json", cache_dir=tmp_path, token=False) == path
    assert stub_hub.count() == before + 1
    assert stub_hub.count("org/vlm", method="HEAD") == 2
    assert stub_hub.count("ORG/VLM", method="GET", path_contains="/resolve/") == 1


def test_file_metadata_headers(stub_hub):
    sha = stub_hub.add_repo("Org/Vlm", {"sub/dir/config.json": CONFIG})
    meta = get_hf_file_metadata(hf_hub_url("Org/Vlm", "sub/dir/config.json"), token=False)
    assert meta.commit_hash == sha
    assert meta.size == len(CONFIG)
    assert meta.etag and len(meta.etag) == 40 and '"' not in meta.etag


def test_lfs_file_redirects_to_cdn_without_token(stub_hub, tmp_path):
    weights = os.urandom(1000)
    stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG, "model.safetensors": weights}, gated_tokens={"tok"})
    path = hf_hub_download("Org/Vlm", "model.safetensors", cache_dir=tmp_path, token="tok")
    assert open(path, "rb").read() == weights
    methods = [(m, p.split("/")[1], a) for m, p, a in stub_hub.requests]
    assert methods == [("HEAD", "Org", "Bearer tok"), ("GET", "__cdn", None)]  # token not sent to the "CDN"
    assert stub_hub.count("org/vlm") == 2


# ---------------------------------------------------------------------------------------------- revisions
def test_resolve_revision_follows_commits_and_tags(stub_hub, tmp_path):
    api = _api()
    sha1 = stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG})
    assert api.resolve_revision("Org/Vlm", cache_dir=tmp_path).resolved == sha1
    assert stub_hub.requests[-1][:2] == ("GET", "/api/models/Org/Vlm")  # revision None -> no /revision/ part

    sha2 = stub_hub.commit("Org/Vlm", {"config.json": b'{"model_type": "bert"}'})
    assert sha2 != sha1
    assert api.resolve_revision("Org/Vlm", cache_dir=tmp_path).resolved == sha2
    assert api.resolve_revision("Org/Vlm", revision="main", cache_dir=tmp_path).resolved == sha2
    assert stub_hub.requests[-1][:2] == ("GET", "/api/models/Org/Vlm/revision/main")
    assert (tmp_path / "models--Org--Vlm" / "refs" / "main").read_text() == sha2

    n = stub_hub.count()
    assert api.resolve_revision("Org/Vlm", revision=sha1, cache_dir=tmp_path).resolved == sha1
    assert stub_hub.count() == n  # a full sha is returned without asking the Hub

    # Old commit still readable by sha, new content on main.
    old = hf_hub_download("Org/Vlm", "config.json", revision=sha1, cache_dir=tmp_path, token=False)
    new = hf_hub_download("Org/Vlm", "config.json", cache_dir=tmp_path, token=False)
    assert open(old, "rb").read() == CONFIG and b"bert" in open(new, "rb").read()

    stub_hub.tag("Org/Vlm", "v1", sha1)
    assert api.resolve_revision("Org/Vlm", revision="v1", cache_dir=tmp_path).resolved == sha1
    assert api.model_info("Org/Vlm", revision=sha1).sha == sha1

    sha3 = stub_hub.commit("Org/Vlm", {"extra.txt": b"x"}, branch="dev")
    assert api.resolve_revision("Org/Vlm", revision="dev", cache_dir=tmp_path).resolved == sha3
    assert sorted(api.list_repo_files("Org/Vlm", revision="dev")) == ["config.json", "extra.txt"]
    sha4 = stub_hub.commit("Org/Vlm", {"only.txt": b"y"}, replace=True)
    assert api.list_repo_files("Org/Vlm") == ["only.txt"]
    refs = api.list_repo_refs("Org/Vlm")
    assert {b.name: b.target_commit for b in refs.branches} == {"main": sha4, "dev": sha3}
    assert {t.name: t.target_commit for t in refs.tags} == {"v1": sha1}
    assert [c.commit_id for c in api.list_repo_commits("Org/Vlm")] == [sha4, sha2, sha1]


def test_revision_not_found(stub_hub, tmp_path):
    stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG})
    with pytest.raises(RevisionNotFoundError) as e:
        _api().model_info("Org/Vlm", revision="nope")
    assert e.value.response.status_code == 404
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download("Org/Vlm", "config.json", revision="nope", cache_dir=tmp_path, token=False)
    with pytest.raises(RevisionNotFoundError):
        _api().list_repo_files("Org/Vlm", revision="0" * 40)
    with pytest.raises(RevisionNotFoundError):
        _api().resolve_revision("Org/Vlm", revision="nope", cache_dir=tmp_path)


def test_entry_not_found_is_cached_as_no_exist(stub_hub, tmp_path):
    sha = stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG})
    with pytest.raises(RemoteEntryNotFoundError) as e:
        hf_hub_download("Org/Vlm", "preprocessor_config.json", cache_dir=tmp_path, token=False)
    assert isinstance(e.value, EntryNotFoundError) and e.value.response.status_code == 404
    assert try_to_load_from_cache("Org/Vlm", "preprocessor_config.json", cache_dir=tmp_path) is _CACHED_NO_EXIST
    assert try_to_load_from_cache("Org/Vlm", "preprocessor_config.json", cache_dir=tmp_path, revision=sha) is (
        _CACHED_NO_EXIST
    )
    assert _api().file_exists("Org/Vlm", "preprocessor_config.json") is False
    assert _api().file_exists("Org/Vlm", "config.json") is True


# ---------------------------------------------------------------------------------------------- metadata
def test_model_info_fields_and_siblings(stub_hub):
    sha = stub_hub.add_repo(
        "Org/Vlm",
        {"config.json": CONFIG, "model.safetensors": b"w" * 10, "processor/preprocessor_config.json": b"{}"},
        info={"pipeline_tag": "image-text-to-text", "tags": ["vision"]},
    )
    info = _api().model_info("Org/Vlm")
    assert info.id == "Org/Vlm" and info.sha == sha and info.author == "Org"
    assert sorted(s.rfilename for s in info.siblings) == [
        "config.json",
        "model.safetensors",
        "processor/preprocessor_config.json",
    ]
    assert info.private is False and info.gated is False
    assert info.last_modified is not None and info.created_at is not None
    assert info.config == {"architectures": ["LlavaForConditionalGeneration"], "model_type": "llava"}
    assert info.pipeline_tag == "image-text-to-text" and info.tags == ["vision"]

    full = _api().model_info("Org/Vlm", files_metadata=True)
    by_name = {s.rfilename: s for s in full.siblings}
    assert by_name["config.json"].size == len(CONFIG) and by_name["config.json"].lfs is None
    assert by_name["model.safetensors"].lfs.size == 10

    only = _api().model_info("Org/Vlm", expand=["pipeline_tag", "sha"])
    assert only.pipeline_tag == "image-text-to-text" and only.sha == sha and only.siblings is None


def test_list_repo_files_tree_and_paths_info(stub_hub):
    stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG, "a/b/c.txt": b"c", "a/d.txt": b"dd", "w.bin": b"1"})
    api = _api()
    assert sorted(api.list_repo_files("Org/Vlm")) == ["a/b/c.txt", "a/d.txt", "config.json", "w.bin"]
    assert "recursive=true" in stub_hub.requests[-1][1]

    top = {e.path: type(e) for e in api.list_repo_tree("Org/Vlm")}
    assert top == {"a": RepoFolder, "config.json": RepoFile, "w.bin": RepoFile}
    sub = {e.path: type(e) for e in api.list_repo_tree("Org/Vlm", path_in_repo="a")}
    assert sub == {"a/b": RepoFolder, "a/d.txt": RepoFile}
    deep = [e.path for e in api.list_repo_tree("Org/Vlm", path_in_repo="a", recursive=True)]
    assert sorted(deep) == ["a/b", "a/b/c.txt", "a/d.txt"]
    files = {e.path: e for e in api.list_repo_tree("Org/Vlm") if isinstance(e, RepoFile)}
    assert files["config.json"].size == len(CONFIG) and files["w.bin"].lfs is not None
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree("Org/Vlm", path_in_repo="nope"))

    infos = api.get_paths_info("Org/Vlm", ["config.json", "a", "missing.json"])
    assert {(i.path, type(i)) for i in infos} == {("config.json", RepoFile), ("a", RepoFolder)}


def test_repo_ids_are_case_insensitive(stub_hub, tmp_path):
    sha = stub_hub.add_repo("MyOrg/Vision-Model", {"config.json": CONFIG})
    api = _api()
    assert api.model_info("myorg/vision-model").id == "MyOrg/Vision-Model"
    assert api.resolve_revision("MYORG/VISION-MODEL", cache_dir=tmp_path).resolved == sha
    assert api.list_repo_files("myOrg/vision-MODEL") == ["config.json"]
    path = hf_hub_download("myorg/vision-model", "config.json", cache_dir=tmp_path, token=False)
    assert open(path, "rb").read() == CONFIG
    assert "models--myorg--vision-model" in path  # NB: the client's cache key uses the caller's spelling
    assert stub_hub.count("MyOrg/Vision-Model") == stub_hub.count("myorg/VISION-model") == 5
    with pytest.raises(ValueError):
        stub_hub.add_repo("myorg/VISION-MODEL", {})


# ---------------------------------------------------------------------------------------------- access control
def test_missing_repo_raises_repository_not_found(stub_hub, tmp_path):
    api = _api()
    with pytest.raises(RepositoryNotFoundError) as e:
        api.model_info("Org/Missing")
    assert e.value.response.status_code == 401
    assert e.value.response.headers["X-Error-Code"] == "RepoNotFound"
    with pytest.raises(RepositoryNotFoundError) as e:
        HfApi().model_info("Org/Missing", token="hf_anything")
    assert e.value.response.status_code == 404  # authenticated: the real Hub answers 404
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("Org/Missing", "config.json", cache_dir=tmp_path, token=False)
    with pytest.raises(RepositoryNotFoundError):
        api.list_repo_files("Org/Missing")
    with pytest.raises(RepositoryNotFoundError):
        api.resolve_revision("Org/Missing", cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("single-segment-missing")
    assert not api.repo_exists("Org/Missing")


def test_gated_repo(stub_hub, tmp_path):
    stub_hub.add_repo("Org/Gated", {"config.json": CONFIG}, gated_tokens={"hf_good"})
    with pytest.raises(GatedRepoError) as e:
        hf_hub_download("Org/Gated", "config.json", cache_dir=tmp_path, token=False)
    assert e.value.response.status_code == 401
    with pytest.raises(GatedRepoError) as e:
        hf_hub_download("Org/Gated", "config.json", cache_dir=tmp_path, token="hf_bad")
    assert e.value.response.status_code == 403
    path = hf_hub_download("Org/Gated", "config.json", cache_dir=tmp_path, token="hf_good")
    assert open(path, "rb").read() == CONFIG
    assert stub_hub.requests[-1][2] == "Bearer hf_good"
    # As on the real Hub, the metadata of a gated repo is public; only file contents are gated.
    info = _api().model_info("Org/Gated")
    assert info.gated == "manual" and [s.rfilename for s in info.siblings] == ["config.json"]
    assert _api().repo_exists("Org/Gated")
    with pytest.raises(GatedRepoError):
        _api().file_exists("Org/Gated", "config.json")


def test_private_repo(stub_hub, tmp_path):
    stub_hub.add_repo("Org/Private", {"config.json": CONFIG}, private_tokens={"hf_owner"})
    for token in (False, "hf_other"):
        with pytest.raises(RepositoryNotFoundError) as e:
            HfApi().model_info("Org/Private", token=token)
        assert not isinstance(e.value, GatedRepoError)
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download("Org/Private", "config.json", cache_dir=tmp_path, token=token)
    assert HfApi().model_info("Org/Private", token="hf_owner").private is True
    assert hf_hub_download("Org/Private", "config.json", cache_dir=tmp_path, token="hf_owner")


def test_cached_file_still_served_when_access_is_revoked(stub_hub, tmp_path):
    stub_hub.add_repo("Org/Gated", {"config.json": CONFIG, "other.json": b"{}"}, gated_tokens={"hf_good"})
    path = hf_hub_download("Org/Gated", "config.json", cache_dir=tmp_path, token="hf_good")
    stub_hub.set_access("Org/Gated", gated_tokens={"someone_else"})
    stub_hub.reset_counts()
    # HEAD answers 403 GatedRepo, the client swallows it and returns the cached copy.
    assert hf_hub_download("Org/Gated", "config.json", cache_dir=tmp_path, token="hf_good") == path
    assert stub_hub.count() == 1
    with pytest.raises(GatedRepoError):  # not cached -> the error surfaces
        hf_hub_download("Org/Gated", "other.json", cache_dir=tmp_path, token="hf_good")
    stub_hub.delete_repo("Org/Gated")  # even a deleted repo keeps serving the cached file
    assert hf_hub_download("Org/Gated", "config.json", cache_dir=tmp_path, token="hf_good") == path


# ---------------------------------------------------------------------------------------------- faults
def test_503_on_api_raises_http_error_without_retry(stub_hub):
    stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG})
    stub_hub.add_repo("Org/Other", {"config.json": CONFIG})
    stub_hub.set_fault("org/vlm", 503)
    t0 = time.monotonic()
    with pytest.raises(HfHubHTTPError) as e:
        _api().model_info("Org/Vlm")
    assert e.value.response.status_code == 503
    assert not isinstance(e.value, RepositoryNotFoundError)
    assert stub_hub.count("Org/Vlm") == 1 and time.monotonic() - t0 < 2  # model_info never retries
    assert _api().model_info("Org/Other").id == "Org/Other"  # fault is per repo
    stub_hub.set_fault("Org/Vlm", None, 0)
    assert _api().model_info("Org/Vlm").id == "Org/Vlm"
    stub_hub.set_fault(None, 500)  # every repo
    with pytest.raises(HfHubHTTPError) as e:
        _api().model_info("Org/Other")
    assert e.value.response.status_code == 500


def test_503_retry_schedule_of_downloads_and_tree(stub_hub, tmp_path, fake_sleep):
    # Real-time measurements (sleeps not patched) are in the module docstring: ~23 s each.
    stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG})
    cached = hf_hub_download("Org/Vlm", "config.json", cache_dir=tmp_path / "a", token=False)
    stub_hub.set_fault("Org/Vlm", 503)
    stub_hub.reset_counts()

    # Cached: one HEAD (no retry), falls back to the cached copy.
    assert hf_hub_download("Org/Vlm", "config.json", cache_dir=tmp_path / "a", token=False) == cached
    assert stub_hub.count() == 1 and fake_sleep == []

    # Not cached: 1 HEAD + retry round of 6 HEADs (max_retries=5) with sleeps 1,2,4,8,8 s.
    stub_hub.reset_counts()
    with pytest.raises(LocalEntryNotFoundError) as e:
        hf_hub_download("Org/Vlm", "config.json", cache_dir=tmp_path / "b", token=False)
    assert isinstance(e.value.__cause__, HfHubHTTPError) and e.value.__cause__.response.status_code == 503
    assert stub_hub.count(method="HEAD") == 7 and stub_hub.count() == 7
    assert fake_sleep == [1, 2, 4, 8, 8]

    # Tree listing goes through http_backoff too: 6 GETs, same sleeps, then HfHubHTTPError(503).
    fake_sleep.clear()
    stub_hub.reset_counts()
    with pytest.raises(HfHubHTTPError) as e:
        _api().list_repo_files("Org/Vlm")
    assert e.value.response.status_code == 503
    assert stub_hub.count() == 6 and fake_sleep == [1, 2, 4, 8, 8]


def test_delay_fault_times_out(stub_hub, tmp_path):
    stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG})
    cached = hf_hub_download("Org/Vlm", "config.json", cache_dir=tmp_path, token=False)
    stub_hub.set_fault("Org/Vlm", delay=30)
    t0 = time.monotonic()
    with pytest.raises(httpx2.TimeoutException):  # raw httpx2 exception, not wrapped
        _api().model_info("Org/Vlm", timeout=0.3)
    with pytest.raises(httpx2.TimeoutException):
        get_hf_file_metadata(hf_hub_url("Org/Vlm", "config.json"), token=False, timeout=0.3)
    assert time.monotonic() - t0 < 3
    # A cached file is returned once the HEAD times out (etag timeout = HF_HUB_ETAG_TIMEOUT, 2 s here).
    t0 = time.monotonic()
    assert hf_hub_download("Org/Vlm", "config.json", cache_dir=tmp_path, token=False, etag_timeout=1) == cached
    assert time.monotonic() - t0 < 4
    # Clearing the fault wakes the sleeping handlers; the hub answers normally again.
    stub_hub.set_fault("Org/Vlm", None, 0)
    assert _api().model_info("Org/Vlm", timeout=2).id == "Org/Vlm"


def test_connection_refused_and_restart_on_same_port(tmp_path):
    # A private FakeHub reached through the endpoint= argument (the shared one must stay up).
    hub = FakeHub()
    endpoint = hub.start()
    try:
        sha = hub.add_repo("Org/Vlm", {"config.json": CONFIG})
        api = HfApi(endpoint=endpoint, token=False)
        path = hf_hub_download("Org/Vlm", "config.json", cache_dir=tmp_path, endpoint=endpoint, token=False)
        assert api.resolve_revision("Org/Vlm", cache_dir=tmp_path).resolved == sha
        hub.stop()
        with pytest.raises(httpx2.ConnectError):
            api.model_info("Org/Vlm")
        # Hub unreachable: cached file and cached ref are used.
        assert hf_hub_download("Org/Vlm", "config.json", cache_dir=tmp_path, endpoint=endpoint, token=False) == path
        assert api.resolve_revision("Org/Vlm", cache_dir=tmp_path).resolved == sha
        assert hub.start() == endpoint  # same port: state kept
        assert api.model_info("Org/Vlm").sha == sha
    finally:
        hub.stop()


# ---------------------------------------------------------------------------------------------- stub itself
def test_unknown_paths_counts_and_reset(stub_hub):
    stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG})
    session = hf_http.get_session()
    assert session.get(f"{stub_hub.endpoint}/not/a/hub/url").status_code == 404
    assert session.post(f"{stub_hub.endpoint}/api/models/Org/Vlm/unknown", content=b"x").status_code == 404
    assert session.get(f"{stub_hub.endpoint}/api/datasets/Org/Vlm").status_code == 401
    r = session.get(f"{stub_hub.endpoint}/Org/Vlm/resolve/main/config.json", headers={"Range": "bytes=2-5"})
    assert r.status_code == 206 and r.content == CONFIG[2:6]
    assert stub_hub.count() == 4 and stub_hub.count("org/vlm") == 3 and stub_hub.count(method="POST") == 1
    assert stub_hub.count(path_contains="/resolve/") == 1
    stub_hub.reset_counts()
    assert stub_hub.count() == 0 and stub_hub.requests == []
    assert _api().model_info("Org/Vlm")  # repos survive reset_counts
    stub_hub.reset()
    with pytest.raises(RepositoryNotFoundError):
        _api().model_info("Org/Vlm")


def test_concurrent_requests_are_all_counted(stub_hub):
    stub_hub.add_repo("Org/Vlm", {"config.json": CONFIG})
    errors: list[BaseException] = []

    def worker():
        try:
            for _ in range(5):
                assert _api().model_info("org/vlm").id == "Org/Vlm"
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and stub_hub.count("Org/Vlm") == 40


def test_token_is_never_printed(stub_hub, tmp_path, capfd):
    stub_hub.add_repo("Org/Gated", {"config.json": CONFIG}, gated_tokens={"hf_secret_value"})
    hf_hub_download("Org/Gated", "config.json", cache_dir=tmp_path, token="hf_secret_value")
    with pytest.raises(GatedRepoError):
        hf_hub_download("Org/Gated", "config.json", cache_dir=tmp_path / "x", token="hf_wrong_value")
    out, err = capfd.readouterr()
    assert "hf_secret_value" not in out + err and "hf_wrong_value" not in out + err
    assert huggingface_hub.__version__.startswith("2.")
