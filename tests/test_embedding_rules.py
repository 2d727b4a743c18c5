"""The embedding rules (vision_cache/detect/embedding.py): Studio's rule, kept exactly.

Fixtures in tests/data/model_info are model-card tags and top-level file lists of real models at
a stated Hub commit, with the genuine modules.json of the three embedding models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from vision_cache.detect.embedding import RULES_VERSION, judge_embedding_info, judge_embedding_local

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import studio_baseline_audio as studio  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "model_info"
RECORDS = {p.stem: json.loads(p.read_text(encoding="utf-8"))
           for p in sorted(DATA.glob("*.json")) if not p.name.endswith(".modules.json")}


def test_there_are_embedding_and_non_embedding_records():
    answers = [r["expected_embedding"] for r in RECORDS.values()]
    assert answers.count(True) >= 3 and answers.count(False) >= 2


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_model_info_record(name):
    record = RECORDS[name]
    ours, evidence = judge_embedding_info(record["tags"], record["pipeline_tag"], record["library_name"])
    assert ours is record["expected_embedding"], evidence
    assert ours is record["studio_answer"] is studio.studio_is_embedding_info(record["tags"], record["pipeline_tag"])
    assert evidence.startswith("embedding" if ours else "not embedding")
    assert record["source"]["README.md"].startswith("https://huggingface.co/" + record["repo_id"] + "/blob/")


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_local_folder_record(name):
    """A local copy of the same repository: modules.json marks the embedding models."""
    record = RECORDS[name]
    names = record["top_level_files"]
    ours, evidence = judge_embedding_local(names)
    assert ours is record["expected_embedding"] is studio.studio_is_embedding_local(names), evidence
    if "modules_json" in record:
        text = (DATA / record["modules_json"]).read_text(encoding="utf-8")
        assert judge_embedding_local(names, text)[0] is True
        assert "Transformer" in judge_embedding_local(None, text)[1]


def test_the_tag_alone_catches_a_card_without_pipeline_tag():
    """multilingual-e5-large-instruct: no pipeline_tag, no feature-extraction tag in the card."""
    record = RECORDS["intfloat__multilingual-e5-large-instruct"]
    assert record["pipeline_tag"] is None and "feature-extraction" not in record["tags"]
    assert judge_embedding_info(record["tags"], None)[0] is True


@pytest.mark.parametrize(("tags", "pipeline_tag", "expected"), [
    ([], "feature-extraction", True),
    (None, "sentence-similarity", True),
    (["feature-extraction"], None, True),
    (["transformers", "safetensors", "text-generation"], "text-generation", False),
    ([], None, False),
])
def test_studio_rule_cases(tags, pipeline_tag, expected):
    assert judge_embedding_info(tags, pipeline_tag)[0] is expected
    assert studio.studio_is_embedding_info(tags, pipeline_tag) is expected


def test_library_name_is_reported_but_not_used():
    """The Hub lists the library among the tags, so library_name adds nothing to Studio's rule."""
    assert judge_embedding_info([], None, "sentence-transformers")[0] is False
    assert "library_name=sentence-transformers" in judge_embedding_info(["sentence-transformers"], None,
                                                                          "sentence-transformers")[1]


def test_reranker_quirk_is_kept():
    """Studio says True for a sentence-transformers cross-encoder (it carries the tag); kept."""
    assert judge_embedding_info(["sentence-transformers", "text-ranking"], "text-ranking")[0] is True


@pytest.mark.parametrize(("tags", "pipeline_tag"), [
    ("sentence-transformers", None), (b"feature-extraction", 5), ([None, 3, {"x": 1}], ["feature-extraction"]),
    ({"sentence-transformers": 1}, None), (42, object()), (iter(["feature-extraction"]), None),
])
def test_hostile_model_info_never_raises(tags, pipeline_tag):
    result, evidence = judge_embedding_info(tags, pipeline_tag, library_name=["x"])
    assert isinstance(result, bool) and isinstance(evidence, str)


def test_a_bare_string_tag_is_one_tag_not_characters():
    assert judge_embedding_info("sentence-transformers", None)[0] is True
    assert judge_embedding_info("feature-extractionx", None)[0] is False


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '{"a": 1}', "[1, 2]", "\ufeff[]", "[" * 50_000 + "]" * 50_000,
                                  b"\xff\xfe", 7])
def test_hostile_modules_json_never_raises_and_presence_decides(text):
    result, evidence = judge_embedding_local(["modules.json"], text)
    assert result is True and "modules.json present" in evidence


@pytest.mark.parametrize("names", [None, [], "modules.json", ["config.json"], [1, None], 3, {"modules.json": 1}])
def test_hostile_folder_listing_never_raises(names):
    result, _ = judge_embedding_local(names)
    assert result is (names in ("modules.json", {"modules.json": 1}))


def test_rules_version():
    assert isinstance(RULES_VERSION, str) and RULES_VERSION
