#!/usr/bin/env python3
"""Warm latency of `elixirscope query`, whole process (start to exit), over 24 representative
queries (entities, graph questions, structural patterns, SQL): p50 and p95 per query and over
all of them, the slowest run, and the peak RSS.

    scripts/query-latency.py BINARY CORPUS [RUNS]

The index lives in a scratch folder; two untimed queries (`modules count`, `findings count`)
fill it first, so every timed run is warm: the tree does not change between runs. Each
query's first run is timed too, and it is the one that may build what the index lacks (the
other query tables, the call sites of a pattern's files): that cost is in the p95.
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

QUERIES = [
    "modules count",
    "functions count",
    "modules where kind = genserver and not has_moduledoc",
    "functions where complexity > 5 order by complexity desc limit 10",
    "functions where arity > 4 select signature, arity",
    "functions where callers = 0 and public and not entry_point count",
    "clauses where nesting > 2 count",
    'calls where callee ~ "Repo" count',
    "calls where target = unknown count",
    'calls where name = "to_atom" select file, line, callee',
    "references where kind = struct count",
    "dependencies where label = compile count",
    "files where status != ok",
    'modules where name ~ "Controller$" select name, file',
    "functions where doc = absent and public count",
    "cycles",
    "cycles label compile",
    "findings where severity = warning count",
    "modules order by fan_in desc limit 5",
    "functions where kind = defmacro select signature",
    "pattern 'Repo.get($S, $ID)'",
    "pattern 'Enum.map($L, $F)' count",
    "callers of Accounts.Repo.get/2 depth 2",
    "--sql SELECT module, count(*) AS n FROM functions GROUP BY module ORDER BY n DESC LIMIT 5",
]


def percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def main():
    binary, corpus = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    cache = tempfile.mkdtemp(prefix="query-latency-")
    try:
        base = [binary, "query", "--cache-dir", cache, "--format", "json", "--output", "/dev/null", "-q"]
        for query in ("modules count", "findings count"):  # fill the index (facts, findings)
            subprocess.run(base[:2] + [query, corpus] + base[2:], check=True)
        every, rss = [], 0
        print("| query | p50 | p95 |\n|---|---:|---:|")
        for query in QUERIES:
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                words = query.split(" ", 1) if query.startswith("--sql ") else [query]
                done = subprocess.run(
                    ["/usr/bin/time", "-f", "%M"] + base[:2] + words + [corpus] + base[2:],
                    capture_output=True, text=True)
                times.append(time.perf_counter() - start)
                if done.returncode != 0:
                    sys.exit(f"{query}: exit {done.returncode}: {done.stderr}")
                rss = max(rss, int(done.stderr.strip().splitlines()[-1]))
            every.extend(times)
            print(f"| `{query}` | {statistics.median(times)*1000:.0f} ms | {percentile(times, 95)*1000:.0f} ms |")
        print(f"\nall {len(every)} runs: p50 {statistics.median(every)*1000:.0f} ms, "
              f"p95 {percentile(every, 95)*1000:.0f} ms, slowest {max(every)*1000:.0f} ms; "
              f"peak RSS {rss/1024:.1f} MiB")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
