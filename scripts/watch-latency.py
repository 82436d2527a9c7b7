#!/usr/bin/env python3
"""Latency of `elixirscope watch` ([7]): on a copy of TREE, EDITS single-file edits (files up to
100 KB, one at a time, each waited for), the `elapsed_ms` of each `update` event (from the
settled batch to the event) and the wall time from the write to the event, as p50 and p95;
then the watching process's CPU over 10 idle seconds and its peak RSS.

    scripts/watch-latency.py BINARY TREE [EDITS [WATCH OPTIONS...]]   (e.g. 50 --no-cache)
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, threading, time, queue


def percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    binary, tree = sys.argv[1], sys.argv[2]
    edits = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    work = tempfile.mkdtemp(prefix="watch-latency-")
    copy = os.path.join(work, "tree")
    shutil.copytree(tree, copy, ignore=shutil.ignore_patterns(".elixirscope", "_build", "deps"))
    files = sorted(
        os.path.join(d, f) for d, _, fs in os.walk(copy) for f in fs
        if f.endswith(".ex") and os.path.getsize(os.path.join(d, f)) <= 100_000)
    process = subprocess.Popen(
        [binary, "watch", copy, "--format", "ndjson"] + sys.argv[4:],
        stdout=subprocess.PIPE, text=True)
    events = queue.Queue()
    threading.Thread(target=lambda: [events.put(json.loads(l)) for l in process.stdout],
                     daemon=True).start()

    def next_event(kind):
        while True:
            event = events.get(timeout=120)
            if event["type"] == kind:
                return event

    try:
        ready = next_event("ready")
        if "--no-cache" not in sys.argv[4:]:
            # The start writes the index and the query tables of the tree it loaded: the
            # edits begin once that is done, as a developer's do.
            first = next_event("indexed")["elapsed_ms"]
            print(f"first query tables written in {first} ms")
        elapsed, wall = [], []
        for n in range(edits):
            path = files[(n * 7919) % len(files)]
            with open(path, "a") as f:
                f.write(f"\n# edited by watch-latency {n}\n")
            written = time.perf_counter()
            update = next_event("update")
            wall.append((time.perf_counter() - written) * 1000)
            elapsed.append(update["elapsed_ms"])
        indexed = None
        if "--no-cache" not in sys.argv[4:]:
            # The index and its query tables are written once the tree is quiet: idle
            # starts after that.
            indexed = next_event("indexed")["elapsed_ms"]
            print(f"query tables written {indexed} ms after the tree went quiet (+2.5 s)")
        before = cpu_seconds(process.pid)
        time.sleep(10)
        idle = (cpu_seconds(process.pid) - before) / 10 * 100
        rss = int(next(l for l in open(f"/proc/{process.pid}/status") if l.startswith("VmHWM")).split()[1])
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(copy) for f in fs
                   if f.endswith((".ex", ".exs")))
        print(f"{len(files)} files ({size / 1e6:.1f} MB of Elixir); ready after {ready['elapsed_ms']} ms")
        print(f"update elapsed_ms (settled batch -> event): p50 {statistics.median(elapsed):.0f}, "
              f"p95 {percentile(elapsed, 95):.0f}; write -> event (incl. the 50 ms window): "
              f"p50 {statistics.median(wall):.0f} ms, p95 {percentile(wall, 95):.0f} ms")
        print(f"idle CPU {idle:.2f}% over 10 s; peak RSS {rss / 1024:.1f} MiB "
              f"({rss * 1024 / size:.1f}x the Elixir bytes)")
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
