"""Issue 10's scaling benchmark: lookup time and bytes per verdict from 10,000 to 1,000,000 stored verdicts.

For the disk store and for Redis, the store grows through ``--sizes`` (10k, 100k, 1M verdicts, each
with its ``main`` alias: two entries per model), written in bulk through the store's own backend
(diskcache transactions, Redis pipelines; see benchmarks/_common.py), exactly as lookups store them.
At each size, with the memory tier off (``memory_ttl=0``), in alternation:

- **hot**: the same model again and again, by commit sha and by revision name (the ledger's
  memories of the record and the alias hit; the store is read every time);
- **spread**: a different, random model on every call, by commit sha and by revision name (every
  read is a new key: the name is parsed, and the record parsed and validated, each time);
- a raw read of a random verdict key (diskcache ``Cache.get``; redis-py ``GET`` + ``json.loads``).

Bytes per verdict: disk, the database file (after a checkpoint) over the number of models; Redis,
``used_memory`` growth over the number of models (each model is its verdict and its alias).
The 1M disk and Redis stores take about a minute each to write on this machine; the whole run
about 4 minutes. Redis keys live under a unique prefix, removed at the end (it needs about 1 GB).

    python benchmarks/bench_scaling.py [--sizes 10000,100000,1000000] [--backends disk,redis] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from pathlib import Path

from _common import bulk_entries, bulk_name, bulk_sha, bulk_write, interleaved_best, start_hub

REDIS_URL = "redis://127.0.0.1:6379/0"
DETECTOR = "bench-scaling"


class NeverCalled:
    fingerprint = DETECTOR

    def __call__(self, request):
        raise AssertionError(f"detected {request.subject}: every model measured is stored")


def measure(cache, raw_get, count: int, calls: int, rounds: int) -> dict:
    from vision_cache.ledger import Keys
    from vision_cache.target import ANONYMOUS, parse_subject

    rng = random.Random(count)
    picks = []  # (name, sha, verdict key): computed beforehand, so that no contender pays for it
    for i in (rng.randrange(count) for _ in range(calls * rounds * 4)):
        name = bulk_name(i)
        picks.append((name, bulk_sha(name), Keys.verdict(parse_subject(name), bulk_sha(name), ANONYMOUS)))
    position = [0]

    def spread() -> tuple[str, str, str]:
        position[0] = (position[0] + 1) % len(picks)
        return picks[position[0]]

    hot = bulk_name(count // 2 + 1)  # a vision model
    hot_sha = bulk_sha(hot)
    assert cache.lookup(hot, revision=hot_sha).source.value == "store"
    assert cache.lookup(hot).source.value == "store"
    assert cache.lookup(bulk_name(0)).kind.value == "not_vision"

    def spread_by_sha():
        name, sha, _ = spread()
        return cache.lookup(name, revision=sha)

    def spread_by_name():
        return cache.lookup(spread()[0])

    def raw_spread():
        return raw_get(spread()[2])

    timed = interleaved_best({
        "hot, by commit sha": lambda: cache.lookup(hot, revision=hot_sha),
        "hot, by revision name": lambda: cache.lookup(hot),
        "spread, by commit sha": spread_by_sha,
        "spread, by revision name": spread_by_name,
        "raw read of a random verdict key": raw_spread,
    }, calls, rounds)
    return {name: seconds * 1e6 for name, seconds in timed.items()}


def disk_bytes(folder: Path) -> int:
    import sqlite3

    db = sqlite3.connect(folder / "cache.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith("cache.db"))


def run_backend(backend: str, sizes: list[int], work: Path, calls: int, rounds: int) -> dict:
    import diskcache
    import redis

    from vision_cache import VisionCache

    prefix = f"vc-scaling-{uuid.uuid4().hex}:"
    kwargs = {"directory": work / f"store-{backend}", "detector": NeverCalled(), "memory_ttl": 0}
    if backend == "redis":
        kwargs.update(url=REDIS_URL, redis_prefix=prefix, directory=work / "redis-local-tier")
    writer = VisionCache(**kwargs)
    client = redis.Redis.from_url(REDIS_URL)
    base_memory = client.info("memory")["used_memory"]
    results, written = {}, 0
    try:
        for size in sizes:
            started = time.perf_counter()
            bulk_write(writer.store, bulk_entries(written, size, "custom/" + DETECTOR))
            write_seconds = time.perf_counter() - started
            written = size
            if backend == "disk":
                used = disk_bytes(Path(kwargs["directory"]))
                raw = diskcache.Cache(str(kwargs["directory"]))
                raw_get = raw.get
            else:
                used = client.info("memory")["used_memory"] - base_memory

                def raw_get(key):
                    return json.loads(client.get(prefix + key))

            cache = VisionCache(**kwargs)  # a process that starts with the store this big
            row = {"write_seconds": write_seconds, "bytes_per_verdict": used / size,
                   "lookup_us": measure(cache, raw_get, size, calls, rounds)}
            cache.close()
            if backend == "disk":
                raw.close()
            results[size] = row
            print(f"  {backend} {size:>9,}: written in {write_seconds:5.1f} s, {row['bytes_per_verdict']:6.0f} bytes "
                  f"per verdict (with its alias)", file=sys.stderr)
    finally:
        writer.close()
        if backend == "redis":
            batch = []
            for key in client.scan_iter(match=prefix + "*", count=5000):
                batch.append(key)
                if len(batch) >= 5000:
                    client.unlink(*batch)
                    batch = []
            if batch:
                client.unlink(*batch)
        client.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="disk,redis")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    hub, work = start_hub([])
    started = time.perf_counter()
    try:
        report = {backend: run_backend(backend, sizes, Path(work), args.calls, args.rounds)
                  for backend in args.backends.split(",")}
    finally:
        hub.stop()
    report["total_seconds"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for backend in args.backends.split(","):
        rows = report[backend]
        print(f"{backend}: microseconds per lookup (memory_ttl=0) and bytes per stored verdict")
        names = list(next(iter(rows.values()))["lookup_us"])
        print("  " + f"{'stored verdicts':34s}" + "".join(f"{size:>12,}" for size in rows))
        for name in names:
            print("  " + f"{name:34s}" + "".join(f"{rows[size]['lookup_us'][name]:12.1f}" for size in rows))
        print("  " + f"{'bytes per verdict (+ its alias)':34s}" +
              "".join(f"{rows[size]['bytes_per_verdict']:12.0f}" for size in rows))
    print(f"(whole run: {report['total_seconds']:.0f} s, including writing the stores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
