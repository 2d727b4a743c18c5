"""The warm start's reading of the local HF cache, proven against one written by ``hf_hub_download``."""

from __future__ import annotations

from pathlib import Path

from conftest import AUDIO, TEXT_LLM, VLM, config_bytes, publish

from vision_cache.warm import LocalSnapshot, local_snapshots


def _through_scan_cache_dir(cache_dir: Path) -> list[LocalSnapshot]:
    """What the warm start read before: huggingface_hub's own scanner (it stats every file)."""
    from huggingface_hub import scan_cache_dir

    info = scan_cache_dir(cache_dir)
    assert not info.warnings, info.warnings
    return sorted((LocalSnapshot(repo.repo_id, rev.commit_hash, tuple(sorted(rev.refs)))
                   for repo in info.repos if repo.repo_type == "model" for rev in repo.revisions),
                  key=lambda s: (s.repo_id, s.commit_sha))


def test_the_snapshots_found_are_those_huggingface_hub_finds(hub, tmp_path):
    from huggingface_hub import hf_hub_download

    cache_dir = tmp_path / "hf-cache"
    old = {m: publish(hub, m) for m in (VLM, TEXT_LLM, AUDIO)}
    new = hub.commit(VLM, {"config.json": config_bytes(VLM), "README.md": b"# v2\n"})  # main moves on
    branch = hub.commit(TEXT_LLM, {"config.json": config_bytes(TEXT_LLM)}, branch="dev")
    hub.tag(AUDIO, "v1.0", old[AUDIO])
    downloads = [(VLM, old[VLM]), (VLM, "main"), (TEXT_LLM, "main"), (TEXT_LLM, "dev"), (AUDIO, "v1.0"),
                 (AUDIO, "main")]
    for model, revision in downloads:
        for file in ("config.json", "README.md"):
            hf_hub_download(model, file, revision=revision, cache_dir=str(cache_dir), token=False)
    (cache_dir / "datasets--someone--data" / "snapshots" / ("d" * 40)).mkdir(parents=True)  # not a model

    found = local_snapshots(str(cache_dir))
    assert found == _through_scan_cache_dir(cache_dir)
    by_commit = {(s.repo_id, s.commit_sha): s.refs for s in found}
    assert by_commit == {
        (VLM, old[VLM]): (),
        (VLM, new): ("main",),
        (TEXT_LLM, old[TEXT_LLM]): ("main",),
        (TEXT_LLM, branch): ("dev",),
        (AUDIO, old[AUDIO]): ("main", "v1.0"),
    }


def test_what_scan_cache_dir_calls_corrupted_is_still_read_snapshot_by_snapshot(hub, tmp_path):
    """A stray file, a ref to a commit that is not cached: huggingface_hub drops the whole repo; the
    warm start lists the snapshots that are there (each is judged from its own files)."""
    from huggingface_hub import hf_hub_download

    cache_dir = tmp_path / "hf-cache"
    sha = publish(hub, VLM)
    hf_hub_download(VLM, "config.json", cache_dir=str(cache_dir), token=False)
    repo = cache_dir / ("models--" + VLM.replace("/", "--"))
    (repo / "snapshots" / ".DS_Store").write_bytes(b"\0")
    (repo / "snapshots" / "stray-file").write_text("x")
    (repo / "refs" / "gone").write_text("f" * 40)  # a ref to a commit that is not cached
    (cache_dir / "models--not-a-repo").write_text("a file")
    (cache_dir / "models--no--snapshots").mkdir()
    assert local_snapshots(str(cache_dir)) == [LocalSnapshot(VLM, sha, ("main",))]
    assert local_snapshots(str(tmp_path / "absent")) == []
