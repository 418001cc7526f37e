#!/usr/bin/env python3
"""Sums an `ncu --csv --metrics gpu__time_duration.sum,dram__bytes_read.sum` log per kernel
name: share of GPU time, DRAM bytes read, achieved bandwidth (docs/performance.md, profiling).

    python3 bench/ncu_summary.py ncu.csv [BANDWIDTH_GBS] > summary.txt
"""
import collections
import csv
import sys

rows = list(csv.DictReader(l for l in open(sys.argv[1]) if l.startswith('"')))
bw = float(sys.argv[2]) if len(sys.argv) > 2 else 3350.0
t = collections.defaultdict(float)
b = collections.defaultdict(float)
n = collections.Counter()
scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "nsecond": 1e-9, "usecond": 1e-6, "msecond": 1e-3, "second": 1.0,
         "byte": 1.0, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9}
ids = set()
for r in rows:
    name = r["Kernel Name"].split("(")[0].split("<")[0][:60]
    v = float(r["Metric Value"].replace(",", "")) * scale.get(r["Metric Unit"], 1.0)
    if r["Metric Name"] == "gpu__time_duration.sum":
        t[name] += v
        n[name] += 1
        ids.add(r["ID"])
    elif r["Metric Name"] == "dram__bytes_read.sum":
        b[name] += v
total_t, total_b = sum(t.values()), sum(b.values())
print(f"{len(ids)} kernels, {total_t * 1e3:.2f} ms GPU time, {total_b / 1e9:.3f} GB read, "
      f"{total_b / total_t / 1e9:.0f} GB/s = {100 * total_b / total_t / 1e9 / bw:.0f}% of {bw:.0f}")
print(f"{'kernel':<60} {'calls':>6} {'time %':>7} {'GB':>7} {'GB/s':>6}")
for k in sorted(t, key=t.get, reverse=True)[:15]:
    print(f"{k:<60} {n[k]:>6} {100 * t[k] / total_t:>7.1f} {b[k] / 1e9:>7.3f} "
          f"{b[k] / t[k] / 1e9 if t[k] else 0:>6.0f}")
