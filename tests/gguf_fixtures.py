"""Small GGUF files made with the real ``gguf`` writer: a text model and three kinds of projector.

llama.cpp keeps a multimodal model's image (or audio) encoder in a separate projector file
(``mmproj-*.gguf``) whose metadata says what it accepts; these fixtures carry exactly those keys.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_text_model(path: Path) -> Path:
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_block_count(1)
    writer.add_context_length(128)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    _finish(writer)
    return path


def write_projector(path: Path, *, vision: bool, audio: bool) -> Path:
    from gguf import GGUFType, GGUFWriter

    writer = GGUFWriter(str(path), "clip")
    writer.add_type(GGUFType.MMPROJ)
    writer.add_name("tiny-projector")
    writer.add_clip_has_vision_encoder(vision)
    writer.add_clip_has_audio_encoder(audio)
    if vision:
        writer.add_clip_projector_type("gemma3")
        writer.add_vision_image_size(224)
    if audio:
        writer.add_clip_projector_type("ultravox")
    writer.add_tensor("mm.input_projection.weight", np.zeros((8, 8), dtype=np.float32))
    _finish(writer)
    return path


def _finish(writer) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
