"""Issue 10's Redis benchmark: a stored-verdict lookup through the Redis store, by commit sha and by
revision name, against a raw redis-py ``GET`` + ``json.loads`` of the same key, as ratios of
contenders measured in alternation in one run.

Needs the Redis server at 127.0.0.1:6379 (a unique key prefix is used and removed). Lookups run
with the memory tier off (``memory_ttl=0``), so every one reads Redis: by sha one ``GET``; by
name, once the process knows the revision's alias, one ``GET`` too (the first lookup by name in a
process reads the alias with the denial in one ``MGET``, then the verdict). The disk store is
measured alongside for reference. Target: <= 1.3x a raw GET + json.loads, both paths.

Each contender's figure is its best mean over ``--rounds`` bursts of ``--calls`` calls: Redis on this
shared machine has bursts of latency, and short bursts, many of them, find its quiet moments alike
for every contender.

    python benchmarks/bench_redis.py [--calls 200] [--rounds 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid

from _common import interleaved_best, start_hub

MODELS = {"vision": "AdaptLLM/food-Qwen2-VL-2B-Instruct", "not_vision": "Qwen/Qwen3-8B"}
REDIS_URL = "redis://127.0.0.1:6379/0"


class RoundTrips:
    """Counts the commands redis-py sends (a pipeline or MGET is one round trip)."""

    def __init__(self, client) -> None:
        self.count = 0
        original = client.execute_command

        def counted(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        client.execute_command = counted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    hub, work = start_hub(list(MODELS.values()))

    import redis

    from vision_cache import VisionCache
    from vision_cache.ledger import Keys
    from vision_cache.target import ANONYMOUS, parse_subject

    prefix = f"vc-bench-{uuid.uuid4().hex}:"
    on_redis = VisionCache(directory=os.path.join(work, "local"), url=REDIS_URL, redis_prefix=prefix, memory_ttl=0)
    on_disk = VisionCache(directory=os.path.join(work, "disk"), memory_ttl=0)
    client = redis.Redis.from_url(REDIS_URL)
    contenders, trips = {}, {}
    try:
        for kind, model in MODELS.items():
            verdict = on_redis.lookup(model)
            assert verdict.kind.value == kind, verdict
            sha = verdict.commit_sha
            on_disk.lookup(model)
            key = prefix + Keys.verdict(parse_subject(model), sha, ANONYMOUS)
            assert json.loads(client.get(key))["kind"] == kind
            contenders[f"raw GET + json.loads ({kind})"] = lambda k=key: json.loads(client.get(k))
            contenders[f"redis store, {kind}, by commit sha"] = lambda m=model, s=sha: on_redis.lookup(m, revision=s)
            contenders[f"redis store, {kind}, by revision name"] = lambda m=model: on_redis.lookup(m)
            contenders[f"disk store, {kind}, by revision name"] = lambda m=model: on_disk.lookup(m)
        counter = RoundTrips(on_redis.store.primary._client)
        fresh = VisionCache(directory=os.path.join(work, "local"), url=REDIS_URL, redis_prefix=prefix, memory_ttl=0)
        fresh_counter = RoundTrips(fresh.store.primary._client)
        model, sha = MODELS["vision"], on_redis.lookup(MODELS["vision"]).commit_sha
        for label, call, count in (("by commit sha", lambda: on_redis.lookup(model, revision=sha), counter),
                                   ("by revision name", lambda: on_redis.lookup(model), counter),
                                   ("first by name in a process", lambda: fresh.lookup(model), fresh_counter)):
            before = count.count
            assert call().source.value == "store"
            trips[label] = count.count - before
        timed = interleaved_best(contenders, args.calls, args.rounds)
    finally:
        for stale in client.scan_iter(match=prefix + "*"):
            client.delete(stale)
        client.close()
        hub.stop()
    report = {"round_trips_per_lookup": trips, "lookups": {}}
    for kind in MODELS:
        raw = timed[f"raw GET + json.loads ({kind})"]
        report[f"raw_get_loads_us_{kind}"] = raw * 1e6
        for name, seconds in timed.items():
            if f", {kind}, " in name:
                report["lookups"][name] = {"us": seconds * 1e6, "ratio_to_raw": seconds / raw}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Redis round trips per lookup: {trips}")
    for kind in MODELS:
        print(f"{kind}: raw redis-py GET + json.loads of the key: {report[f'raw_get_loads_us_{kind}']:7.1f} us")
        for name, row in report["lookups"].items():
            if f", {kind}, " in name:
                print(f"  {name:40s} {row['us']:7.1f} us = {row['ratio_to_raw']:.2f}x")
    print("(target: <= 1.3x for the redis store rows; the disk store is for reference)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
