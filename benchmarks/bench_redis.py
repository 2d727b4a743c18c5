"""Issue 5's benchmark: a stored-verdict lookup through the Redis store, against a raw redis-py GET
of the same key, and against the disk store, as ratios from one run.

Needs the Redis server at 127.0.0.1:6379 (a unique key prefix is used and removed). Lookups are
by commit sha with the memory tier off, so each one reads the store once. Target: <= 1.3x a raw GET.

    python benchmarks/bench_redis.py [--calls 2000] [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid

from _common import interleaved_best, start_hub

MODEL = "AdaptLLM/food-Qwen2-VL-2B-Instruct"
REDIS_URL = "redis://127.0.0.1:6379/0"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    hub, work = start_hub([MODEL])

    import redis

    from vision_cache import VisionCache
    from vision_cache.ledger import Keys
    from vision_cache.target import ANONYMOUS, parse_subject

    prefix = f"vc-bench-{uuid.uuid4().hex}:"
    on_redis = VisionCache(directory=os.path.join(work, "local"), url=REDIS_URL, redis_prefix=prefix, memory_ttl=0)
    on_disk = VisionCache(directory=os.path.join(work, "disk"), memory_ttl=0)
    sha = on_redis.lookup(MODEL).commit_sha
    on_disk.lookup(MODEL)
    key = prefix + Keys.verdict(parse_subject(MODEL), sha, ANONYMOUS)
    client = redis.Redis.from_url(REDIS_URL)
    assert client.get(key) is not None
    try:
        timed = interleaved_best({"raw": lambda: client.get(key),
                                  "redis": lambda: on_redis.lookup(MODEL, revision=sha),
                                  "disk": lambda: on_disk.lookup(MODEL, revision=sha)}, args.calls, args.rounds)
        raw_get, redis_lookup, disk_lookup = timed["raw"], timed["redis"], timed["disk"]
    finally:
        for stale in client.scan_iter(match=prefix + "*"):
            client.delete(stale)
        client.close()
        hub.stop()
    report = {"raw_redis_get_us": raw_get * 1e6, "redis_store_lookup_us": redis_lookup * 1e6,
              "disk_store_lookup_us": disk_lookup * 1e6, "redis_vs_raw_get": redis_lookup / raw_get,
              "redis_vs_disk": redis_lookup / disk_lookup}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"raw redis-py GET of the key:    {report['raw_redis_get_us']:7.1f} us")
    print(f"lookup through the Redis store: {report['redis_store_lookup_us']:7.1f} us "
          f"= {report['redis_vs_raw_get']:.2f}x a raw GET (target <= 1.3x)")
    print(f"lookup through the disk store:  {report['disk_store_lookup_us']:7.1f} us "
          f"(Redis store = {report['redis_vs_disk']:.2f}x the disk store)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
