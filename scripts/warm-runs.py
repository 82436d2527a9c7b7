#!/usr/bin/env python3
"""Warm runs of `analyze --select all` and `parse` against `--no-cache`: 3 cold runs, one run
that fills the index, 7 warm runs on the unchanged tree and 7 after flipping an atom inside
a function body of one file (restored at the end). Medians, peak RSS.

    scripts/warm-runs.py BINARY CORPUS
"""
import subprocess, time, statistics, os, shutil, re, sys, resource
import sys
B = sys.argv[1]; C = sys.argv[2]
import tempfile
cache = tempfile.mkdtemp(prefix="warm-runs-")
def run(args):
    t=time.perf_counter()
    p=subprocess.run(["/usr/bin/time","-f","%M",B]+args+[C,"--jobs","2","--format","json","--output","/dev/null","--quiet"],capture_output=True,text=True)
    w=time.perf_counter()-t
    rss=int(p.stderr.strip().split("\n")[-1])/1024
    return w,rss
# a file with a function body to flip
target=None
for root,_,files in os.walk(C):
    for f in sorted(files):
        if f.endswith(".ex"):
            s=open(os.path.join(root,f)).read()
            if re.search(r"^\s+def \w+.* do\n", s, re.M):
                target=os.path.join(root,f); break
    if target: break
orig=open(target).read()
m=re.search(r"^(\s+def \w+.* do\n)", orig, re.M)
def flip(i):
    s=orig[:m.end()]+f"    _ = :flip_{i%2}\n"+orig[m.end():]
    open(target,"w").write(s)
cases=[("analyze",["analyze","--select","all","--fail-on","never"]),("parse",["parse"])]
out=[]
for name,args in cases:
    cold=[run(args+["--no-cache"]) for _ in range(3)]
    coldw=statistics.median(w for w,_ in cold)
    shutil.rmtree(cache,ignore_errors=True)
    fill=run(args+["--cache-dir",cache])
    warm=[run(args+["--cache-dir",cache]) for _ in range(7)]
    edits=[]
    for i in range(7):
        flip(i); edits.append(run(args+["--cache-dir",cache]))
    open(target,"w").write(orig); run(args+["--cache-dir",cache])
    for label,rs in [("unchanged",warm),("one body edit",edits)]:
        w=statistics.median(x for x,_ in rs); r=max(y for _,y in rs)
        line=f"{name} {label}: wall {w:.3f}s cold(--no-cache) {coldw:.3f}s ratio {w/coldw:.3f}x peakRSS {r:.1f}MiB fill {fill[0]:.2f}s"
        print(line,flush=True)
print("target",target)
