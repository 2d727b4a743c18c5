"""Local models whose deciding files are not regular files: FIFOs, devices, symlinks to them.

Opening a FIFO for reading blocks until a writer appears, so one ``mkfifo config.json`` used to
hang a lookup forever. Only regular files are read, and every read is bounded in bytes.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from gguf_fixtures import write_projector, write_text_model

from vision_cache import Kind, VisionCache

DEADLINE = 20.0  # a verdict takes well under a second; a hang never ends


def _lookup_with_deadline(store: Path, target: Path, fifos: list[Path]):
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(VisionCache(directory=store, memory_ttl=0).lookup(str(target)))
        except Exception as exc:  # reported below, whatever it is
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(DEADLINE)
    if worker.is_alive():
        for fifo in fifos:  # open the write end so the blocked reader sees EOF and the thread ends
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        worker.join(DEADLINE)
        pytest.fail(f"the lookup of {target} blocked on a non-regular file")
    assert not isinstance(outcome[0], Exception), outcome[0]
    return outcome[0]


def test_fifo_config_and_fifo_projector_give_a_verdict(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    write_text_model(model / "model-q4.gguf")
    fifos = [model / "config.json", model / "mmproj-model-f16.gguf"]
    for fifo in fifos:
        os.mkfifo(fifo)
    verdict = _lookup_with_deadline(tmp_path / "store", model, fifos)
    assert verdict.kind is Kind.NOT_VISION
    assert "mmproj-model-f16.gguf" in verdict.evidence  # named, and not read


def test_fifo_config_without_gguf_gives_a_verdict(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    os.mkfifo(model / "config.json")
    verdict = _lookup_with_deadline(tmp_path / "store", model, [model / "config.json"])
    assert verdict.kind is Kind.NOT_VISION


def test_gguf_file_with_a_symlinked_fifo_projector_beside_it(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    weights = write_text_model(model / "model-q4.gguf")
    os.mkfifo(tmp_path / "pipe")
    (model / "mmproj-model-f16.gguf").symlink_to(tmp_path / "pipe")
    verdict = _lookup_with_deadline(tmp_path / "store", weights, [tmp_path / "pipe"])
    assert verdict.kind is Kind.NOT_VISION


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_devices_are_not_read(tmp_path):
    """A symlink to an endless device is refused, not read up to the byte limit."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").symlink_to("/dev/zero")
    write_text_model(model / "model-q4.gguf")
    (model / "mmproj-model-f16.gguf").symlink_to("/dev/zero")
    verdict = _lookup_with_deadline(tmp_path / "store", model, [])
    assert verdict.kind is Kind.NOT_VISION


def test_a_real_projector_still_counts_through_a_symlink(tmp_path):
    """Hugging Face cache snapshots are symlinks to blobs: regular files behind a symlink are read."""
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    write_projector(blobs / "abc123", vision=True, audio=False)
    model = tmp_path / "model"
    model.mkdir()
    write_text_model(model / "model-q4.gguf")
    (model / "mmproj-model-f16.gguf").symlink_to(blobs / "abc123")
    verdict = _lookup_with_deadline(tmp_path / "store", model, [])
    assert verdict.kind is Kind.VISION


def test_local_reads_are_bounded(tmp_path):
    from vision_cache.detect.files import read_regular

    huge = tmp_path / "sparse.gguf"
    with open(huge, "wb") as fh:
        fh.truncate(4 << 30)  # 4 GiB, sparse: costs nothing on disk
    size, head = read_regular(str(huge), 1 << 20)
    assert size == 4 << 30 and len(head) == 1 << 20
    os.mkfifo(tmp_path / "pipe")
    assert read_regular(str(tmp_path / "pipe"), 1 << 20) is None
