"""Side-by-side accuracy of Studio's current raw-config rules and ours, on the test corpus.

    python benchmarks/accuracy.py          # table + totals
    python benchmarks/accuracy.py --json   # the same, as JSON

The corpus is ``tests/data/configs/manifest.json`` (one genuine ``config.json`` per model, with
the expected verdict). Studio's rules are :mod:`studio_baseline`; ours are
``vision_cache.detect.detector.judge_config_bytes`` on the file's bytes.

Exit status: 0 when ours is strictly more accurate and gets right every model the baseline gets
right; 1 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from studio_baseline import studio_is_vision  # noqa: E402

from vision_cache.detect.detector import judge_config_bytes  # noqa: E402
from vision_cache.verdict import Kind  # noqa: E402

CORPUS_DIR = HERE.parent / "tests" / "data" / "configs"
VISION, NOT_VISION = "vision", "not_vision"


@dataclasses.dataclass(frozen=True)
class Row:
    repo_id: str
    expected: str
    studio: str
    ours: str
    evidence: str  # ours

    @property
    def studio_ok(self) -> bool:
        return self.studio == self.expected

    @property
    def ours_ok(self) -> bool:
        return self.ours == self.expected


def load_corpus(directory: Path = CORPUS_DIR) -> list[tuple[dict, bytes]]:
    """(manifest entry, config.json bytes) for every model of the corpus."""
    entries = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    return [(entry, (directory / entry["file"]).read_bytes()) for entry in entries]


def _studio_verdict(raw: bytes) -> str:
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return NOT_VISION  # Studio's raw reader gives up (None); is_vision_model then answers False
    return VISION if studio_is_vision(config) else NOT_VISION


def evaluate(corpus: list[tuple[dict, bytes]] | None = None) -> list[Row]:
    rows = []
    for entry, raw in (load_corpus() if corpus is None else corpus):
        detection = judge_config_bytes(raw)
        ours = VISION if detection.kind is Kind.VISION else NOT_VISION
        rows.append(Row(entry["repo_id"], entry["expected"], _studio_verdict(raw), ours, detection.evidence))
    return rows


def _rates(rows: list[Row], which: str) -> dict:
    said = [(r.expected, getattr(r, which)) for r in rows]
    pos = [s for e, s in said if e == VISION]
    neg = [s for e, s in said if e == NOT_VISION]
    correct = sum(1 for e, s in said if e == s)
    return {
        "correct": correct,
        "total": len(said),
        "accuracy": correct / len(said) if said else 0.0,
        "vlm_recall": sum(1 for s in pos if s == VISION) / len(pos) if pos else 0.0,
        "non_vlm_specificity": sum(1 for s in neg if s == NOT_VISION) / len(neg) if neg else 0.0,
    }


def summarize(rows: list[Row]) -> dict:
    studio, ours = _rates(rows, "studio"), _rates(rows, "ours")
    return {
        "models": len(rows),
        "vlms": sum(1 for r in rows if r.expected == VISION),
        "non_vlms": sum(1 for r in rows if r.expected == NOT_VISION),
        "studio": studio,
        "ours": ours,
        "fixed_by_ours": [r.repo_id for r in rows if not r.studio_ok and r.ours_ok],
        "regressions": [r.repo_id for r in rows if r.studio_ok and not r.ours_ok],
        "both_wrong": [r.repo_id for r in rows if not r.studio_ok and not r.ours_ok],
        "strictly_better": ours["correct"] > studio["correct"],
    }


def passed(summary: dict) -> bool:
    return summary["strictly_better"] and not summary["regressions"]


def _print_table(rows: list[Row], summary: dict) -> None:
    width = max(len(r.repo_id) for r in rows)
    header = f"{'repo_id':<{width}}  {'expected':<10}  {'studio':<12}  {'ours':<12}  evidence (ours)"
    print(header)
    print("-" * len(header))
    for r in rows:
        studio = r.studio + ("" if r.studio_ok else " X")
        ours = r.ours + ("" if r.ours_ok else " X")
        print(f"{r.repo_id:<{width}}  {r.expected:<10}  {studio:<12}  {ours:<12}  {r.evidence}")
    print()
    print(f"{summary['models']} models ({summary['vlms']} VLMs, {summary['non_vlms']} non-VLMs); X = wrong")
    for name in ("studio", "ours"):
        s = summary[name]
        print(f"{name:>6}: accuracy {s['correct']}/{s['total']} = {s['accuracy']:.1%}, "
              f"VLM recall {s['vlm_recall']:.1%}, non-VLM specificity {s['non_vlm_specificity']:.1%}")
    for key, title in (("fixed_by_ours", "Studio wrong, ours right"),
                       ("regressions", "REGRESSIONS (Studio right, ours wrong)"),
                       ("both_wrong", "both wrong")):
        print(f"{title} ({len(summary[key])}): {', '.join(summary[key]) or '-'}")
    print("PASS: ours is strictly better with no regression" if passed(summary)
          else "FAIL: ours is not strictly better, or has a regression")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print rows and totals as JSON")
    args = parser.parse_args(argv)
    rows = evaluate()
    summary = summarize(rows)
    if args.json:
        print(json.dumps({"rows": [dataclasses.asdict(r) for r in rows], "summary": summary}, indent=2))
    else:
        _print_table(rows, summary)
    return 0 if passed(summary) else 1


if __name__ == "__main__":
    sys.exit(main())
